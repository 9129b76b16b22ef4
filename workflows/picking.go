package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

// picking puts the order on the fulfilling location's pick list (and confirms the
// order to the customer) and waits for staff to confirm. If the SLA passes first
// the order needs attention, and the wait goes on. A short pick refunds exactly the
// missing lines; nothing picked cancels the order. What was picked is recorded with
// the next transition, in the same activity.
func (f *fulfilment) picking(ctx workflow.Context) error {
	o, sla := f.in.Order, f.in.Policy.PickingSLA
	f.enter(ctx, domain.StagePicking, "", "")
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
	if f.cancellation.req != nil {
		return f.cancelRequested(ctx)
	}
	result := activities.PickResult{OrderID: o.OrderID, Picked: f.pick.Lines, By: f.pick.By, At: workflow.Now(ctx)}
	missing := f.missing()
	missingItems := 0
	for _, m := range missing {
		missingItems += m.Quantity
	}
	if missingItems == o.Items() {
		f.next.pick = &result
		return f.cancel(ctx, "nothing could be picked", f.pick.By, true)
	}
	f.next.pick = &result
	if len(missing) > 0 {
		if err := f.shortPick(ctx, missing); err != nil {
			return err
		}
	}
	f.enter(ctx, domain.StagePicked, f.pick.By, "")
	return nil
}

// shortPick refunds the missing lines (key "<order_id>:refund:short-pick"); their
// stock goes back and the customer hears of it with the next transition.
func (f *fulfilment) shortPick(ctx workflow.Context, missing []domain.PickedLine) error {
	var amount int64
	for _, m := range missing {
		amount += int64(m.Quantity) * f.unitPrice(m.SKU)
	}
	if err := f.refund(ctx, amount, "short-pick"); err != nil {
		return err
	}
	f.next.release = &activities.ReleaseStockRequest{OrderID: f.in.Order.OrderID, Lines: missing}
	names := make(map[string]string, len(f.in.Order.Lines))
	for _, l := range f.in.Order.Lines {
		names[l.SKU] = l.Name
	}
	lines := make([]domain.Line, len(missing))
	for i, m := range missing {
		lines[i] = domain.Line{SKU: m.SKU, Name: names[m.SKU], Quantity: m.Quantity}
	}
	facts := map[string]string{"method": string(f.in.Order.Method), "missing_items": itemLines(lines)}
	f.next.notify = append(f.next.notify, f.messageAmount(domain.TouchPartialRefund, facts, amount))
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
	if o.Method == domain.MethodHomeDelivery && o.Address != nil {
		a := o.Address
		facts["delivery_address"] = strings.Join(nonEmpty(a.Name, a.Line1, a.Line2, strings.TrimSpace(a.PostalCode+" "+a.City)), "\n")
	}
	msg := f.messageAmount(domain.TouchOrderConfirmed, facts, f.payment.captured)
	if o.Method == domain.MethodShipToStore && f.promised != nil {
		msg.Times = map[string]time.Time{"promised": *f.promised}
	}
	return msg
}

// itemLines writes order lines as the customer reads them, one a line: "1 × Name"
// (the SKU when a line has no name).
func itemLines(lines []domain.Line) string {
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
	f.payment.refunded += r.Amount
	return nil
}

func (f *fulfilment) validateStartPick(StartPickRequest) error {
	switch {
	case f.cancellation.req != nil:
		return wrongStage(beingCancelled)
	case f.pick != nil:
		return wrongStage("The pick was already confirmed.")
	case f.pickStartedBy != "":
		return wrongStage("Picking was already started.")
	case f.stage != domain.StagePicking:
		return wrongStage("The order is not being picked (stage %s).", f.stage)
	}
	return nil
}

// handleStartPick records who started the pick and tells the customer their order
// is being packed (the "in picking" touchpoint), once.
func (f *fulfilment) handleStartPick(ctx workflow.Context, req StartPickRequest) (StartPickResult, error) {
	now := workflow.Now(ctx)
	f.pickStartedBy = req.By
	f.journey = append(f.journey, JourneyItem{Kind: activities.EntryStaffAction, Stage: f.stage, Note: "picking started", Actor: req.By, At: now})
	entry := activities.JourneyEntry{OrderID: f.in.Order.OrderID, Kind: activities.EntryStaffAction, Key: "pick-started",
		Detail: "picking started", Actor: req.By, At: now, Stage: f.stage, View: f.view()}
	msg := f.message(domain.TouchInPicking, nil)
	var j *activities.Journey
	err := workflow.ExecuteActivity(activityOptions(ctx, "picking started: customer told"), j.PickStarted, entry, msg).Get(ctx, nil)
	if err != nil {
		return StartPickResult{}, fmt.Errorf("picking started: %w", err)
	}
	f.messages.notices[domain.TouchInPicking] = msg
	return StartPickResult{OrderID: f.in.Order.OrderID, StartedBy: req.By, StartedAt: now}, nil
}

func (f *fulfilment) validateCompletePick(req CompletePickRequest) error {
	switch {
	case f.cancellation.req != nil:
		return wrongStage(beingCancelled)
	case f.pick != nil:
		return wrongStage("The pick was already confirmed.")
	case f.stage != domain.StagePicking:
		return wrongStage("The order is not being picked (stage %s).", f.stage)
	}
	ordered := make(map[string]int, len(f.in.Order.Lines))
	for _, l := range f.in.Order.Lines {
		ordered[l.SKU] = l.Quantity
	}
	seen := make(map[string]bool, len(req.Lines))
	for i, l := range req.Lines {
		q, ok := ordered[l.SKU]
		field := fmt.Sprintf("lines[%d]", i)
		switch {
		case !ok:
			return domain.FieldError{Field: field + ".sku", Message: l.SKU + " is not in the order"}
		case seen[l.SKU]:
			return domain.FieldError{Field: field + ".sku", Message: l.SKU + " appears twice"}
		case l.Quantity < 0 || l.Quantity > q:
			return domain.FieldError{Field: field + ".quantity", Message: fmt.Sprintf("must be between 0 and %d", q)}
		}
		seen[l.SKU] = true
	}
	if len(seen) != len(ordered) {
		return domain.FieldError{Field: "lines", Message: fmt.Sprintf("every SKU of the order needs a picked quantity (%d of %d given)", len(seen), len(ordered))}
	}
	return nil
}

func (f *fulfilment) handleCompletePick(_ workflow.Context, req CompletePickRequest) (CompletePickResult, error) {
	f.pick = &req
	f.wake()
	res := CompletePickResult{OrderID: f.in.Order.OrderID}
	for _, m := range f.missing() {
		res.MissingItems += m.Quantity
		res.RefundPending += int64(m.Quantity) * f.unitPrice(m.SKU)
	}
	res.PickedItems = f.in.Order.Items() - res.MissingItems
	return res, nil
}

// missing lists, per SKU, the quantity ordered but not picked.
func (f *fulfilment) missing() []domain.PickedLine {
	if f.pick == nil {
		return nil
	}
	picked := make(map[string]int, len(f.pick.Lines))
	for _, l := range f.pick.Lines {
		picked[l.SKU] = l.Quantity
	}
	var out []domain.PickedLine
	for _, l := range f.in.Order.Lines {
		if m := l.Quantity - picked[l.SKU]; m > 0 {
			out = append(out, domain.PickedLine{SKU: l.SKU, Quantity: m})
		}
	}
	return out
}

func (f *fulfilment) unitPrice(sku string) int64 {
	for _, l := range f.in.Order.Lines {
		if l.SKU == sku {
			return l.UnitPrice
		}
	}
	return 0
}
