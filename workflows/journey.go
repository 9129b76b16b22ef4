package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

// JourneyItem is one entry of the order's journey as the status query shows it.
type JourneyItem struct {
	Kind  string       `json:"kind"`
	Stage domain.Stage `json:"stage,omitempty"`
	Note  string       `json:"note,omitempty"`
	Actor string       `json:"actor,omitempty"`
	At    time.Time    `json:"at"`
}

// enter moves the order to a stage and refreshes the Web UI's current details.
// The stage is written to PostgreSQL, and the search attributes upserted, by the
// next advance together with that transition's other bookkeeping: one upsert
// command per transition, carrying the latest stage and any extra attributes (such
// as the pickup deadline). A stage passed within one workflow task (picked on the
// way to ready_for_pickup) is in the journey but never costs an upsert of its own.
func (f *fulfilment) enter(ctx workflow.Context, stage domain.Stage, actor, note string, extra ...temporal.SearchAttributeUpdate) {
	now := workflow.Now(ctx)
	f.stage, f.since = stage, now
	if stage == domain.StagePicking {
		f.pickDue = now.Add(f.in.Policy.PickingSLA)
	}
	f.next.stages = append(f.next.stages, activities.StageEntry{Stage: stage, At: now, Actor: actor, Note: note})
	f.journey = append(f.journey, JourneyItem{Kind: activities.EntryStage, Stage: stage, Note: note, Actor: actor, At: now})
	f.next.attrs = append(f.next.attrs, extra...)
	f.describe(ctx, "")
}

// upsertStage upserts the current stage and the attributes collected since the
// last upsert, in one command.
func (f *fulfilment) upsertStage(ctx workflow.Context) error {
	updates := append([]temporal.SearchAttributeUpdate{stageAttribute(f.stage)}, f.next.attrs...)
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		return fmt.Errorf("upsert search attributes for stage %s: %w", f.stage, err)
	}
	f.next.attrs = nil
	return nil
}

func stageAttribute(s domain.Stage) temporal.SearchAttributeUpdate {
	return temporal.NewSearchAttributeKeyKeyword(AttrOrderStage).ValueSet(string(s))
}

// advance records the stages entered since the last call and the transition's
// bookkeeping (with anything carried over from the previous step, such as a pick
// result) in one Journey.Advance activity, which also sends its messages.
func (f *fulfilment) advance(ctx workflow.Context, summary string, p activities.Progress) (activities.AdvanceResult, error) {
	if len(f.next.stages) > 0 {
		if err := f.upsertStage(ctx); err != nil {
			return activities.AdvanceResult{}, err
		}
	}
	res, err := f.journeyAdvance(ctx, journeyStep(summary), summary, p)
	if err != nil {
		return res, fmt.Errorf("%s: %w", summary, err)
	}
	return res, nil
}

// journeyAdvance completes p with what the transition carries (f.next: its
// stages before p's own, a pick result, a stock release, messages), runs one
// Journey.Advance as step s, and takes its result in: the messages sent, those
// skipped in the journey, and a fresh transition (keeping attributes not yet
// upserted). p.Order is the order's summary unless the caller set it.
func (f *fulfilment) journeyAdvance(ctx workflow.Context, s step, summary string, p activities.Progress) (activities.AdvanceResult, error) {
	if p.Order.OrderID == "" {
		p.Order = f.summary()
	}
	p.Stages = append(append([]activities.StageEntry(nil), f.next.stages...), p.Stages...)
	p.Customer, p.QuietHours = f.in.Order.Customer, f.in.Policy.QuietHours
	if p.Pick == nil {
		p.Pick = f.next.pick
	}
	if p.Release == nil {
		p.Release = f.next.release
	}
	p.Notify = append(append([]activities.NotifyRequest(nil), f.next.notify...), p.Notify...)
	var j *activities.Journey
	var res activities.AdvanceResult
	_, err := f.attempt(ctx, s, func(ctx workflow.Context) error {
		return workflow.ExecuteActivity(f.options(ctx, summary), j.Advance, p).Get(ctx, &res)
	})
	if err != nil {
		return res, err
	}
	f.next = transition{attrs: f.next.attrs}
	for _, n := range p.Notify {
		f.messages.notices[n.Touchpoint] = n
	}
	for _, n := range res.Notified {
		if n.Skipped != "" {
			f.journey = append(f.journey, JourneyItem{Kind: activities.EntryNotification, Note: n.Key + " skipped: " + n.Skipped, At: workflow.Now(ctx)})
		}
	}
	return res, nil
}

// flag marks the order as needing a person: the NeedsAttention search attribute,
// the projection and the journey all say why.
func (f *fulfilment) flag(ctx workflow.Context, reason string) error {
	f.attention.flaggedOther = true
	return f.setAttention(ctx, true, reason, "")
}

func (f *fulfilment) setAttention(ctx workflow.Context, needs bool, reason, actor string) error {
	now := workflow.Now(ctx)
	f.attention.reason = ""
	if needs {
		f.attention.reason = reason
	}
	kind := activities.EntryAttention
	if !needs {
		kind = activities.EntryAttentionResolved
	}
	f.journey = append(f.journey, JourneyItem{Kind: kind, Stage: f.stage, Note: reason, Actor: actor, At: now})
	if f.attention.raised != needs {
		f.attention.raised = needs
		if err := workflow.UpsertTypedSearchAttributes(ctx, temporal.NewSearchAttributeKeyBool(AttrNeedsAttention).ValueSet(needs)); err != nil {
			return fmt.Errorf("upsert NeedsAttention: %w", err)
		}
	}
	f.describe(ctx, reason)
	var j *activities.Journey
	err := workflow.ExecuteActivity(activityOptions(ctx, "journey: "+reason), j.RecordJourney, activities.JourneyEntry{
		OrderID: f.in.Order.OrderID, Kind: kind, Key: fmt.Sprintf("%s:%s:%d", kind, f.stage, len(f.journey)),
		Detail: reason, Actor: actor, At: now, Pickup: f.pickupFacts(), Stage: f.stage, View: f.view(),
	}).Get(ctx, nil)
	if err != nil {
		return fmt.Errorf("record %q: %w", reason, err)
	}
	return nil
}

// note records a staff or support action in the journey (who did what).
func (f *fulfilment) note(ctx workflow.Context, what, actor string) error {
	now := workflow.Now(ctx)
	f.journey = append(f.journey, JourneyItem{Kind: activities.EntryStaffAction, Stage: f.stage, Note: what, Actor: actor, At: now})
	var j *activities.Journey
	err := workflow.ExecuteActivity(activityOptions(ctx, "journey: "+what), j.RecordJourney, activities.JourneyEntry{
		OrderID: f.in.Order.OrderID, Kind: activities.EntryStaffAction, Key: fmt.Sprintf("staff:%d", len(f.journey)),
		Detail: what, Actor: actor, At: now, Pickup: f.pickupFacts(), Stage: f.stage, View: f.view(),
	}).Get(ctx, nil)
	if err != nil {
		return fmt.Errorf("record %q: %w", what, err)
	}
	return nil
}

// describe sets the Web UI's current details: where the order is, what it waits
// for and until when.
func (f *fulfilment) describe(ctx workflow.Context, attention string) {
	o, p := f.in.Order, f.in.Policy
	at := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }
	text := fmt.Sprintf("**Stage:** %s · %s\n\n", f.stage, f.money(f.payment.captured-f.payment.refunded)+" paid")
	switch f.stage {
	case domain.StagePicking:
		text += fmt.Sprintf("**Next:** staff at %s confirm the pick (update `%s`) by %s (picking SLA).", f.locationID, UpdateCompletePick, at(f.pickDue))
	case domain.StageInTransitToStore:
		text += fmt.Sprintf("**Next:** %s confirms the parcel's arrival (update `%s`) or the carrier reports it delivered; promised ready %s, overdue after %s.",
			o.StoreID, UpdateConfirmArrival, at(*f.promised), at(f.since.Add(p.TransferTimeout)))
	case domain.StageReadyForPickup:
		text += fmt.Sprintf("**Next:** the customer collects at %s with the pickup code (update `%s`) by %s; %d of %d reminders sent.",
			o.StoreID, UpdateCompletePickup, at(f.pickup.deadline), f.pickup.reminded, len(f.pickup.reminders))
		if f.pickup.locked {
			text += " **Handover locked** after wrong codes: support unlocks (update `" + UpdateUnlockPickup + "`)."
		}
	case domain.StageShipped:
		text += fmt.Sprintf("**Next:** the carrier reports delivery (signal `%s`) by %s.", SignalCarrierEvent, at(f.since.Add(p.DeliveryTimeout)))
	case domain.StagePickedUp, domain.StageDelivered:
		text += fmt.Sprintf("**Next:** review request at %s (if marketing consent holds then).", at(f.since.Add(p.ReviewDelay)))
	}
	if f.attention.raised {
		text += "\n\n**Needs attention**"
		if attention == "" {
			attention = f.attention.reason
		}
		if attention != "" {
			text += ": " + attention
		}
	}
	if f.attention.problem != nil && f.attention.problem.Waiting {
		text += fmt.Sprintf("\n\n**Waiting for support** since %s: update `%s` (or `POST /v1/orders/%s/resolve`) with action %v.",
			at(f.attention.problem.Since), UpdateResolve, o.OrderID, f.attention.problem.Actions)
	}
	workflow.SetCurrentDetails(ctx, text)
}
