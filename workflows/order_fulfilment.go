package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
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
		v2:       workflow.GetInfo(ctx).WorkflowType.Name != WorkflowTypeV1,
		in:       in,
		stage:    domain.StageAccepted,
		changed:  workflow.NewBufferedChannel(ctx, 1),
		shipping: shippingState{seen: make(map[string]bool)},
		messages: messageState{notices: make(map[domain.Touchpoint]activities.NotifyRequest)},
	}
	f.next.stages = []activities.StageEntry{{Stage: domain.StageAccepted, At: workflow.Now(ctx), Actor: in.PlacedBy}}
	f.journey = []JourneyItem{{Kind: activities.EntryStage, Stage: domain.StageAccepted, At: workflow.Now(ctx), Actor: in.PlacedBy}}
	if err := f.register(ctx); err != nil {
		return Result{}, err
	}
	return f.run(ctx)
}

// errOrderEnded stops the run when the order ended early (cancelled); the result
// is then returned as usual.
var errOrderEnded = errors.New("order ended")

// transition is what has happened to the order since its record was last
// written: the stages entered (enter), the search attributes to upsert with them,
// and the bookkeeping and messages a step leaves for the next write (a pick result,
// a short pick's stock release and partial-refund notice). advance writes it all in
// one Journey.Advance activity and starts a new one; between two advances nothing
// else reads it.
type transition struct {
	stages  []activities.StageEntry
	attrs   []temporal.SearchAttributeUpdate
	pick    *activities.PickResult
	release *activities.ReleaseStockRequest
	notify  []activities.NotifyRequest
}

// fulfilment is the order's state: what the run and the handlers share, in one
// group per concern. Handlers mutate it and call wake; run reads it.
type fulfilment struct {
	// v2: the order runs as WorkflowType, not WorkflowTypeV1: every patch's new
	// branch without a version marker, the pickup code's nonce without a side
	// effect, no search-attribute upsert at completion (docs/versioning.md).
	v2         bool
	in         Input
	stage      domain.Stage
	since      time.Time // when the order entered stage
	pickDue    time.Time // when the picking SLA runs out
	locationID string
	promised   *time.Time
	reviewAt   time.Time // when the review request is due (outside quiet hours)

	pick          *CompletePickRequest // what staff confirmed, once
	pickStartedBy string               // who started the pick (start-pick), once

	payment      paymentState
	shipping     shippingState
	pickup       pickupState
	cancellation cancellationState
	attention    attentionState
	messages     messageState

	next    transition    // what happened since the order's record was last written
	journey []JourneyItem // what the status query shows
	viewSeq int64         // snapshots of the view taken for the projection (view)
	changed workflow.Channel
}

// paymentState is the money: the checkout's outcome and what was captured and
// refunded so far.
type paymentState struct {
	checkout    *CheckoutResult
	checkingOut bool // a checkout update is being served
	captured    int64
	refunded    int64
}

// shippingState is the parcel the carrier's events are matched against.
type shippingState struct {
	label   *activities.Label
	status  string          // the last carrier status that changes the order's course
	seen    map[string]bool // carrier event IDs: lookups only, never ranged over
	early   []CarrierEvent  // events for a label not recorded yet
	arrived string          // who confirmed a transfer's arrival ("carrier" for a delivered event)
	// labelling is true while a V2 transfer's Journey.Advance (label and
	// in-transit stage in one activity) runs, until the order entered
	// in_transit_to_store or the attempt failed (step.inFlight).
	labelling bool
}

// pickupState is the handover at the store; the workflow is the one owner of
// these facts (pickup.go).
type pickupState struct {
	codeNonce  string // the derived pickup code's nonce (the code itself is never kept)
	codeSalt   string // salt and hash of a code drawn before codes were derived (issuePickupCode)
	codeHash   string
	wrongCodes int // wrong pickup codes since the order was ready or last unlocked
	locked     bool
	deadline   time.Time
	reminders  []time.Time // pickup reminders, ascending; the first reminded are sent
	reminded   int         // reminders sent so far
	extended   int         // bumped by extend-pickup, so a waiting timer is replaced
	pickedUp   string      // who handed the order over
}

// cancellationState is a cancellation asked for and carried out.
type cancellationState struct {
	req     *CancelRequest // the accepted cancel update, until the run acts on it
	running bool           // the run is cancelling the order (a cancel's own steps offer no cancel)
	// closed: no cancellation can be taken any more (the order was cancelled,
	// handed over or shipped, or its run ended); a waiting cancel update answers.
	closed bool
}

// attentionState is whether the order needs a person, and why.
type attentionState struct {
	raised       bool            // NeedsAttention as upserted
	reason       string          // why, while raised
	flaggedOther bool            // flagged for something other than a step that gave up (SLA, carrier, lock)
	problem      *Problem        // the step that gave up, while it waits or retries
	decision     *ResolveRequest // support's decision, until the step takes it
}

// messageState is what the customer was sent, for support's resends.
type messageState struct {
	notices  map[domain.Touchpoint]activities.NotifyRequest // the last message of each touchpoint; lookups only
	resends  int                                            // support's resends so far: each one's key is new
	problems int                                            // delivery problems told to the customer
}

func (f *fulfilment) run(ctx workflow.Context) (Result, error) {
	if errs := domain.ValidateOrder(f.in.Order); len(errs) > 0 {
		// The checkout validator rejected the update for the same reason: nothing
		// was reserved or charged, so the order simply ends.
		f.stage = domain.StageRejected
		return f.result(ctx)
	}
	if err := workflow.Await(ctx, func() bool { return f.payment.checkout != nil }); err != nil {
		return Result{}, err
	}
	if f.payment.checkout.Outcome != OutcomeCaptured {
		return f.result(ctx)
	}
	err := f.picking(ctx)
	if err == nil {
		if f.in.Order.Method == domain.MethodShipToStore {
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
	f.cancellation.closed = true
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return Result{}, err
	}
	return Result{OrderID: f.in.Order.OrderID, Stage: f.stage, Captured: f.payment.captured, Refunded: f.payment.refunded}, nil
}

// wake tells a waiting run that a handler changed the state.
func (f *fulfilment) wake() { f.changed.SendAsync(struct{}{}) }

// waitFor blocks until done holds or a cancellation is requested. With a timeout,
// it gives up when a cancellable timer (shown in the Web UI with summary) fires
// first and reports timedOut; the timer is cancelled as soon as the wait ends, so it
// costs nothing later.
func (f *fulfilment) waitFor(ctx workflow.Context, timeout time.Duration, summary string, done func() bool) (timedOut bool, err error) {
	over := func() bool { return done() || f.cancellation.req != nil }
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

// summary is the projection row written with each stage change, with a new
// snapshot of the order's view.
func (f *fulfilment) summary() activities.OrderSummary {
	o := f.in.Order
	var deadline *time.Time
	if !f.pickup.deadline.IsZero() {
		d := f.pickup.deadline
		deadline = &d
	}
	return activities.OrderSummary{
		OrderID: o.OrderID, CustomerID: o.Customer.ID, Method: o.Method, StoreID: o.StoreID,
		LocationID: f.locationID, Total: o.Total(), Currency: o.Currency, PlacedAt: o.PlacedAt,
		CustomerName: o.Customer.Name, PromisedReadyAt: f.promised, PickupDeadline: deadline,
		NeedsAttention: f.attention.raised, AttentionReason: f.attention.reason, View: f.view(),
	}
}

// message builds a touchpoint's notification request. Amounts and times are
// formatted in the customer's locale when the message is rendered.
func (f *fulfilment) message(tp domain.Touchpoint, facts map[string]string) activities.NotifyRequest {
	o := f.in.Order
	skus := make([]string, len(o.Lines))
	for i, l := range o.Lines {
		skus[i] = l.SKU
	}
	return activities.NotifyRequest{OrderID: o.OrderID, Touchpoint: tp, Customer: o.Customer, StoreID: o.StoreID, Facts: facts,
		Currency: o.Currency, SKUs: skus}
}

// messageAmount is message with one amount ("amount") in minor units.
func (f *fulfilment) messageAmount(tp domain.Touchpoint, facts map[string]string, amount int64) activities.NotifyRequest {
	m := f.message(tp, facts)
	m.Amounts = map[string]int64{"amount": amount}
	return m
}

func (f *fulfilment) money(minor int64) string {
	return formatAmount(minor) + " " + f.in.Order.Currency
}
