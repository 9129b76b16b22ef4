// Package grafana builds Everywhere Fulfilment's Grafana dashboard (Fulfilment,
// committed as fulfilment.json) with Grafana's Foundation SDK, over the
// Prometheus metrics the worker and the starter export (docs/observability.md).
// `make grafana` writes the JSON (./generate); the test keeps the file equal to
// what Fulfilment builds, parses it back with the SDK's strict decoder and every
// query with Prometheus' PromQL parser, and checks each metric name against
// deploy/prometheus' list of exported names. It is a module of its own so that the
// SDK and the Prometheus parser stay out of the main module's go.mod.
package grafana
