// Package activities holds the order fulfilment activities — Checkout (stock and
// capture in one step), Payments (refunds, voids), Shipping (labels) and Journey
// (each transition's bookkeeping and the customer's messages, through
// Notifications) — the port interfaces they need from the outside world, the
// business rules they apply (reservation choice, promised ready time, quiet
// hours), and the one place where provider errors are classified as retryable
// or not. Few, coarse activities keep an order near 20 Temporal Actions.
//
// The order's vocabulary (Order, Line, Customer, Stage, Touchpoint, Channel) lives
// in domain, which activities and workflows both import. Nothing here imports a
// provider SDK, net/http or the adapters: adapters implement the ports, and
// worker/main.go wires them in.
package activities
