// Package activities holds the order fulfilment activities, grouped in structs by
// capability (Inventory, Payments, Picking, Shipping, Notifications, Journey), the
// port interfaces those activities need from the outside world, and the one place
// where provider errors are classified as retryable or not.
//
// Nothing here imports a provider SDK, net/http or the adapters: adapters implement
// the ports, and worker/main.go wires them in.
package activities
