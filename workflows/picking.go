package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/everywherecommerce/fulfilment/activities"
)

// picking puts the order on the fulfilling location's pick list and waits for
// staff to confirm. If the SLA passes first the order needs attention, and the
// wait goes on. A short pick refunds exactly the missing lines; nothing picked
// cancels the order.
func (f *fulfilment) picking(ctx workflow.Context) error {
	o := f.in.Order
	due := workflow.Now(ctx).Add(f.in.Policy.PickingSLA)
	var pk *activities.Picking
	err := workflow.ExecuteActivity(activityOptions(ctx, "create pick task"), pk.CreatePickTask, activities.PickTask{
		OrderID: o.OrderID, LocationID: f.locationID, Lines: o.Lines, DueAt: due,
	}).Get(ctx, nil)
	if err != nil {
		return fmt.Errorf("create pick task: %w", err)
	}
	if err := f.setStage(ctx, StagePicking, "", ""); err != nil {
		return err
	}
	picked := func() bool { return f.pick != nil }
	late, err := f.waitFor(ctx, f.in.Policy.PickingSLA, "picking SLA", picked)
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
	err = workflow.ExecuteActivity(activityOptions(ctx, "record pick"), pk.RecordPick, activities.PickResult{
		OrderID: o.OrderID, Picked: f.pick.Lines, By: f.pick.By, At: workflow.Now(ctx),
	}).Get(ctx, nil)
	if err != nil {
		return fmt.Errorf("record pick: %w", err)
	}
	missing := f.missing()
	missingItems := 0
	for _, m := range missing {
		missingItems += m.Quantity
	}
	if missingItems == o.Items() {
		return f.cancel(ctx, "nothing could be picked", f.pick.By)
	}
	if len(missing) > 0 {
		if err := f.shortPick(ctx, missing); err != nil {
			return err
		}
	}
	return f.setStage(ctx, StagePicked, f.pick.By, "")
}

// shortPick refunds the missing lines (key "<order_id>:refund:short-pick"), returns
// their stock and tells the customer.
func (f *fulfilment) shortPick(ctx workflow.Context, missing []activities.PickedLine) error {
	var amount int64
	for _, m := range missing {
		amount += int64(m.Quantity) * f.unitPrice(m.SKU)
	}
	if err := f.refund(ctx, amount, "short-pick"); err != nil {
		return err
	}
	if err := f.releaseStock(ctx, missing); err != nil {
		return err
	}
	f.notify(ctx, activities.TouchPartialRefund, map[string]string{"amount": formatAmount(amount) + " " + f.in.Order.Currency})
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
	err := workflow.ExecuteActivity(activityOptions(ctx, "refund: "+reason), pay.RefundPayment, activities.RefundRequest{
		PaymentID: o.PaymentIntentID, Amount: amount, Currency: o.Currency, Reason: reason,
		IdempotencyKey: o.OrderID + ":refund:" + reason,
	}).Get(ctx, &r)
	if err != nil {
		return fmt.Errorf("refund %s: %w", reason, err)
	}
	f.refunded += r.Amount
	return nil
}

// cancel ends the order before handover or shipping: the remaining payment is
// refunded, all stock returned and the customer told. It runs on a disconnected
// context so that the compensation completes even if the workflow is cancelled.
func (f *fulfilment) cancel(ctx workflow.Context, reason, actor string) error {
	dctx, done := workflow.NewDisconnectedContext(ctx)
	defer done()
	if err := f.refund(dctx, f.captured-f.refunded, "cancel"); err != nil {
		return err
	}
	if err := f.releaseStock(dctx, nil); err != nil {
		return err
	}
	if err := f.setStage(dctx, StageCancelled, actor, reason); err != nil {
		return err
	}
	f.notify(dctx, activities.TouchCancelled, map[string]string{
		"reason": reason, "amount": formatAmount(f.refunded) + " " + f.in.Order.Currency,
	})
	return nil
}
