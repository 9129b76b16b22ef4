package activities

import (
	"time"

	"github.com/everywherecommerce/fulfilment/domain"
)

// OrderSummary is what the orders projection in PostgreSQL keeps about an order so
// that stores and support can list orders without querying workflows.
type OrderSummary struct {
	OrderID    string        `json:"order_id"`
	CustomerID string        `json:"customer_id"`
	Method     domain.Method `json:"method"`
	StoreID    string        `json:"store_id,omitempty"`
	LocationID string        `json:"location_id,omitempty"`
	Total      int64         `json:"total"`
	Currency   string        `json:"currency"`
	PlacedAt   time.Time     `json:"placed_at"`
	// CustomerName lets store staff find a ready order by the name the customer
	// gives at the counter. Personal data: never log it.
	CustomerName string `json:"customer_name,omitempty"`
	// PromisedReadyAt is the ready time promised at checkout: when a store expects
	// a ship-to-store parcel. Nil when nothing was promised.
	PromisedReadyAt *time.Time `json:"promised_ready_at,omitempty"`
	// PickupDeadline is when an uncollected ready order goes back; nil before ready.
	PickupDeadline *time.Time `json:"pickup_deadline,omitempty"`
	// NeedsAttention and AttentionReason are the workflow's flag at the time of
	// the change, so that the projection never loses a flag raised before its row
	// existed.
	NeedsAttention  bool   `json:"needs_attention,omitempty"`
	AttentionReason string `json:"attention_reason,omitempty"`
}
