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
