package activities

import "time"

// Method is how an order reaches the customer.
type Method string

// Fulfilment methods. Their values appear in the API, in PostgreSQL and in the
// FulfilmentMethod search attribute, so they never change.
const (
	MethodShipToStore  Method = "ship_to_store"
	MethodHomeDelivery Method = "home_delivery"
)

// Line is one order line. UnitPrice is in minor units of the order's currency.
type Line struct {
	SKU       string `json:"sku"`
	Name      string `json:"name"`
	Quantity  int    `json:"quantity"`
	UnitPrice int64  `json:"unit_price"`
}

// Total is the line's price in minor units.
func (l Line) Total() int64 { return int64(l.Quantity) * l.UnitPrice }

// Address is a postal address. It is personal data: never log it.
type Address struct {
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	PostalCode string `json:"postal_code"`
	City       string `json:"city"`
	Country    string `json:"country"`
}

// Customer is who ordered and how to reach them. Marketing consent is not part of
// it on purpose: it is read from PostgreSQL at send time, never from the checkout.
type Customer struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Email    string `json:"email"`
	Phone    string `json:"phone,omitempty"`
	Locale   string `json:"locale"`
	TimeZone string `json:"time_zone"`
}

// PickedLine is what staff confirmed for one SKU.
type PickedLine struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// OrderSummary is what the orders projection in PostgreSQL keeps about an order so
// that stores and support can list orders without querying workflows.
type OrderSummary struct {
	OrderID    string    `json:"order_id"`
	CustomerID string    `json:"customer_id"`
	Method     Method    `json:"method"`
	StoreID    string    `json:"store_id,omitempty"`
	LocationID string    `json:"location_id,omitempty"`
	Total      int64     `json:"total"`
	Currency   string    `json:"currency"`
	PlacedAt   time.Time `json:"placed_at"`
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
