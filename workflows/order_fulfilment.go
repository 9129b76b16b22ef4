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
// payments, short picks, cancellations and expired pickups are business outcomes
// with which the workflow completes, not failures.
//
// Cost: each transition is one Journey.Advance activity (bookkeeping and the
// customer's message together) and one search-attribute upsert, and timers are
// cancelled when no longer needed, which keeps a happy-path order under 20 Actions.
func OrderFulfilment(ctx workflow.Context, in Input) (Result, error) {
	f := &fulfilment{
		in:      in,
		stage:   StageAccepted,
		changed: workflow.NewBufferedChannel(ctx, 1),
		seen:    make(map[string]bool),
		notices: make(map[activities.Touchpoint]activities.NotifyRequest),
	}
	f.pending = []activities.StageEntry{{Stage: string(StageAccepted), At: workflow.Now(ctx), Actor: in.PlacedBy}}
	f.journey = []JourneyItem{{Kind: activities.EntryStage, Stage: StageAccepted, At: workflow.Now(ctx), Actor: in.PlacedBy}}
	if err := f.register(ctx); err != nil {
		return Result{}, err
	}
	return f.run(ctx)
}

// errOrderEnded stops the run when the order ended early (cancelled); the result
// is then returned as usual.
var errOrderEnded = errors.New("order ended")

// fulfilment is the order's state. Handlers mutate it and call wake; run reads it.
type fulfilment struct {
	in         Input
	stage      Stage
	since      time.Time // when the order entered stage
	pickDue    time.Time // when the picking SLA runs out
	locationID string
	promised   *time.Time

	checkout    *CheckoutResult
	checkingOut bool
	captured    int64
	refunded    int64

	pick     *CompletePickRequest
	arrived  string // who confirmed a transfer's arrival ("carrier" for a delivered event)
	pickedUp string // who handed the order over

	codeNonce  string // the derived pickup code's nonce (the code itself is never kept)
	codeSalt   string // a legacy code's salt and hash (versionDerivedPickupCode)
	codeHash   string
	wrongCodes int // wrong pickup codes since the order was ready or last unlocked
	deadline   time.Time
	reminders  []time.Time // unsent pickup reminders, ascending
	reminded   int         // reminders sent so far
	extended   int         // bumped by extend-pickup, so a waiting timer is replaced
	locked     bool

	shipment       *activities.Label
	shipmentStatus string
	seen           map[string]bool // carrier event IDs: lookups only, never ranged over
	early          []CarrierEvent  // events for a label not recorded yet

	cancelReq  *CancelRequest
	cancelDone bool   // the run has acted on cancelReq
	cancelErr  string // why a cancellation came too late
	cancelling bool   // the run is cancelling the order (a cancel's own steps offer no cancel)

	needsAttention  bool
	attentionReason string                           // why, while needsAttention
	flaggedOther    bool                             // flagged for something other than a step that gave up (SLA, carrier, lock)
	problem         *Problem                         // the step that gave up, while it waits or retries
	decision        *ResolveRequest                  // support's decision, until the step takes it
	pending         []activities.StageEntry          // stages entered but not yet recorded in PostgreSQL
	attrs           []temporal.SearchAttributeUpdate // extra attributes for the next stage upsert
	carry           activities.Progress              // bookkeeping for the next advance (pick result, short-pick release)
	reviewAt        time.Time                        // when the review request is due (outside quiet hours)
	journey         []JourneyItem
	changed         workflow.Channel

	notices       map[activities.Touchpoint]activities.NotifyRequest // the last message of each touchpoint, for resends; lookups only
	resends       int                                                // support's resends so far: each one's key is new
	problems      int                                                // delivery problems told to the customer
	pickStartedBy string                                             // who started the pick (start-pick), once
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
	err := f.picking(ctx)
	if err == nil {
		if f.in.Order.Method == activities.MethodShipToStore {
			err = f.shipToStore(ctx)
		} else {
			err = f.homeDelivery(ctx)
		}
	}
	if err == nil {
		err = f.requestReview(ctx)
	}
	var sc *supportCancel
	if errors.As(err, &sc) {
		err = f.cancel(ctx, sc.reason, sc.actor, sc.refund)
	}
	if err != nil && !errors.Is(err, errOrderEnded) {
		return Result{}, err
	}
	return f.result(ctx)
}

// result waits for handlers still running (an update must not be cut off) and
// returns the order's final figures.
func (f *fulfilment) result(ctx workflow.Context) (Result, error) {
	f.cancelDone = true
	if f.cancelReq != nil && f.stage != StageCancelled && f.cancelErr == "" {
		f.cancelErr = "the order has already ended"
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return Result{}, err
	}
	return Result{OrderID: f.in.Order.OrderID, Stage: f.stage, Captured: f.captured, Refunded: f.refunded}, nil
}

// wake tells a waiting run that a handler changed the state.
func (f *fulfilment) wake() { f.changed.SendAsync(struct{}{}) }

// waitFor blocks until done holds or a cancellation is requested. With a timeout,
// it gives up when a cancellable timer (shown in the Web UI with summary) fires
// first and reports timedOut; the timer is cancelled as soon as the wait ends, so it
// costs nothing later.
func (f *fulfilment) waitFor(ctx workflow.Context, timeout time.Duration, summary string, done func() bool) (timedOut bool, err error) {
	over := func() bool { return done() || f.cancelReq != nil }
	tctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(f.changed, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
	sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) {})
	fired := false
	if timeout > 0 && !over() {
		t := workflow.NewTimerWithOptions(tctx, timeout, workflow.TimerOptions{Summary: summary})
		sel.AddFuture(t, func(fu workflow.Future) { fired = fu.Get(tctx, nil) == nil })
	}
	for !over() && !fired {
		sel.Select(ctx)
		if err := ctx.Err(); err != nil {
			return false, err
		}
	}
	return !over(), nil
}

// activityOptions: 30 s per attempt is ample for a few provider calls and
// transactions; retries back off to a minute and never give up, because every
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
	var deadline *time.Time
	if !f.deadline.IsZero() {
		d := f.deadline
		deadline = &d
	}
	return activities.OrderSummary{
		OrderID: o.OrderID, CustomerID: o.Customer.ID, Method: o.Method, StoreID: o.StoreID,
		LocationID: f.locationID, Total: o.Total(), Currency: o.Currency, PlacedAt: o.PlacedAt,
		CustomerName: o.Customer.Name, PromisedReadyAt: f.promised, PickupDeadline: deadline,
		NeedsAttention: f.needsAttention, AttentionReason: f.attentionReason,
	}
}

// message builds a touchpoint's notification request. Amounts and times are
// formatted in the customer's locale when the message is rendered.
func (f *fulfilment) message(tp activities.Touchpoint, facts map[string]string) activities.NotifyRequest {
	o := f.in.Order
	skus := make([]string, len(o.Lines))
	for i, l := range o.Lines {
		skus[i] = l.SKU
	}
	return activities.NotifyRequest{OrderID: o.OrderID, Touchpoint: tp, Customer: o.Customer, StoreID: o.StoreID, Facts: facts,
		Currency: o.Currency, SKUs: skus}
}

// messageAmount is message with one amount ("amount") in minor units.
func (f *fulfilment) messageAmount(tp activities.Touchpoint, facts map[string]string, amount int64) activities.NotifyRequest {
	m := f.message(tp, facts)
	m.Amounts = map[string]int64{"amount": amount}
	return m
}

func (f *fulfilment) money(minor int64) string {
	return formatAmount(minor) + " " + f.in.Order.Currency
}
