package workflows

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/everywherecommerce/fulfilment/activities"
)

// register installs every handler before the first blocking call, as updates that
// came with the start are delivered as soon as the workflow blocks.
func (f *fulfilment) register(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryStatus, f.status); err != nil {
		return fmt.Errorf("register %s: %w", QueryStatus, err)
	}
	updates := []struct {
		name      string
		handler   any
		validator any
	}{
		{UpdateCheckout, f.handleCheckout, f.validateCheckout},
		{UpdateCompletePick, f.handleCompletePick, f.validateCompletePick},
		{UpdateConfirmArrival, f.handleConfirmArrival, f.validateConfirmArrival},
		{UpdateCompletePickup, f.handleCompletePickup, f.validateCompletePickup},
		{UpdateCancel, f.handleCancel, f.validateCancel},
		{UpdateExtendPickup, f.handleExtendPickup, f.validateExtendPickup},
		{UpdateLockPickup, f.handleLockPickup, f.validateLockPickup},
		{UpdateUnlockPickup, f.handleUnlockPickup, f.validateUnlockPickup},
		{UpdateResend, f.handleResend, f.validateResend},
		{UpdateStartPick, f.handleStartPick, f.validateStartPick},
		{UpdateResolve, f.handleResolve, f.validateResolve},
	}
	for _, u := range updates {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, u.name, u.handler, workflow.UpdateHandlerOptions{Validator: u.validator}); err != nil {
			return fmt.Errorf("register %s: %w", u.name, err)
		}
	}
	carrier := workflow.GetSignalChannel(ctx, SignalCarrierEvent)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var ev CarrierEvent
			if !carrier.Receive(ctx, &ev) {
				return
			}
			f.handleCarrierEvent(ctx, ev)
		}
	})
	payments := workflow.GetSignalChannel(ctx, SignalPaymentEvent)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var ev PaymentEvent
			if !payments.Receive(ctx, &ev) {
				return
			}
			f.handlePaymentEvent(ctx, ev)
		}
	})
	return nil
}

func (f *fulfilment) validateCheckout(req CheckoutRequest) error {
	if errs := ValidateOrder(f.in.Order); len(errs) > 0 {
		return fmt.Errorf("invalid order: %w", errors.Join(asErrors(errs)...))
	}
	if req.OrderID != f.in.Order.OrderID {
		return fmt.Errorf("checkout for order %q sent to order %q", req.OrderID, f.in.Order.OrderID)
	}
	return nil
}

func asErrors(fe []FieldError) []error {
	out := make([]error, len(fe))
	for i, e := range fe {
		out[i] = e
	}
	return out
}

func (f *fulfilment) validateCompletePick(req CompletePickRequest) error {
	switch {
	case f.cancelReq != nil:
		return wrongStage(beingCancelled)
	case f.pick != nil:
		return wrongStage("The pick was already confirmed.")
	case f.stage != StagePicking:
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
			return FieldError{Field: field + ".sku", Message: l.SKU + " is not in the order"}
		case seen[l.SKU]:
			return FieldError{Field: field + ".sku", Message: l.SKU + " appears twice"}
		case l.Quantity < 0 || l.Quantity > q:
			return FieldError{Field: field + ".quantity", Message: fmt.Sprintf("must be between 0 and %d", q)}
		}
		seen[l.SKU] = true
	}
	if len(seen) != len(ordered) {
		return FieldError{Field: "lines", Message: fmt.Sprintf("every SKU of the order needs a picked quantity (%d of %d given)", len(seen), len(ordered))}
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

func (f *fulfilment) validateConfirmArrival(req ConfirmArrivalRequest) error {
	switch {
	case req.StoreID != f.in.Order.StoreID:
		return errWrongStore()
	case f.cancelReq != nil:
		return wrongStage(beingCancelled)
	case f.arrived != "":
		return wrongStage("The arrival was already confirmed.")
	case f.stage != StageInTransitToStore:
		return wrongStage("The order is not on its way to the store (stage %s).", f.stage)
	}
	return nil
}

func (f *fulfilment) handleConfirmArrival(ctx workflow.Context, req ConfirmArrivalRequest) (HandoverResult, error) {
	f.arrived = req.By
	f.wake()
	return HandoverResult{OrderID: f.in.Order.OrderID, At: workflow.Now(ctx)}, nil
}

// versionDeliveryProblemNotice: a carrier exception on a home delivery also tells
// the customer (orders started before it only flag the order for support).
const versionDeliveryProblemNotice = "delivery-problem-notice"

// tellDeliveryProblem tells the customer once per carrier event that their parcel
// has a problem; support already has the order flagged.
func (f *fulfilment) tellDeliveryProblem(ctx workflow.Context, ev CarrierEvent) {
	msg := f.message(activities.TouchDeliveryProblem, map[string]string{"tracking_url": ""})
	if f.shipment != nil {
		msg.Facts["tracking_url"] = f.shipment.TrackingURL
	}
	f.problems++
	msg.Occurrence = f.problems // a later problem with the same parcel is a message of its own
	entry := activities.JourneyEntry{OrderID: f.in.Order.OrderID, Kind: activities.EntryNotification,
		Key: "delivery-problem:" + ev.EventID, Detail: "carrier reports " + ev.Status + ": customer told", At: workflow.Now(ctx)}
	var j *activities.Journey
	if err := workflow.ExecuteActivity(activityOptions(ctx, "delivery problem: customer told"), j.Tell, entry, msg).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Error("tell delivery problem", "order_id", f.in.Order.OrderID, "error", err)
	}
}

func (f *fulfilment) validateStartPick(StartPickRequest) error {
	switch {
	case f.cancelReq != nil:
		return wrongStage(beingCancelled)
	case f.pick != nil:
		return wrongStage("The pick was already confirmed.")
	case f.pickStartedBy != "":
		return wrongStage("Picking was already started.")
	case f.stage != StagePicking:
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
		Detail: "picking started", Actor: req.By, At: now}
	msg := f.message(activities.TouchInPicking, nil)
	var j *activities.Journey
	err := workflow.ExecuteActivity(activityOptions(ctx, "picking started: customer told"), j.PickStarted, entry, msg).Get(ctx, nil)
	if err != nil {
		return StartPickResult{}, fmt.Errorf("picking started: %w", err)
	}
	f.notices[activities.TouchInPicking] = msg
	return StartPickResult{OrderID: f.in.Order.OrderID, StartedBy: req.By, StartedAt: now}, nil
}

func (f *fulfilment) validateResend(req ResendRequest) error {
	switch req.Channel {
	case "", activities.ChannelEmail, activities.ChannelSMS, activities.ChannelPush:
	default:
		return FieldError{Field: "channel", Message: `must be "email", "sms" or "push" (or left out for every channel)`}
	}
	if _, ok := f.notices[req.Touchpoint]; !ok {
		return refuse(ErrTypeNothingToResend, "This order's customer has not been sent the %s message.", req.Touchpoint)
	}
	return nil
}

// handleResend sends the touchpoint's last message again under a new key
// ("...-resend-<n>"), so that it is a message of its own, and records who asked.
func (f *fulfilment) handleResend(ctx workflow.Context, req ResendRequest) (ResendResult, error) {
	f.resends++
	n := f.notices[req.Touchpoint]
	n.Resend, n.Channel = f.resends, req.Channel
	now := workflow.Now(ctx)
	note := fmt.Sprintf("resend %d of %s", f.resends, req.Touchpoint)
	if req.Channel != "" {
		note += " via " + req.Channel
	}
	f.journey = append(f.journey, JourneyItem{Kind: activities.EntryStaffAction, Stage: f.stage, Note: note, Actor: req.By, At: now})
	entry := activities.JourneyEntry{OrderID: f.in.Order.OrderID, Kind: activities.EntryStaffAction,
		Key: fmt.Sprintf("resend:%d", f.resends), Detail: note, Actor: req.By, At: now}
	var j *activities.Journey
	var sent []activities.NotifyResult
	err := workflow.ExecuteActivity(activityOptions(ctx, note), j.Tell, entry, n).Get(ctx, &sent)
	if err != nil {
		return ResendResult{}, fmt.Errorf("%s: %w", note, err)
	}
	return ResendResult{OrderID: f.in.Order.OrderID, Resend: f.resends, Sent: sent}, nil
}

// handlePaymentEvent puts a dispute or a refund made outside this workflow in the
// journey and marks the order for support, once per event ID.
func (f *fulfilment) handlePaymentEvent(ctx workflow.Context, ev PaymentEvent) {
	if f.seen["payment:"+ev.EventID] {
		return
	}
	f.seen["payment:"+ev.EventID] = true
	reason := fmt.Sprintf("payment provider reports a %s of %s outside this order's flow", ev.Kind, f.money(ev.Amount))
	if err := f.flag(ctx, reason); err != nil {
		workflow.GetLogger(ctx).Error("flag payment event", "order_id", f.in.Order.OrderID, "error", err)
	}
}

// maxEarlyEvents bounds the carrier events kept for a label the workflow has not
// recorded yet; more than a parcel's whole life would be noise.
const maxEarlyEvents = 20

// handleCarrierEvent applies a tracking update once per event ID. An event can
// arrive before the workflow has the label it belongs to (the label is saved inside
// the activity, so a webhook may be faster than the activity's completion): such
// events wait in early until track is called. Events for another tracking code (an
// old label) are ignored.
func (f *fulfilment) handleCarrierEvent(ctx workflow.Context, ev CarrierEvent) {
	if f.seen[ev.EventID] {
		return
	}
	if f.shipment == nil || ev.TrackingCode != f.shipment.TrackingCode {
		if len(f.early) < maxEarlyEvents {
			f.early = append(f.early, ev)
		}
		return
	}
	f.seen[ev.EventID] = true
	f.shipmentStatus = ev.Status
	f.wake()
	switch ev.Status {
	case CarrierFailure, CarrierReturnToSender:
		if err := f.flag(ctx, "carrier reports "+ev.Status); err != nil {
			workflow.GetLogger(ctx).Error("flag carrier exception", "order_id", f.in.Order.OrderID, "error", err)
		}
		if f.in.Order.Method == activities.MethodHomeDelivery &&
			workflow.GetVersion(ctx, versionDeliveryProblemNotice, workflow.DefaultVersion, 1) >= 1 {
			f.tellDeliveryProblem(ctx, ev)
		}
	case CarrierDelivered:
		if f.stage == StageInTransitToStore && f.arrived == "" {
			f.arrived = "carrier"
		}
	}
}

// track makes label the shipment carrier events are matched against and applies
// the events that arrived for it early.
func (f *fulfilment) track(ctx workflow.Context, label activities.Label) {
	f.shipment = &label
	f.shipmentStatus = ""
	early := f.early
	f.early = nil
	for _, ev := range early {
		if ev.TrackingCode == label.TrackingCode {
			f.handleCarrierEvent(ctx, ev)
		}
	}
	f.wake()
}

// missing lists, per SKU, the quantity ordered but not picked.
func (f *fulfilment) missing() []activities.PickedLine {
	if f.pick == nil {
		return nil
	}
	picked := make(map[string]int, len(f.pick.Lines))
	for _, l := range f.pick.Lines {
		picked[l.SKU] = l.Quantity
	}
	var out []activities.PickedLine
	for _, l := range f.in.Order.Lines {
		if m := l.Quantity - picked[l.SKU]; m > 0 {
			out = append(out, activities.PickedLine{SKU: l.SKU, Quantity: m})
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
