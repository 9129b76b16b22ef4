// Package workflows holds OrderFulfilment, the one workflow per order, with its
// input, result and message types, message names, search-attribute keys and
// WorkflowID. Code here is deterministic (checked by workflowcheck): it imports only
// the Temporal SDK, domain (the order, its stages, touchpoints and validation) and
// activities, for activity types and their request structs.
package workflows
