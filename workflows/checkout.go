package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/everywherecommerce/fulfilment/activities"
)

// handleCheckout reserves stock and captures the payment, and answers the checkout
// service with the outcome. A repeated checkout (another update ID) gets the first
// answer.
func (f *fulfilment) handleCheckout(ctx workflow.Context, _ CheckoutRequest) (CheckoutResult, error) {
	if f.checkingOut {
		err := workflow.Await(ctx, func() bool { return f.checkout != nil })
		if err != nil {
			return CheckoutResult{}, err
		}
		return *f.checkout, nil
	}
	f.checkingOut = true
	res, err := f.checkoutSteps(ctx)
	if err != nil {
		return CheckoutResult{}, err
	}
	res.OrderID, res.Currency, res.RequestHash = f.in.Order.OrderID, f.in.Order.Currency, f.in.RequestHash
	res.Stage, res.CapturedAmount = f.stage, f.captured
	f.checkout = &res
	f.wake()
	return res, nil
}

func (f *fulfilment) checkoutSteps(ctx workflow.Context) (CheckoutResult, error) {
	o := f.in.Order
	if err := f.setStage(ctx, StageAccepted, "", ""); err != nil {
		return CheckoutResult{}, err
	}
	locations := []string{f.in.Policy.DistributionCentre}
	if o.Method == activities.MethodShipToStore {
		locations = []string{o.StoreID, f.in.Policy.DistributionCentre}
	}
	var inv *activities.Inventory
	var res activities.Reservation
	err := workflow.ExecuteActivity(activityOptions(ctx, "reserve stock"), inv.ReserveStock, activities.ReserveRequest{
		OrderID: o.OrderID, Locations: locations, Lines: o.Lines,
	}).Get(ctx, &res)
	switch {
	case errorType(err) == activities.ErrTypeUnknownLocation:
		return f.reject(ctx, fmt.Sprintf("unknown store %q", o.StoreID), nil)
	case err != nil:
		return CheckoutResult{}, fmt.Errorf("reserve stock: %w", err)
	case len(res.Short) > 0:
		return f.reject(ctx, "not enough stock", res.Short)
	}
	f.locationID = res.LocationID

	var pay *activities.Payments
	var capture activities.Capture
	err = workflow.ExecuteActivity(activityOptions(ctx, "capture payment"), pay.CapturePayment, activities.CaptureRequest{
		PaymentID: o.PaymentIntentID, Amount: o.Total(), Currency: o.Currency, IdempotencyKey: o.OrderID + ":capture",
	}).Get(ctx, &capture)
	if err != nil {
		return f.paymentFailed(ctx, err)
	}
	f.captured = capture.Amount
	if err := f.setStage(ctx, StagePaymentCaptured, "", ""); err != nil {
		return CheckoutResult{}, err
	}
	out := CheckoutResult{Outcome: OutcomeCaptured}
	if o.Method == activities.MethodShipToStore {
		lead := f.in.Policy.StoreReadyLead
		if f.locationID != o.StoreID {
			lead = f.in.Policy.TransferLead
		}
		promised := o.PlacedAt.Add(lead)
		out.PromisedReadyAt = &promised
	}
	return out, nil
}

// reject ends a checkout that cannot be served; nothing was reserved or charged.
func (f *fulfilment) reject(ctx workflow.Context, reason string, short []activities.ShortLine) (CheckoutResult, error) {
	if err := f.setStage(ctx, StageRejected, "", reason); err != nil {
		return CheckoutResult{}, err
	}
	return CheckoutResult{Outcome: OutcomeRejected, Reason: reason, Short: short}, nil
}

// paymentFailed handles a capture that did not happen: stock goes back and the
// customer is told. Declines and expired or foreign-captured authorizations are
// business outcomes; anything else is a bug and fails the checkout.
func (f *fulfilment) paymentFailed(ctx workflow.Context, err error) (CheckoutResult, error) {
	reasons := map[string]string{
		activities.ErrTypeCardDeclined:         "the card was declined",
		activities.ErrTypeAuthorizationExpired: "the payment authorization has expired",
		activities.ErrTypeAlreadyCaptured:      "the payment was already captured outside this order",
	}
	reason, ok := reasons[errorType(err)]
	if !ok {
		return CheckoutResult{}, fmt.Errorf("capture payment: %w", err)
	}
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	if err := f.releaseStock(dctx, nil); err != nil {
		return CheckoutResult{}, err
	}
	if err := f.setStage(dctx, StagePaymentFailed, "", reason); err != nil {
		return CheckoutResult{}, err
	}
	if errorType(err) == activities.ErrTypeAlreadyCaptured {
		// The customer may have paid through another flow: a person reconciles it.
		if err := f.flag(dctx, "payment captured outside this order: reconcile with the payment provider"); err != nil {
			return CheckoutResult{}, err
		}
	}
	f.notify(dctx, activities.TouchPaymentFailed, map[string]string{"reason": reason})
	return CheckoutResult{Outcome: OutcomePaymentFailed, Reason: reason}, nil
}

// releaseStock returns stock: all of it (nil) or the given absolute quantities.
func (f *fulfilment) releaseStock(ctx workflow.Context, lines []activities.PickedLine) error {
	var inv *activities.Inventory
	err := workflow.ExecuteActivity(activityOptions(ctx, "release stock"), inv.ReleaseStock, activities.ReleaseStockRequest{
		OrderID: f.in.Order.OrderID, Lines: lines,
	}).Get(ctx, nil)
	if err != nil {
		return fmt.Errorf("release stock: %w", err)
	}
	return nil
}
