package activities

import (
	"time"

	"github.com/everywherecommerce/fulfilment/domain"
)

// OrderSummary is what the orders projection in PostgreSQL keeps about an order so
// that stores and support can list and read orders without querying workflows.
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
	// View is the rest of what the order's page shows, as the workflow has it;
	// nil from workflow code older than migration 012 (the projection then keeps
	// what it has).
	View *OrderView `json:"view,omitempty"`
}

// OrderView is the workflow's snapshot of what GET /v1/orders/{id} shows beyond
// the summary, carried into the orders projection so that an order is read from
// PostgreSQL (no Temporal Action) instead of by the status query (one Action).
//
// Its fields fall in two groups. Those that go with a stage (money, lines, the
// parcel, the pickup code) are written only with a stage (RecordStage), which
// Journey.Advance records after the stage's messages: the projection never shows
// them ahead of what the customer was told. The live ones (attention, problem,
// handover lock, carrier status) are written with every stage and with every
// journey entry that carries a view, the newest Seq winning.
type OrderView struct {
	// Seq numbers the workflow's snapshots in the order it took them. Activities
	// of one order run concurrently (an update's journal entry beside the run's
	// advance), so the projection keeps the live fields of the highest Seq.
	Seq int64 `json:"seq"`

	// Captured and Refunded are the money so far, in minor units.
	Captured int64 `json:"captured"`
	Refunded int64 `json:"refunded"`
	// Lines are the ordered lines with what was picked.
	Lines []LineView `json:"lines"`
	// Shipment is the order's current parcel; nil before a label was bought. Its
	// Status is live, the label's details go with the stage.
	Shipment *ShipmentView `json:"shipment,omitempty"`
	// PickupCodeIssued is true once the customer was sent a pickup code (the
	// code itself is never stored: the API shows it masked).
	PickupCodeIssued bool `json:"pickup_code_issued,omitempty"`

	// NeedsAttention and AttentionReason are the workflow's flag and its reason.
	NeedsAttention  bool   `json:"needs_attention,omitempty"`
	AttentionReason string `json:"attention_reason,omitempty"`
	// PickupLocked is true after too many wrong pickup codes, until support unlocks.
	PickupLocked bool `json:"pickup_locked,omitempty"`
	// Problem is the step that gave up; nil while none did.
	Problem *ProblemView `json:"problem,omitempty"`
}

// LineView is one order line as the order's page shows it: the same fields as
// workflows.LineStatus, so that either converts to the other.
type LineView struct {
	SKU       string `json:"sku"`
	Name      string `json:"name"`
	Ordered   int    `json:"ordered"`
	Picked    *int   `json:"picked,omitempty"`
	UnitPrice int64  `json:"unit_price"`
}

// ShipmentView is the order's current parcel: the same fields as
// workflows.ShipmentStatus. Status is the last carrier status the workflow was
// told (delivered, failure, return_to_sender).
type ShipmentView struct {
	Carrier      string `json:"carrier"`
	Service      string `json:"service"`
	TrackingCode string `json:"tracking_code"`
	TrackingURL  string `json:"tracking_url"`
	Status       string `json:"status,omitempty"`
}

// ProblemView is a step of the order that gave up (workflows.Problem): what, why,
// since when, whether it waits for support, and the decisions it allows.
type ProblemView struct {
	Step    string    `json:"step"`
	Reason  string    `json:"reason"`
	Since   time.Time `json:"since"`
	Waiting bool      `json:"waiting"`
	Actions []string  `json:"actions,omitempty"`
}
