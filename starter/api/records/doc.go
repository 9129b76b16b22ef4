// Package records holds the starter's words for what its HTTP API reads and
// writes in the database: who an API token speaks for, an order's row in the
// orders projection (with its view and journey for the order's page) and the
// order list's filter, a store's work list, a customer's contact preferences,
// and what the sandbox shows at /dev/outbox and /dev/tracking.
//
// They belong to the starter, whose port (api.Store) speaks them, and they live
// in this leaf package rather than in package api because the adapter that
// implements the port (adapters/postgres) has to return them and must not import
// the HTTP package. Nothing here does I/O or imports an adapter.
package records
