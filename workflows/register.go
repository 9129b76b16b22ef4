package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"
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
	workflow.Go(ctx, f.receiveSignals)
	return nil
}

// receiveSignals applies the carrier and payment events as they are signalled,
// each kind in order, the two kinds independently: a carrier event waiting for its
// journey activity does not hold up a dispute, and the other way round.
//
// Orders used to run two loops from the start, carrier then payment, each blocked
// on its channel; most orders never get a signal, and an idle loop costs the
// worker a goroutine (~8 KB of stack) per cached order. So this goroutine takes
// the carrier loop's place and starts the payment loop only with the first
// signal of either kind, before handling it. Coroutines started with workflow.Go
// run after the ones started before them (update handlers run first), so from
// then on the two loops run in the same order, at the same points, as they
// always did: the same commands in the same order on replay.
func (f *fulfilment) receiveSignals(ctx workflow.Context) {
	carrier := workflow.GetSignalChannel(ctx, SignalCarrierEvent)
	payments := workflow.GetSignalChannel(ctx, SignalPaymentEvent)
	var first *CarrierEvent
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(carrier, func(c workflow.ReceiveChannel, _ bool) {
		var ev CarrierEvent
		c.Receive(ctx, &ev)
		first = &ev
	})
	// A payment event is left in its channel for the payment loop to receive.
	sel.AddReceive(payments, func(workflow.ReceiveChannel, bool) {})
	sel.Select(ctx)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var ev PaymentEvent
			if !payments.Receive(ctx, &ev) {
				return
			}
			f.handlePaymentEvent(ctx, ev)
		}
	})
	if first != nil {
		f.handleCarrierEvent(ctx, *first)
	}
	for {
		var ev CarrierEvent
		if !carrier.Receive(ctx, &ev) {
			return
		}
		f.handleCarrierEvent(ctx, ev)
	}
}
