package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/everywherecommerce/fulfilment/activities"
)

// homeDelivery buys a label to the customer's address, tells them how to track it
// and follows carrier events until delivery. Exceptions and a delivery timeout
// make the order need attention; the wait for delivery goes on.
func (f *fulfilment) homeDelivery(ctx workflow.Context) error {
	o := f.in.Order
	label, err := f.buyLabel(ctx, activities.BuyLabelRequest{
		OrderID: o.OrderID, Purpose: activities.PurposeHomeDelivery,
		FromLocationID: f.locationID, To: *o.Address, Items: o.Items(),
	})
	if err != nil {
		return err
	}
	f.track(ctx, label)
	if f.cancelReq != nil {
		return f.cancelRequested(ctx) // the label is unused: cancel voids it
	}
	f.cancelDone = true // shipped: too late to cancel
	if err := f.enter(ctx, StageShipped, "", ""); err != nil {
		return err
	}
	_, err = f.advance(ctx, "shipped: stock sold, tracking link", activities.Progress{
		Consume: true,
		Notify:  []activities.NotifyRequest{f.message(activities.TouchShipped, map[string]string{"carrier": label.Carrier, "tracking_url": label.TrackingURL})},
	})
	if err != nil {
		return err
	}
	delivered := func() bool { return f.shipmentStatus == CarrierDelivered }
	late, err := f.waitFor(ctx, f.in.Policy.DeliveryTimeout, "delivery timeout", delivered)
	if err != nil {
		return err
	}
	if late {
		if err := f.flag(ctx, "delivery overdue"); err != nil {
			return err
		}
		if _, err := f.waitFor(ctx, 0, "", delivered); err != nil {
			return err
		}
	}
	if err := f.enter(ctx, StageDelivered, "carrier", ""); err != nil {
		return err
	}
	res, err := f.advance(ctx, "delivered: confirmation", activities.Progress{
		PlanAfter: f.in.Policy.ReviewDelay,
		Notify:    []activities.NotifyRequest{f.message(activities.TouchDelivered, nil)},
	})
	f.reviewAt = res.PlanAt
	return err
}

// requestReview waits until the review is due (the policy's delay after handover
// or delivery, moved out of the customer's quiet hours), then asks for a review if
// marketing consent holds at that moment; the activity records the last stages.
func (f *fulfilment) requestReview(ctx workflow.Context) error {
	if wait := f.reviewAt.Sub(workflow.Now(ctx)); wait > 0 {
		timer := workflow.NewTimerWithOptions(ctx, wait, workflow.TimerOptions{Summary: "review request"})
		if err := timer.Get(ctx, nil); err != nil {
			return err
		}
	}
	var j *activities.Journey
	var res activities.ReviewResult
	now := workflow.Now(ctx)
	byHand, err := f.attempt(ctx, step{name: "review request", also: []ResolveAction{ResolveSkip}}, func(ctx workflow.Context) error {
		return workflow.ExecuteActivity(f.options(ctx, "review request (if consent holds)"), j.RequestReview,
			f.summary(), f.message(activities.TouchReviewRequest, nil), now).Get(ctx, &res)
	})
	if err != nil {
		return err
	}
	if byHand {
		res = activities.ReviewResult{Skipped: "skipped by support"}
	}
	note := ""
	if res.Sent {
		f.journey = append(f.journey, JourneyItem{Kind: activities.EntryStage, Stage: StageReviewRequested, At: now})
	} else {
		note = "review request skipped: " + res.Skipped
	}
	f.stage = StageCompleted
	f.journey = append(f.journey, JourneyItem{Kind: activities.EntryStage, Stage: StageCompleted, Note: note, At: now})
	return workflow.UpsertTypedSearchAttributes(ctx, stageAttribute(StageCompleted))
}
