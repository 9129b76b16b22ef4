package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
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
	if f.cancellation.req != nil {
		return f.cancelRequested(ctx) // the label is unused: cancel voids it
	}
	f.cancellation.closed = true // shipped: too late to cancel
	f.enter(ctx, domain.StageShipped, "", "")
	_, err = f.advance(ctx, "shipped: stock sold, tracking link", activities.Progress{
		Consume: true,
		Notify:  []activities.NotifyRequest{f.message(domain.TouchShipped, map[string]string{"carrier": label.Carrier, "tracking_url": label.TrackingURL})},
	})
	if err != nil {
		return err
	}
	delivered := func() bool { return f.shipping.status == CarrierDelivered }
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
	f.enter(ctx, domain.StageDelivered, "carrier", "")
	res, err := f.advance(ctx, "delivered: confirmation", activities.Progress{
		PlanAfter: f.in.Policy.ReviewDelay,
		Notify:    []activities.NotifyRequest{f.message(domain.TouchDelivered, nil)},
	})
	f.reviewAt = res.PlanAt
	return err
}
