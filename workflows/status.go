package workflows

import (
	"time"

	"github.com/everywherecommerce/fulfilment/domain"
)

// LineStatus is one order line with what was picked (nil until staff confirmed).
type LineStatus struct {
	SKU       string `json:"sku"`
	Name      string `json:"name"`
	Ordered   int    `json:"ordered"`
	Picked    *int   `json:"picked,omitempty"`
	UnitPrice int64  `json:"unit_price"`
}

// ShipmentStatus is the order's current parcel.
type ShipmentStatus struct {
	Carrier      string `json:"carrier"`
	Service      string `json:"service"`
	TrackingCode string `json:"tracking_code"`
	TrackingURL  string `json:"tracking_url"`
	Status       string `json:"status,omitempty"`
}

// Status is the order view returned by the status query.
type Status struct {
	OrderID        string          `json:"order_id"`
	Stage          domain.Stage    `json:"stage"`
	Method         domain.Method   `json:"method"`
	StoreID        string          `json:"store_id,omitempty"`
	LocationID     string          `json:"location_id,omitempty"`
	Currency       string          `json:"currency"`
	Total          int64           `json:"total"`
	Captured       int64           `json:"captured"`
	Refunded       int64           `json:"refunded"`
	Lines          []LineStatus    `json:"lines"`
	Shipment       *ShipmentStatus `json:"shipment,omitempty"`
	PickupDeadline *time.Time      `json:"pickup_deadline,omitempty"`
	// PromisedReadyAt is the ready time promised at checkout (ship to store).
	PromisedReadyAt *time.Time `json:"promised_ready_at,omitempty"`
	// PickupLocked is true after too many wrong codes, until support unlocks.
	PickupLocked bool `json:"pickup_locked"`
	// WrongPickupCodes counts the wrong codes since the order was ready or last
	// unlocked; at MaxWrongPickupCodes the handover locks.
	WrongPickupCodes int `json:"wrong_pickup_codes,omitempty"`
	// PickupCode is always masked: the code exists only in the customer's message
	// (the workflow keeps the nonce it is derived from).
	PickupCode     string `json:"pickup_code,omitempty"`
	NeedsAttention bool   `json:"needs_attention"`
	// AttentionReason says why the order needs a person, while it does.
	AttentionReason string `json:"attention_reason,omitempty"`
	// Problem is the step that gave up: support settles it with the resolve
	// update when Waiting (the step retries by itself otherwise).
	Problem *Problem      `json:"problem,omitempty"`
	Journey []JourneyItem `json:"journey"`
}

// maskedPickupCode stands in for an issued pickup code in the status query.
const maskedPickupCode = "••••••"

func (f *fulfilment) status() (Status, error) {
	o := f.in.Order
	s := Status{
		OrderID: o.OrderID, Stage: f.stage, Method: o.Method, StoreID: o.StoreID, LocationID: f.locationID,
		Currency: o.Currency, Total: o.Total(), Captured: f.payment.captured, Refunded: f.payment.refunded,
		NeedsAttention: f.attention.raised, Journey: append([]JourneyItem(nil), f.journey...),
		PromisedReadyAt: f.promised, PickupLocked: f.pickup.locked, AttentionReason: f.attention.reason,
		WrongPickupCodes: f.pickup.wrongCodes,
	}
	if f.attention.problem != nil {
		p := *f.attention.problem
		p.Actions = append([]ResolveAction(nil), p.Actions...)
		s.Problem = &p
	}
	picked := map[string]int{}
	if f.pick != nil {
		for _, l := range f.pick.Lines {
			picked[l.SKU] = l.Quantity
		}
	}
	for _, l := range o.Lines {
		ls := LineStatus{SKU: l.SKU, Name: l.Name, Ordered: l.Quantity, UnitPrice: l.UnitPrice}
		if f.pick != nil {
			q := picked[l.SKU]
			ls.Picked = &q
		}
		s.Lines = append(s.Lines, ls)
	}
	if f.shipping.label != nil {
		s.Shipment = &ShipmentStatus{Carrier: f.shipping.label.Carrier, Service: f.shipping.label.Service,
			TrackingCode: f.shipping.label.TrackingCode, TrackingURL: f.shipping.label.TrackingURL, Status: f.shipping.status}
	}
	if !f.pickup.deadline.IsZero() {
		d := f.pickup.deadline
		s.PickupDeadline = &d
	}
	if f.pickup.codeHash != "" || f.pickup.codeNonce != "" {
		s.PickupCode = maskedPickupCode
	}
	return s, nil
}
