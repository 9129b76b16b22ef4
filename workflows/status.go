package workflows

import (
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

// LineStatus is one order line with what was picked (nil until staff confirmed).
// Its fields are those of activities.LineView, the projection's copy.
type LineStatus struct {
	SKU       string `json:"sku"`
	Name      string `json:"name"`
	Ordered   int    `json:"ordered"`
	Picked    *int   `json:"picked,omitempty"`
	UnitPrice int64  `json:"unit_price"`
}

// ShipmentStatus is the order's current parcel (activities.ShipmentView in the
// projection).
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

// MaskedPickupCode stands in for an issued pickup code in the order's view (the
// status query and the projection read alike).
const MaskedPickupCode = "••••••"

// status is the status query's answer: the order's view and its journey. It
// only reads the state (a query must never change it).
func (f *fulfilment) status() (Status, error) {
	s := f.currentStatus()
	s.Journey = append([]JourneyItem(nil), f.journey...)
	return s, nil
}

// currentStatus is the order's view without the journey, as both the status
// query and the projection (view) show it.
func (f *fulfilment) currentStatus() Status {
	o := f.in.Order
	s := Status{
		OrderID: o.OrderID, Stage: f.stage, Method: o.Method, StoreID: o.StoreID, LocationID: f.locationID,
		Currency: o.Currency, Total: o.Total(), Captured: f.payment.captured, Refunded: f.payment.refunded,
		NeedsAttention: f.attention.raised, PromisedReadyAt: f.promised, PickupLocked: f.pickup.locked,
		AttentionReason: f.attention.reason, WrongPickupCodes: f.pickup.wrongCodes,
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
		s.PickupCode = MaskedPickupCode
	}
	return s
}

// view is the snapshot of the order's view that the projection keeps (see
// activities.OrderView), taken for every stage and journey entry the workflow
// records. Each snapshot takes the next sequence number, so the projection can
// tell the newest of two written concurrently. Only the run and the update and
// signal handlers take snapshots, never the query: the count is part of the
// replayed state.
func (f *fulfilment) view() *activities.OrderView {
	f.viewSeq++
	s := f.currentStatus()
	v := &activities.OrderView{
		Seq: f.viewSeq, Captured: s.Captured, Refunded: s.Refunded, PickupCodeIssued: s.PickupCode != "",
		NeedsAttention: s.NeedsAttention, AttentionReason: s.AttentionReason, PickupLocked: s.PickupLocked,
	}
	for _, l := range s.Lines {
		v.Lines = append(v.Lines, activities.LineView(l))
	}
	if s.Shipment != nil {
		sh := activities.ShipmentView(*s.Shipment)
		v.Shipment = &sh
	}
	if p := s.Problem; p != nil {
		v.Problem = &activities.ProblemView{Step: p.Step, Reason: p.Reason, Since: p.Since, Waiting: p.Waiting}
		for _, a := range p.Actions {
			v.Problem.Actions = append(v.Problem.Actions, string(a))
		}
	}
	return v
}
