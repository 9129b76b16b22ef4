package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/everywherecommerce/fulfilment/activities"
)

// JourneyItem is one entry of the order's journey as the status query shows it.
type JourneyItem struct {
	Kind  string    `json:"kind"`
	Stage Stage     `json:"stage,omitempty"`
	Note  string    `json:"note,omitempty"`
	Actor string    `json:"actor,omitempty"`
	At    time.Time `json:"at"`
}

// setStage moves the order to a stage: the search attributes are upserted in one
// command (with any extra updates, such as the pickup deadline), the Web UI's
// current details refreshed, and the change recorded in PostgreSQL.
func (f *fulfilment) setStage(ctx workflow.Context, stage Stage, actor, note string, extra ...temporal.SearchAttributeUpdate) error {
	now := workflow.Now(ctx)
	f.stage = stage
	f.journey = append(f.journey, JourneyItem{Kind: activities.EntryStage, Stage: stage, Note: note, Actor: actor, At: now})
	updates := append([]temporal.SearchAttributeUpdate{
		temporal.NewSearchAttributeKeyKeyword(AttrOrderStage).ValueSet(string(stage)),
	}, extra...)
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		return fmt.Errorf("upsert search attributes for stage %s: %w", stage, err)
	}
	f.describe(ctx, "")
	var j *activities.Journey
	err := workflow.ExecuteActivity(activityOptions(ctx, "journey: "+string(stage)), j.RecordStage, activities.StageChange{
		Order: f.summary(), Stage: string(stage), At: now, Actor: actor, Note: note,
	}).Get(ctx, nil)
	if err != nil {
		return fmt.Errorf("record stage %s: %w", stage, err)
	}
	return nil
}

// flag marks the order as needing a person: the NeedsAttention search attribute,
// the projection and the journey all say why.
func (f *fulfilment) flag(ctx workflow.Context, reason string) error {
	now := workflow.Now(ctx)
	f.journey = append(f.journey, JourneyItem{Kind: activities.EntryAttention, Stage: f.stage, Note: reason, At: now})
	if !f.needsAttention {
		f.needsAttention = true
		if err := workflow.UpsertTypedSearchAttributes(ctx, temporal.NewSearchAttributeKeyBool(AttrNeedsAttention).ValueSet(true)); err != nil {
			return fmt.Errorf("upsert NeedsAttention: %w", err)
		}
	}
	f.describe(ctx, reason)
	var j *activities.Journey
	err := workflow.ExecuteActivity(activityOptions(ctx, "needs attention: "+reason), j.RecordJourney, activities.JourneyEntry{
		OrderID: f.in.Order.OrderID, Kind: activities.EntryAttention,
		Key: fmt.Sprintf("attention:%s:%d", f.stage, len(f.journey)), Detail: reason, At: now,
	}).Get(ctx, nil)
	if err != nil {
		return fmt.Errorf("record attention %q: %w", reason, err)
	}
	return nil
}

// describe sets the Web UI's current details: where the order is and what it is
// waiting for.
func (f *fulfilment) describe(ctx workflow.Context, attention string) {
	o := f.in.Order
	text := fmt.Sprintf("**Stage:** %s\n\n", f.stage)
	switch f.stage {
	case StagePicking:
		text += fmt.Sprintf("**Next:** staff at %s confirm the pick (update `%s`) within %s.", f.locationID, UpdateCompletePick, f.in.Policy.PickingSLA)
	case StageInTransitToStore:
		text += fmt.Sprintf("**Next:** %s confirms the parcel's arrival (update `%s`) or the carrier reports it delivered.", o.StoreID, UpdateConfirmArrival)
	case StageReadyForPickup:
		text += fmt.Sprintf("**Next:** the customer collects at %s with the pickup code (update `%s`) by %s.", o.StoreID, UpdateCompletePickup, f.deadline.UTC().Format(time.RFC3339))
	case StageShipped:
		text += fmt.Sprintf("**Next:** the carrier reports delivery (signal `%s`); last status %q.", SignalCarrierEvent, f.shipmentStatus)
	case StagePickedUp, StageDelivered:
		text += fmt.Sprintf("**Next:** review request after %s.", f.in.Policy.ReviewDelay)
	}
	if f.needsAttention {
		text += "\n\n**Needs attention**"
		if attention != "" {
			text += ": " + attention
		}
	}
	workflow.SetCurrentDetails(ctx, text)
}

// notify sends a touchpoint's message. A message that cannot be sent is recorded
// by the activity and logged here; it never fails the order.
func (f *fulfilment) notify(ctx workflow.Context, tp activities.Touchpoint, facts map[string]string) {
	var n *activities.Notifications
	req := activities.NotifyRequest{
		OrderID: f.in.Order.OrderID, Touchpoint: tp, Customer: f.in.Order.Customer,
		StoreID: f.in.Order.StoreID, Facts: facts,
	}
	if tp == activities.TouchReadyForPickup {
		req.Deadline = f.deadline
	}
	if err := workflow.ExecuteActivity(activityOptions(ctx, "notify: "+string(tp)), n.NotifyCustomer, req).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("notification not sent", "order_id", f.in.Order.OrderID, "touchpoint", tp, "error", err)
	}
}
