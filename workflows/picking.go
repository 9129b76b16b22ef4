package workflows

import (
	"fmt"
	"strings"
	"time"

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
		Notify:   []activities.NotifyRequest{f.confirmation()},
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
	names := make(map[string]string, len(f.in.Order.Lines))
	for _, l := range f.in.Order.Lines {
		names[l.SKU] = l.Name
	}
	lines := make([]activities.Line, len(missing))
	for i, m := range missing {
		lines[i] = activities.Line{SKU: m.SKU, Name: names[m.SKU], Quantity: m.Quantity}
	}
	facts := map[string]string{"method": string(f.in.Order.Method), "missing_items": itemLines(lines)}
	f.carry.Notify = append(f.carry.Notify, f.messageAmount(activities.TouchPartialRefund, facts, amount))
	return nil
}

// confirmation is the order confirmation with what the customer needs to check
// the order: the items, the amount paid, and where it goes — the pickup store
// (its name and address come from StoreID) with the ready date promised at
// checkout, or the delivery address. Facts travel only in the activity's input,
// so adding one leaves histories replayable.
func (f *fulfilment) confirmation() activities.NotifyRequest {
	o := f.in.Order
	facts := map[string]string{"method": string(o.Method), "items": itemLines(o.Lines)}
	if o.Method == activities.MethodHomeDelivery && o.Address != nil {
		a := o.Address
		facts["delivery_address"] = strings.Join(nonEmpty(a.Name, a.Line1, a.Line2, strings.TrimSpace(a.PostalCode+" "+a.City)), "\n")
	}
	msg := f.messageAmount(activities.TouchOrderConfirmed, facts, f.captured)
	if o.Method == activities.MethodShipToStore && f.promised != nil {
		msg.Times = map[string]time.Time{"promised": *f.promised}
	}
	return msg
}

// itemLines writes order lines as the customer reads them, one a line: "1 × Name"
// (the SKU when a line has no name).
func itemLines(lines []activities.Line) string {
	out := make([]string, len(lines))
	for i, l := range lines {
		name := l.Name
		if name == "" {
			name = l.SKU
		}
		out[i] = fmt.Sprintf("%d × %s", l.Quantity, name)
	}
	return strings.Join(out, "\n")
}

// nonEmpty is parts without the empty ones.
func nonEmpty(parts ...string) []string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
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
