package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/everywherecommerce/fulfilment/activities"
)

// picking puts the order on the fulfilling location's pick list (and confirms the
// order to the customer) and waits for staff to confirm. If the SLA passes first
// the order needs attention, and the wait goes on. A short pick refunds exactly the
// missing lines; nothing picked cancels the order. What was picked is recorded with
// the next transition, in the same activity.
func (f *fulfilment) picking(ctx workflow.Context) error {
	o, sla := f.in.Order, f.in.Policy.PickingSLA
	if err := f.enter(ctx, StagePicking, "", ""); err != nil {
		return err
	}
	_, err := f.advance(ctx, "pick task and order confirmation", activities.Progress{
		PickTask: &activities.PickTask{OrderID: o.OrderID, LocationID: f.locationID, Lines: o.Lines, DueAt: f.pickDue},
		Notify:   []activities.NotifyRequest{f.messageAmount(activities.TouchOrderConfirmed, nil, f.captured)},
	})
	if err != nil {
		return err
	}
	picked := func() bool { return f.pick != nil }
	late, err := f.waitFor(ctx, sla, "picking SLA", picked)
	if err != nil {
		return err
	}
	if late {
		if err := f.flag(ctx, "picking SLA passed"); err != nil {
			return err
		}
		if _, err := f.waitFor(ctx, 0, "", picked); err != nil {
			return err
		}
	}
	if f.cancelReq != nil {
		return f.cancelRequested(ctx)
	}
	result := activities.PickResult{OrderID: o.OrderID, Picked: f.pick.Lines, By: f.pick.By, At: workflow.Now(ctx)}
	missing := f.missing()
	missingItems := 0
	for _, m := range missing {
		missingItems += m.Quantity
	}
	if missingItems == o.Items() {
		f.carry.Pick = &result
		return f.cancel(ctx, "nothing could be picked", f.pick.By, true)
	}
	f.carry.Pick = &result
	if len(missing) > 0 {
		if err := f.shortPick(ctx, missing); err != nil {
			return err
		}
	}
	return f.enter(ctx, StagePicked, f.pick.By, "")
}

// shortPick refunds the missing lines (key "<order_id>:refund:short-pick"); their
// stock goes back and the customer hears of it with the next transition.
func (f *fulfilment) shortPick(ctx workflow.Context, missing []activities.PickedLine) error {
	var amount int64
	for _, m := range missing {
		amount += int64(m.Quantity) * f.unitPrice(m.SKU)
	}
	if err := f.refund(ctx, amount, "short-pick"); err != nil {
		return err
	}
	f.carry.Release = &activities.ReleaseStockRequest{OrderID: f.in.Order.OrderID, Lines: missing}
	f.carry.Notify = append(f.carry.Notify, f.messageAmount(activities.TouchPartialRefund, nil, amount))
	return nil
}

// refund pays back amount of the captured payment, once per reason.
func (f *fulfilment) refund(ctx workflow.Context, amount int64, reason string) error {
	if amount <= 0 {
		return nil
	}
	o := f.in.Order
	var pay *activities.Payments
	var r activities.Refund
	byHand, err := f.attempt(ctx, refundStep(reason), func(ctx workflow.Context) error {
		return workflow.ExecuteActivity(f.options(ctx, "refund: "+reason), pay.RefundPayment, activities.RefundRequest{
			PaymentID: o.PaymentIntentID, Amount: amount, Currency: o.Currency, Reason: reason,
			IdempotencyKey: o.OrderID + ":refund:" + reason,
		}).Get(ctx, &r)
	})
	if err != nil {
		return fmt.Errorf("refund %s: %w", reason, err)
	}
	if byHand {
		r.Amount = amount // support refunded it outside the system, as their note says
	}
	f.refunded += r.Amount
	return nil
}
