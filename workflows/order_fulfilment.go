package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/everywherecommerce/fulfilment/activities"
)

// OrderFulfilment carries one order from checkout to the review request: capture,
// picking, ship-to-store or home delivery, handover, and a review request a week
// later. It is started by Update-with-Start with the checkout update; declined
// payments, short picks and expired pickups are business outcomes with which the
// workflow completes, not failures.
func OrderFulfilment(ctx workflow.Context, in Input) (Result, error) {
	f := &fulfilment{
		in:      in,
		stage:   StageAccepted,
		changed: workflow.NewBufferedChannel(ctx, 1),
		seen:    make(map[string]bool),
	}
	if err := f.register(ctx); err != nil {
		return Result{}, err
	}
	return f.run(ctx)
}

// fulfilment is the order's state. Handlers mutate it and call wake; run reads it.
type fulfilment struct {
	in         Input
	stage      Stage
	locationID string

	checkout    *CheckoutResult
	checkingOut bool
	captured    int64
	refunded    int64

	pick     *CompletePickRequest
	arrived  string // who confirmed a transfer's arrival ("carrier" for a delivered event)
	pickedUp string // who handed the order over

	codeSalt string
	codeHash string
	deadline time.Time

	shipment       *activities.Label
	shipmentStatus string
	seen           map[string]bool // carrier event IDs: lookups only, never ranged over
	early          []CarrierEvent  // events for a label not recorded yet

	needsAttention bool
	journey        []JourneyItem
	changed        workflow.Channel
}

func (f *fulfilment) run(ctx workflow.Context) (Result, error) {
	if errs := ValidateOrder(f.in.Order); len(errs) > 0 {
		// The checkout validator rejected the update for the same reason: nothing
		// was reserved or charged, so the order simply ends.
		f.stage = StageRejected
		return f.result(ctx)
	}
	if err := workflow.Await(ctx, func() bool { return f.checkout != nil }); err != nil {
		return Result{}, err
	}
	if f.checkout.Outcome != OutcomeCaptured {
		return f.result(ctx)
	}
	f.notify(ctx, activities.TouchOrderConfirmed, map[string]string{"amount": formatAmount(f.captured) + " " + f.in.Order.Currency})
	if err := f.picking(ctx); err != nil {
		return Result{}, err
	}
	if f.stage == StageCancelled {
		return f.result(ctx)
	}
	var err error
	if f.in.Order.Method == activities.MethodShipToStore {
		err = f.shipToStore(ctx)
	} else {
		err = f.homeDelivery(ctx)
	}
	if err != nil {
		return Result{}, err
	}
	if f.stage == StageCancelled {
		return f.result(ctx)
	}
	if err := f.requestReview(ctx); err != nil {
		return Result{}, err
	}
	if err := f.setStage(ctx, StageCompleted, "", ""); err != nil {
		return Result{}, err
	}
	return f.result(ctx)
}

// result waits for handlers still running (an update must not be cut off) and
// returns the order's final figures.
func (f *fulfilment) result(ctx workflow.Context) (Result, error) {
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return Result{}, err
	}
	return Result{OrderID: f.in.Order.OrderID, Stage: f.stage, Captured: f.captured, Refunded: f.refunded}, nil
}

// wake tells a waiting run that a handler changed the state.
func (f *fulfilment) wake() { f.changed.SendAsync(struct{}{}) }

// waitFor blocks until done holds. With a timeout, it gives up when a cancellable
// timer (shown in the Web UI with summary) fires first and reports timedOut; the
// timer is cancelled as soon as done holds, so it costs nothing later.
func (f *fulfilment) waitFor(ctx workflow.Context, timeout time.Duration, summary string, done func() bool) (timedOut bool, err error) {
	tctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(f.changed, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
	sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) {})
	fired := false
	if timeout > 0 && !done() {
		t := workflow.NewTimerWithOptions(tctx, timeout, workflow.TimerOptions{Summary: summary})
		sel.AddFuture(t, func(fu workflow.Future) { fired = fu.Get(tctx, nil) == nil })
	}
	for !done() && !fired {
		sel.Select(ctx)
		if err := ctx.Err(); err != nil {
			return false, err
		}
	}
	return !done(), nil
}

// activityOptions: 30 s per attempt is ample for one provider call or one
// transaction; retries back off to a minute and never give up, because every
// activity is idempotent and a provider outage must not lose an order.
func activityOptions(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
		},
		Summary: summary,
	})
}

// errorType returns the application error type of an activity failure, or "".
func errorType(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Type()
	}
	return ""
}

// summary is the projection row written with each stage change.
func (f *fulfilment) summary() activities.OrderSummary {
	o := f.in.Order
	return activities.OrderSummary{
		OrderID: o.OrderID, CustomerID: o.Customer.ID, Method: o.Method, StoreID: o.StoreID,
		LocationID: f.locationID, Total: o.Total(), Currency: o.Currency, PlacedAt: o.PlacedAt,
	}
}
