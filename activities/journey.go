package activities

import (
	"context"
	"fmt"
	"time"
)

// Journey entry kinds.
const (
	EntryStage        = "stage"
	EntryNotification = "notification"
	EntryStaffAction  = "staff_action"
	// EntryAttention marks the order as needing a person; the projection's
	// needs_attention follows it.
	EntryAttention = "attention"
)

// StageChange records that an order entered a stage. Order carries the projection
// fields so the orders table is kept in step in the same transaction.
type StageChange struct {
	Order OrderSummary `json:"order"`
	Stage string       `json:"stage"`
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
}

// JourneyStore keeps the customer journey and the orders projection. Both methods
// are idempotent: a stage is recorded once per order, an entry once per key.
type JourneyStore interface {
	RecordStage(ctx context.Context, c StageChange) error
	RecordEntry(ctx context.Context, e JourneyEntry) error
}

// Journey groups the activities that write the customer journey.
type Journey struct{ Store JourneyStore }

// RecordStage records a stage change in the journey and the orders projection.
func (a *Journey) RecordStage(ctx context.Context, c StageChange) error {
	if err := a.Store.RecordStage(ctx, c); err != nil {
		return classify(fmt.Errorf("record stage %s of order %s: %w", c.Stage, c.Order.OrderID, err))
	}
	return nil
}

// RecordJourney records a journey entry that is not a stage change.
func (a *Journey) RecordJourney(ctx context.Context, e JourneyEntry) error {
	if err := a.Store.RecordEntry(ctx, e); err != nil {
		return classify(fmt.Errorf("record journey %s of order %s: %w", e.Key, e.OrderID, err))
	}
	return nil
}
