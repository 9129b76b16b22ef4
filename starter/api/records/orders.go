package records

import (
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

// OrderRow is an order's row in the orders projection: what the order list, the
// store console and support read without asking Temporal. The JSON names are
// the API's.
type OrderRow struct {
	activities.OrderSummary
	Stage          domain.Stage `json:"stage"`
	NeedsAttention bool         `json:"needs_attention"`
	UpdatedAt      time.Time    `json:"updated_at"`
}

// OrderDetail is everything the projection holds about one order, for
// GET /v1/orders/{id}: its row, with the workflow's view of it (OrderRow.View; nil
// while no stage has written one, e.g. for a row older than the view), the wrong
// pickup codes counted, and its journey (each entry with the order's stage when
// it was made).
type OrderDetail struct {
	OrderRow
	WrongPickupCodes int
	Journey          []activities.JourneyEntry
}

// OrderFilter selects orders from the projection for GET /v1/orders. Empty
// strings and a nil NeedsAttention match every order.
type OrderFilter struct {
	Stage domain.Stage
	// StoreID matches orders picked up at the store or fulfilled from it (store_id
	// or location_id): the orders a staff token of that store may read.
	StoreID        string
	CustomerID     string
	NeedsAttention *bool
	// After continues a list after this order (exclusive); nil starts with the newest.
	After *OrderCursor
	// Limit is the most rows returned; the caller bounds it.
	Limit int
}

// OrderCursor is a position in the order list: the sort key of the last order of
// a page. Its JSON is what the API's opaque next_cursor encodes, so renaming a
// tag breaks the cursors clients hold.
type OrderCursor struct {
	PlacedAt time.Time `json:"placed_at"`
	OrderID  string    `json:"order_id"`
}
