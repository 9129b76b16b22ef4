package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/everywherecommerce/fulfilment/domain"
)

// Journey entry kinds.
const (
	EntryStage        = "stage"
	EntryNotification = "notification"
	EntryStaffAction  = "staff_action"
	// EntryAttention marks the order as needing a person; the projection's
	// needs_attention follows it.
	EntryAttention = "attention"
	// EntryAttentionResolved clears it again (support unlocked a pickup).
	EntryAttentionResolved = "attention_resolved"
)

// StageChange records that an order entered a stage. Order carries the projection
// fields so the orders table is kept in step in the same transaction.
type StageChange struct {
	Order OrderSummary `json:"order"`
	Stage domain.Stage `json:"stage"`
	// At is the workflow's time of the change (workflow.Now), not the activity's.
	At    time.Time `json:"at"`
	Actor string    `json:"actor,omitempty"`
	Note  string    `json:"note,omitempty"`
}

// JourneyEntry is any other touchpoint in the customer's journey.
type JourneyEntry struct {
	OrderID string `json:"order_id"`
	Kind    string `json:"kind"`
	// Key makes the entry idempotent: the same (order, key) is recorded once.
	Key    string    `json:"key"`
	Detail string    `json:"detail,omitempty"`
	Actor  string    `json:"actor,omitempty"`
	At     time.Time `json:"at"`
	// Pickup, while the order waits in the store, carries the handover's facts
	// into the projection with the entry (in the same transaction).
	Pickup *PickupFacts `json:"pickup,omitempty"`
	// Stage is the order's stage when the entry was made (the workflow's, which
	// may be ahead of the projection's while a transition is being recorded).
	Stage domain.Stage `json:"stage,omitempty"`
	// View, when the workflow sends one, updates the projection's live fields
	// (attention, problem, lock, carrier status) in the same transaction; the
	// fields that go with a stage are left to RecordStage.
	View *OrderView `json:"view,omitempty"`
}

// PickupFacts are what staff's work list shows of a handover, as the workflow
// (their one owner) has them.
type PickupFacts struct {
	// Deadline is the pickup deadline, extensions included.
	Deadline time.Time `json:"deadline"`
	// WrongCodes is the count of wrong codes since the order was ready or last
	// unlocked.
	WrongCodes int `json:"wrong_codes"`
}

// JourneyStore keeps the customer journey and the orders projection. Both methods
// are idempotent: a stage is recorded once per order, an entry once per key.
type JourneyStore interface {
	RecordStage(ctx context.Context, c StageChange) error
	RecordEntry(ctx context.Context, e JourneyEntry) error
}

// StageEntry is one stage entered, at the workflow's time, by whom and why.
type StageEntry struct {
	Stage domain.Stage `json:"stage"`
	At    time.Time    `json:"at"`
	Actor string       `json:"actor,omitempty"`
	Note  string       `json:"note,omitempty"`
}

// Progress is one transition of an order: the stages it entered and the
// bookkeeping that goes with them. Every part is idempotent, so Advance can be
// retried from any point.
type Progress struct {
	Order  OrderSummary `json:"order"`
	Stages []StageEntry `json:"stages"`
	// Label, when set, is bought first (Shipping.BuyLabel: one label per order and
	// purpose) and the view's shipment filled in from it, so that a transfer's label
	// and its in-transit stage cost one activity.
	Label *BuyLabelRequest `json:"label,omitempty"`
	// PickTask, when set, is put on the location's pick list.
	PickTask *PickTask `json:"pick_task,omitempty"`
	// Pick, when set, closes the pick task with what staff confirmed.
	Pick *PickResult `json:"pick,omitempty"`
	// Release, when set, returns stock (absolute targets; empty lines: all of it).
	Release *ReleaseStockRequest `json:"release,omitempty"`
	// Consume turns what is still reserved into a sale.
	Consume bool `json:"consume,omitempty"`
	// CancelPickTask closes the order's pick task if it is still open (a
	// cancelled order leaves the pick list).
	CancelPickTask bool `json:"cancel_pick_task,omitempty"`
	// Notify are the touchpoints' messages, sent after the bookkeeping.
	Notify []NotifyRequest `json:"notify,omitempty"`
	// PlanAfter, when set, asks for the first time at or after the last stage's time
	// plus PlanAfter outside the customer's quiet hours (for the review request).
	PlanAfter time.Duration `json:"plan_after,omitempty"`
	// QuietHours are the customer's, from the order's policy.
	QuietHours QuietHours      `json:"quiet_hours"`
	Customer   domain.Customer `json:"customer"`
}

// AdvanceResult reports the messages and the planned time.
type AdvanceResult struct {
	Label    *Label         `json:"label,omitempty"`
	Notified []NotifyResult `json:"notified,omitempty"`
	PlanAt   time.Time      `json:"plan_at,omitempty"`
}

// Journey groups the activities that move an order's record forward: the journey,
// the orders projection, pick tasks and stock bookkeeping in PostgreSQL, and the
// customer's messages for each step.
type Journey struct {
	Store         JourneyStore
	Tasks         PickStore
	Stock         StockStore
	Notifications *Notifications
	// Labels buys a Progress's label (the Shipping activities).
	Labels LabelBuyer
	// Metrics counts stages entered and orders flagged (nil: NoMetrics).
	Metrics Metrics
}

// LabelBuyer buys an order's shipping label, once per order and purpose.
type LabelBuyer interface {
	BuyLabel(ctx context.Context, req BuyLabelRequest) (Label, error)
}

// Advance records one transition of the order and tells the customer about it.
// One activity per transition (not one per write) keeps an order near 20 Temporal
// Actions; each write is idempotent, so a retry after a crash between any two of
// them ends in the same state, and each message is guarded by its notifications row.
// The stages are recorded last, after the messages: what staff see in the
// projection never runs ahead of what the customer has been told (a stage shows
// once its message was sent, or recorded as failed or skipped).
func (a *Journey) Advance(ctx context.Context, p Progress) (AdvanceResult, error) {
	id := p.Order.OrderID
	var res AdvanceResult
	if p.Label != nil {
		if a.Labels == nil {
			return AdvanceResult{}, classify(fmt.Errorf("buy label for order %s: no label buyer configured", id))
		}
		label, err := a.Labels.BuyLabel(ctx, *p.Label)
		if err != nil {
			return AdvanceResult{}, err // already classified
		}
		res.Label = &label
		if p.Order.View != nil {
			v := *p.Order.View // the workflow's snapshot was taken before the label
			v.Shipment = &ShipmentView{Carrier: label.Carrier, Service: label.Service, TrackingCode: label.TrackingCode, TrackingURL: label.TrackingURL}
			p.Order.View = &v
		}
	}
	if p.PickTask != nil {
		if err := a.Tasks.CreatePickTask(ctx, *p.PickTask); err != nil {
			return AdvanceResult{}, classify(fmt.Errorf("create pick task for order %s: %w", id, err))
		}
	}
	if p.Pick != nil {
		if err := a.Tasks.CompletePickTask(ctx, *p.Pick); err != nil {
			return AdvanceResult{}, classify(fmt.Errorf("record pick for order %s: %w", id, err))
		}
	}
	if p.Release != nil {
		if err := a.Stock.Release(ctx, id, p.Release.Lines); err != nil {
			return AdvanceResult{}, classify(fmt.Errorf("release stock for order %s: %w", id, err))
		}
	}
	if p.Consume {
		if err := a.Stock.Consume(ctx, id); err != nil {
			return AdvanceResult{}, classify(fmt.Errorf("consume stock for order %s: %w", id, err))
		}
	}
	if p.CancelPickTask {
		if err := a.Tasks.CancelPickTask(ctx, id); err != nil {
			return AdvanceResult{}, classify(fmt.Errorf("cancel pick task of order %s: %w", id, err))
		}
	}
	for _, n := range p.Notify {
		n.QuietHours = p.QuietHours
		r, err := a.Notifications.NotifyCustomer(ctx, n)
		if err != nil {
			return AdvanceResult{}, err // already classified
		}
		res.Notified = append(res.Notified, r...)
	}
	for _, st := range p.Stages {
		fresh, err := recordStage(ctx, a.Store, StageChange{Order: p.Order, Stage: st.Stage, At: st.At, Actor: st.Actor, Note: st.Note})
		if err != nil {
			return AdvanceResult{}, classify(fmt.Errorf("record stage %s of order %s: %w", st.Stage, id, err))
		}
		if fresh {
			countStage(a.Metrics, p.Order.Method, st.Stage, st.Note)
		}
	}
	if p.PlanAfter > 0 && len(p.Stages) > 0 {
		res.PlanAt = OutsideQuietHours(p.Stages[len(p.Stages)-1].At.Add(p.PlanAfter), p.Customer.TimeZone, p.QuietHours)
	}
	return res, nil
}

// ReviewResult says whether the review request went out.
type ReviewResult struct {
	Sent    bool   `json:"sent"`
	Skipped string `json:"skipped,omitempty"`
}

// RequestReview sends the review request if the customer's marketing consent holds
// now, and records the order's last stages: review_requested and completed, or
// completed with the reason the request was skipped.
func (a *Journey) RequestReview(ctx context.Context, order OrderSummary, req NotifyRequest, at time.Time) (ReviewResult, error) {
	req.Marketing = true
	sent, err := a.Notifications.NotifyCustomer(ctx, req)
	if err != nil {
		return ReviewResult{}, err // already classified
	}
	var n NotifyResult // marketing goes by email only: one result
	if len(sent) > 0 {
		n = sent[0]
	}
	stages := []StageEntry{{Stage: domain.StageReviewRequested, At: at}, {Stage: domain.StageCompleted, At: at}}
	if n.Skipped != "" {
		stages = []StageEntry{{Stage: domain.StageCompleted, At: at, Note: "review request skipped: " + n.Skipped}}
	}
	for _, st := range stages {
		fresh, err := recordStage(ctx, a.Store, StageChange{Order: order, Stage: st.Stage, At: st.At, Note: st.Note})
		if err != nil {
			return ReviewResult{}, classify(fmt.Errorf("record stage %s of order %s: %w", st.Stage, order.OrderID, err))
		}
		if fresh {
			countStage(a.Metrics, order.Method, st.Stage, st.Note)
		}
	}
	return ReviewResult{Sent: n.Skipped == "", Skipped: n.Skipped}, nil
}

// RecordJourney records a journey entry that is not a stage change.
func (a *Journey) RecordJourney(ctx context.Context, e JourneyEntry) error {
	fresh, err := recordEntry(ctx, a.Store, e)
	if err != nil {
		return classify(fmt.Errorf("record journey %s of order %s: %w", e.Key, e.OrderID, err))
	}
	if fresh && e.Kind == EntryAttention {
		reason := AttentionReason(e.Detail)
		metricsOr(a.Metrics).Attention(reason)
		if reason == "locked" {
			metricsOr(a.Metrics).Pickup("locked")
		}
	}
	return nil
}

// Tell records a journey entry (support's resend and who asked; a carrier's
// problem) and sends the message; a resend's number gives it keys of its own.
func (a *Journey) Tell(ctx context.Context, e JourneyEntry, req NotifyRequest) ([]NotifyResult, error) {
	if err := a.Store.RecordEntry(ctx, e); err != nil {
		return nil, classify(fmt.Errorf("record journey %s of order %s: %w", e.Key, e.OrderID, err))
	}
	return a.Notifications.NotifyCustomer(ctx, req)
}

// PickStarted records that staff started the order's pick (the pick task and the
// journey say who and when) and tells the customer that their order is being
// packed.
func (a *Journey) PickStarted(ctx context.Context, e JourneyEntry, req NotifyRequest) ([]NotifyResult, error) {
	if err := a.Tasks.StartPickTask(ctx, e.OrderID, e.Actor, e.At); err != nil {
		return nil, classify(fmt.Errorf("start pick of order %s: %w", e.OrderID, err))
	}
	return a.Tell(ctx, e, req)
}
