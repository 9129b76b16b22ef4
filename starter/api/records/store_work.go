package records

import (
	"github.com/everywherecommerce/fulfilment/domain"
	"time"
)

// StoreWork is a store's work list for the store console: orders to pick there,
// parcels on their way to it, orders waiting for their customer, and those among
// them whose pickup deadline has passed (Overdue: the order is about to go back,
// so it is not in ReadyForPickup too). GET /v1/stores/{store}/work answers with it.
type StoreWork struct {
	StoreID        string      `json:"store_id"`
	Picking        []WorkOrder `json:"picking"`
	Arriving       []WorkOrder `json:"arriving"`
	ReadyForPickup []WorkOrder `json:"ready_for_pickup"`
	Overdue        []WorkOrder `json:"overdue"`
	// AsOf is the database's time the list was read at; Overdue is judged by it.
	AsOf time.Time `json:"as_of"`
}

// WorkOrder is one order on a store's work list. Only orders waiting for their
// customer carry the customer's name: staff search by it at the counter, and the
// pickup code proves the customer.
type WorkOrder struct {
	OrderID string        `json:"order_id"`
	Stage   domain.Stage  `json:"stage"`
	Method  domain.Method `json:"method"`
	// Lines are the ordered lines; for an order waiting for its customer, what was
	// picked (a short pick hands over less).
	Lines []domain.Line `json:"lines"`
	// DueAt is when picking should be done; nil when the order has no pick task.
	DueAt *time.Time `json:"due_at,omitempty"`
	// ExpectedAt is when a parcel on its way is expected: the ready time promised
	// at checkout.
	ExpectedAt *time.Time `json:"expected_at,omitempty"`
	// PickStartedBy and PickStartedAt say who started an open pick (start-pick).
	PickStartedBy string     `json:"pick_started_by,omitempty"`
	PickStartedAt *time.Time `json:"pick_started_at,omitempty"`
	// TrackingCode is the store-transfer parcel's, so staff can match a scan.
	TrackingCode   string    `json:"tracking_code,omitempty"`
	NeedsAttention bool      `json:"needs_attention"`
	UpdatedAt      time.Time `json:"updated_at"`

	// CustomerName, PickupDeadline and FailedPickups are set for orders waiting
	// for their customer only.
	CustomerName   string     `json:"customer_name,omitempty"`
	PickupDeadline *time.Time `json:"pickup_deadline,omitempty"`
	// FailedPickups is the count of wrong pickup codes; the API turns it into the
	// attempts left, as it owns the limit.
	FailedPickups int `json:"-"`
	// AttemptsLeft and Locked are filled by the API from FailedPickups.
	AttemptsLeft *int  `json:"attempts_left,omitempty"`
	Locked       *bool `json:"locked,omitempty"`
}
