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
	if err := f.consumeStock(ctx); err != nil {
		return err
	}
	if err := f.setStage(ctx, StageShipped, "", ""); err != nil {
		return err
	}
	f.notify(ctx, activities.TouchShipped, map[string]string{"carrier": label.Carrier, "tracking_url": label.TrackingURL})

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
	if err := f.setStage(ctx, StageDelivered, "carrier", ""); err != nil {
		return err
	}
	f.notify(ctx, activities.TouchDelivered, nil)
	return nil
}

// requestReview waits the policy's review delay after handover or delivery, then
// asks for a review. The activity checks marketing consent at send time and skips
// (recording why) without it.
func (f *fulfilment) requestReview(ctx workflow.Context) error {
	timer := workflow.NewTimerWithOptions(ctx, f.in.Policy.ReviewDelay, workflow.TimerOptions{Summary: "review request"})
	if err := timer.Get(ctx, nil); err != nil {
		return err
	}
	var n *activities.Notifications
	var res activities.NotifyResult
	err := workflow.ExecuteActivity(activityOptions(ctx, "notify: review request"), n.NotifyCustomer, activities.NotifyRequest{
		OrderID: f.in.Order.OrderID, Touchpoint: activities.TouchReviewRequest, Customer: f.in.Order.Customer, Marketing: true,
	}).Get(ctx, &res)
	if err != nil {
		workflow.GetLogger(ctx).Warn("review request not sent", "order_id", f.in.Order.OrderID, "error", err)
		return nil
	}
	if res.Skipped != "" {
		f.journey = append(f.journey, JourneyItem{Kind: activities.EntryNotification, Note: "review request skipped: " + res.Skipped, At: workflow.Now(ctx)})
		return nil
	}
	return f.setStage(ctx, StageReviewRequested, "", "")
}
