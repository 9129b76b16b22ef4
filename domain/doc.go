// Package domain holds the order's vocabulary shared by workflows, activities,
// adapters and the starter: the order as the checkout service sends it (Order,
// Line, Customer, Address, Method), what staff picked (PickedLine), the stages of
// its lifecycle (Stage), the moments and channels by which the customer hears from
// us (Touchpoint, Channel), and the pure rules that say whether an order, an ID,
// an email address, a phone number or a locale is well formed (ValidateOrder and
// the Valid* helpers).
//
// It has no dependency on Temporal, pgx or HTTP, so that every layer can name
// these things the same way without importing the layer above it. Values of its
// types travel in Temporal payloads, recorded histories, PostgreSQL rows and the
// API: their JSON names and string values never change.
package domain
