package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

// Checkout outcomes returned to the checkout service.
const (
	OutcomeCaptured      = "captured"
	OutcomePaymentFailed = "payment_failed"
	OutcomeRejected      = "rejected"
)

// handleCheckout reserves stock and captures the payment in one activity, and
// answers the checkout service with the outcome. A repeated checkout (another
// update ID) gets the first answer.
func (f *fulfilment) handleCheckout(ctx workflow.Context, _ CheckoutRequest) (CheckoutResult, error) {
	if f.payment.checkingOut {
		if err := workflow.Await(ctx, func() bool { return f.payment.checkout != nil }); err != nil {
			return CheckoutResult{}, err
		}
		return *f.payment.checkout, nil
	}
	f.payment.checkingOut = true
	res, err := f.checkoutSteps(ctx)
	if err != nil {
		// A bug or an unknown failure: the order cannot go on. The run ends and
		// support finds the failed workflow; the caller gets the error.
		f.payment.checkout = &CheckoutResult{Outcome: OutcomeRejected, Reason: "checkout failed"}
		f.wake()
		return CheckoutResult{}, err
	}
	res.OrderID, res.Currency, res.RequestHash = f.in.Order.OrderID, f.in.Order.Currency, f.in.RequestHash
	res.Stage, res.CapturedAmount = f.stage, f.payment.captured
	f.payment.checkout = &res
	f.wake()
	return res, nil
}

func (f *fulfilment) checkoutSteps(ctx workflow.Context) (CheckoutResult, error) {
	o, p := f.in.Order, f.in.Policy
	req := activities.CheckoutRequest{
		Reserve: activities.ReserveRequest{OrderID: o.OrderID, Locations: []string{p.DistributionCentre}, Lines: o.Lines},
		Capture: activities.CaptureRequest{
			PaymentID: o.PaymentIntentID, Amount: o.Total(), Currency: o.Currency, IdempotencyKey: o.OrderID + ":capture",
		},
		PlacedAt: o.PlacedAt, StoreReadyLead: p.StoreReadyLead, TransferDays: p.TransferDays,
	}
	if o.Method == domain.MethodShipToStore {
		req.Reserve.Locations = []string{o.StoreID, p.DistributionCentre}
		req.PickupStoreID = o.StoreID
	}
	capturedAt := workflow.Now(ctx)
	for _, st := range append(f.next.stages, activities.StageEntry{Stage: domain.StagePaymentCaptured, At: capturedAt}) {
		req.Captured = append(req.Captured, activities.StageChange{Order: f.summary(), Stage: st.Stage, At: st.At, Actor: st.Actor, Note: st.Note})
	}
	var out activities.CheckoutOutcome
	unknownStore := false
	local := f.v2 || workflow.GetVersion(ctx, versionLocalCheckout, workflow.DefaultVersion, 1) >= 1
	// A checkout that keeps failing flags the order and goes on retrying (the
	// checkout service's retry with the same update ID waits for the same answer);
	// one refused for good waits for support to retry it.
	_, err := f.attempt(ctx, step{name: "checkout"}, func(ctx workflow.Context) error {
		err := f.checkOut(ctx, local, req, &out)
		local = false // a step retried after the local attempt is the server's (checkOut)
		if errorType(err) == activities.ErrTypeUnknownLocation {
			unknownStore = true
			return nil
		}
		return err
	})
	switch {
	case unknownStore:
		return f.reject(ctx, fmt.Sprintf("unknown store %q", o.StoreID), nil)
	case err != nil:
		return CheckoutResult{}, fmt.Errorf("checkout: %w", err)
	case len(out.Reservation.Short) > 0:
		return f.reject(ctx, "not enough stock", out.Reservation.Short)
	case out.PaymentFailure != "":
		f.locationID = out.Reservation.LocationID
		return f.paymentFailed(ctx, out.PaymentFailure)
	}
	f.locationID = out.Reservation.LocationID
	f.payment.captured = out.Capture.Amount
	f.promised = out.PromisedReadyAt
	f.enter(ctx, domain.StagePaymentCaptured, "", "")
	// The checkout activity recorded these stages (req.Captured), payment_captured
	// at the checkout's start: the journal says the same time, and the next advance
	// need not write them again; it still upserts the stage it enters.
	f.journey[len(f.journey)-1].At = capturedAt
	f.next.stages = nil
	return CheckoutResult{Outcome: OutcomeCaptured, PromisedReadyAt: f.promised}, nil
}

// versionLocalCheckout: the checkout activity runs as a local activity in the
// checkout update's own workflow task, so the checkout service's answer waits for
// one workflow task instead of three dispatches in a row (workflow task, activity
// task, workflow task). Orders started before it ran an activity (ActivityTask*
// events where new orders have a local-activity MarkerRecorded).
const versionLocalCheckout = "local-checkout"

// checkoutSummary names the checkout in the Web UI, local or not.
const checkoutSummary = "checkout: reserve stock, capture payment"

// checkOut runs the checkout activity. With local set it runs first as a local
// activity (localCheckoutOptions): reserved, captured and recorded before the
// update's workflow task completes, so the update completes with that task. If
// it keeps failing for longer than that short bound (an outage), the same request
// goes on as an activity, retried by the server and bounded by StuckAfter like
// every step (attempt flags the order meanwhile): an outage is neither retried
// inside a workflow task kept open for it, nor can it end the order FAILED. Both
// run the same idempotent CheckOut (one reservation per order, the capture's
// idempotency key "<order_id>:capture", stage writes keyed by order and stage), so
// a local attempt cut off half-way and the activity after it reserve and charge
// once. A permanent error comes back as it is: attempt waits for support.
func (f *fulfilment) checkOut(ctx workflow.Context, local bool, req activities.CheckoutRequest, out *activities.CheckoutOutcome) error {
	var c *activities.Checkout
	if local {
		err := workflow.ExecuteLocalActivity(localCheckoutOptions(ctx), c.CheckOut, req).Get(ctx, out)
		if err == nil || permanent(err) || ctx.Err() != nil {
			return err
		}
		workflow.GetLogger(ctx).Warn("local checkout gave up, going on as an activity", "order_id", f.in.Order.OrderID, "error", err)
	}
	return workflow.ExecuteActivity(f.options(ctx, checkoutSummary), c.CheckOut, req).Get(ctx, out)
}

// localCheckoutOptions: a checkout takes milliseconds to a few seconds (a few
// transactions and one provider call). 10 s per attempt, retries after 0.5, 1, 2
// and 4 s, 20 s in all: every backoff is shorter than the workflow task timeout
// (10 s), so the SDK retries in the worker, keeping the task alive, and never
// needs a server timer (which would cost an Action and a dispatch); a longer
// outage goes to the activity (checkOut). The checkout service's UpdateTimeout
// (25 s) covers the local bound, and its retry with the same update ID gets the
// answer later.
func localCheckoutOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout:    10 * time.Second,
		ScheduleToCloseTimeout: 20 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    500 * time.Millisecond,
			BackoffCoefficient: 2,
			MaximumInterval:    5 * time.Second,
		},
		Summary: checkoutSummary,
	})
}

// versionVoidOnReject: a rejected checkout voids the card authorization
// (orders started before it left the authorization to expire by itself).
const versionVoidOnReject = "void-on-reject"

// reject ends a checkout that cannot be served; nothing was reserved or charged,
// the authorization is released, and the checkout service tells the customer at
// once.
func (f *fulfilment) reject(ctx workflow.Context, reason string, short []activities.ShortLine) (CheckoutResult, error) {
	f.enter(ctx, domain.StageRejected, "", reason)
	if _, err := f.advance(ctx, "journey: rejected", activities.Progress{}); err != nil {
		return CheckoutResult{}, err
	}
	if f.v2 || workflow.GetVersion(ctx, versionVoidOnReject, workflow.DefaultVersion, 1) >= 1 {
		f.voidAuthorization(ctx)
	}
	return CheckoutResult{Outcome: OutcomeRejected, Reason: reason, Short: short}, nil
}

// voidAuthorization releases the card authorization of an order that will never
// be captured (key "<order_id>:void", so a retry voids once). A void that fails
// is logged and nothing more: the customer was not charged, and an authorization
// the provider refuses to void (captured elsewhere, expired) or cannot void now
// expires by itself; retrying is bounded by StuckAfter.
func (f *fulfilment) voidAuthorization(ctx workflow.Context) {
	o := f.in.Order
	var p *activities.Payments
	req := activities.VoidRequest{PaymentID: o.PaymentIntentID, IdempotencyKey: o.OrderID + ":void"}
	if err := workflow.ExecuteActivity(f.options(ctx, "rejected: void the authorization"), p.VoidPayment, req).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("void authorization of rejected order", "order_id", o.OrderID, "error", err)
	}
}

// paymentFailed ends an order whose capture failed (the checkout activity already
// returned its stock) and tells the customer why. A payment captured elsewhere may
// mean the customer paid, an invalid capture that our request was wrong: such
// failures also flag the order for support (activities.PaymentFailureOf says which).
func (f *fulfilment) paymentFailed(ctx workflow.Context, typ string) (CheckoutResult, error) {
	failed := activities.PaymentFailureOf(typ)
	f.enter(ctx, domain.StagePaymentFailed, "", failed.Reason)
	_, err := f.advance(ctx, "journey: payment failed", activities.Progress{
		Notify: []activities.NotifyRequest{f.message(domain.TouchPaymentFailed, map[string]string{"reason": failed.Reason})},
	})
	if err != nil {
		return CheckoutResult{}, err
	}
	if failed.Attention != "" {
		if err := f.flag(ctx, failed.Attention); err != nil {
			return CheckoutResult{}, err
		}
	}
	return CheckoutResult{Outcome: OutcomePaymentFailed, Reason: failed.Reason}, nil
}

func (f *fulfilment) validateCheckout(req CheckoutRequest) error {
	if errs := domain.ValidateOrder(f.in.Order); len(errs) > 0 {
		return fmt.Errorf("invalid order: %w", errors.Join(asErrors(errs)...))
	}
	if req.OrderID != f.in.Order.OrderID {
		return fmt.Errorf("checkout for order %q sent to order %q", req.OrderID, f.in.Order.OrderID)
	}
	return nil
}

func asErrors(fe []domain.FieldError) []error {
	out := make([]error, len(fe))
	for i, e := range fe {
		out[i] = e
	}
	return out
}

// handlePaymentEvent puts a dispute or a refund made outside this workflow in the
// journey and marks the order for support, once per event ID.
func (f *fulfilment) handlePaymentEvent(ctx workflow.Context, ev PaymentEvent) {
	if f.shipping.seen["payment:"+ev.EventID] {
		return
	}
	f.shipping.seen["payment:"+ev.EventID] = true
	reason := fmt.Sprintf("payment provider reports a %s of %s outside this order's flow", ev.Kind, f.money(ev.Amount))
	if err := f.flag(ctx, reason); err != nil {
		workflow.GetLogger(ctx).Error("flag payment event", "order_id", f.in.Order.OrderID, "error", err)
	}
}
