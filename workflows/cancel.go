package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

// cancellable are the stages in which an order can still be cancelled: before
// handover or shipping.
func cancellable(s domain.Stage) bool {
	switch s {
	case domain.StagePaymentCaptured, domain.StagePicking, domain.StagePicked, domain.StageInTransitToStore, domain.StageReadyForPickup:
		return true
	}
	return false
}

func (f *fulfilment) validateCancel(req CancelRequest) error {
	switch {
	case req.Reason == "":
		return domain.FieldError{Field: "reason", Message: "is required"}
	case f.cancellation.req != nil:
		return wrongStage("A cancellation is already under way.")
	case !cancellable(f.stage) || f.cancellation.closed:
		return wrongStage("%s", whyNotCancellable(f.stage))
	}
	return nil
}

// whyNotCancellable says, for the API's caller, why an order at stage s can no
// longer be cancelled.
func whyNotCancellable(s domain.Stage) string {
	switch s {
	case domain.StagePickedUp:
		return "The order has already been handed over to the customer."
	case domain.StageReviewRequested, domain.StageCompleted:
		return "The order has already been handed over or delivered."
	case domain.StageShipped:
		return "The order has already been shipped."
	case domain.StageDelivered:
		return "The order has already been delivered."
	case domain.StageCancelled:
		return "The order has already been cancelled."
	case domain.StageAccepted:
		return "The checkout is still under way."
	case domain.StageRejected, domain.StagePaymentFailed:
		return "The order ended at checkout (" + string(s) + ")."
	}
	return "The order has ended."
}

// handleCancel asks the run to cancel and waits for the compensation, so that the
// caller learns what was refunded.
func (f *fulfilment) handleCancel(ctx workflow.Context, req CancelRequest) (CancelResult, error) {
	f.cancellation.req = &req
	f.wake()
	if err := workflow.Await(ctx, func() bool { return f.cancellation.closed }); err != nil {
		return CancelResult{}, err
	}
	if f.stage != domain.StageCancelled {
		// The run ended (the order was rejected, handed over, ...) before it
		// could act on the accepted cancellation.
		return CancelResult{}, wrongStage("%s", whyNotCancellable(f.stage))
	}
	return CancelResult{OrderID: f.in.Order.OrderID, Stage: f.stage, Refunded: f.payment.refunded}, nil
}

// cancelRequested carries out an accepted cancel update.
func (f *fulfilment) cancelRequested(ctx workflow.Context) error {
	return f.cancel(ctx, f.cancellation.req.Reason, f.cancellation.req.By, true)
}

// cancel ends the order before handover or shipping: the rest of the payment is
// refunded (key "<order_id>:refund:cancel") unless support settled the money
// outside (refund false), an unused label voided, the pick task closed, all stock
// returned and the customer told. It runs on a disconnected context so that the
// compensation completes even if the workflow itself is cancelled. It returns
// errOrderEnded, which ends the run with the cancelled stage.
func (f *fulfilment) cancel(ctx workflow.Context, reason, actor string, refund bool) error {
	dctx, done := workflow.NewDisconnectedContext(ctx)
	defer done()
	f.cancellation.running = true
	if refund {
		if err := f.refund(dctx, f.payment.captured-f.payment.refunded, "cancel"); err != nil {
			return err
		}
	}
	if f.shipping.label != nil && f.shipping.status == "" {
		var sh *activities.Shipping
		_, err := f.attempt(dctx, step{name: "void unused label", also: []ResolveAction{ResolveSkip}}, func(ctx workflow.Context) error {
			return workflow.ExecuteActivity(f.options(ctx, "void unused label"), sh.VoidLabel, f.shipping.label.ShipmentID).Get(ctx, nil)
		})
		if err != nil {
			return fmt.Errorf("void label: %w", err)
		}
	}
	f.enter(dctx, domain.StageCancelled, actor, reason)
	f.next.release = &activities.ReleaseStockRequest{OrderID: f.in.Order.OrderID}
	_, err := f.advance(dctx, "cancelled: stock back, customer told", activities.Progress{
		CancelPickTask: true,
		Notify:         []activities.NotifyRequest{f.messageAmount(domain.TouchCancelled, map[string]string{"reason": reason}, f.payment.refunded)},
	})
	if err != nil {
		return err
	}
	f.cancellation.closed = true
	return errOrderEnded
}
