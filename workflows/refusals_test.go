package workflows_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// refusedAs reports whether an update was refused with the application error
// type typ: the type, not the message, is what the starter maps to HTTP. The
// test environment hands over the validator's error as it is, so it goes through
// the default failure converter first, as it does on its way to the starter
// (where a FieldError becomes an application error of type "FieldError").
// attemptsLeft reads a counted wrong code's attempts left, as the starter does.
func attemptsLeft(err error) (int, bool) {
	if err == nil {
		return 0, false
	}
	fc := temporal.GetDefaultFailureConverter()
	var appErr *temporal.ApplicationError
	if !errors.As(fc.FailureToError(fc.ErrorToFailure(err)), &appErr) || appErr.Type() != workflows.ErrTypeWrongPickupCode {
		return 0, false
	}
	var d workflows.WrongPickupCode
	if appErr.Details(&d) != nil {
		return 0, false
	}
	return d.AttemptsLeft, true
}

func refusedAs(err error, typ string) bool {
	if err == nil {
		return false
	}
	fc := temporal.GetDefaultFailureConverter()
	var appErr *temporal.ApplicationError
	return errors.As(fc.FailureToError(fc.ErrorToFailure(err)), &appErr) && appErr.Type() == typ
}

func TestStockShortRejectionVoidsTheAuthorization(t *testing.T) {
	h := newHarness(t, domain.MethodShipToStore)
	h.in.Order.Lines[1].Quantity = 11 // neither the store nor the DC has 11 straps
	res, _ := h.checkout()

	final := h.run()

	equal(t, "checkout outcome", res.Outcome, workflows.OutcomeRejected)
	equal(t, "final stage", final.Stage, domain.StageRejected)
	equal(t, "authorization voided", h.pay.Voided("pi_test_1"), true)
	equal(t, "nothing captured", h.pay.Captured("pi_test_1"), int64(0))
}

func TestUnknownStoreRejectionVoidsTheAuthorization(t *testing.T) {
	h := newHarness(t, domain.MethodShipToStore)
	h.in.Order.StoreID = "nowhere"
	res, _ := h.checkout()

	final := h.run()

	equal(t, "checkout outcome", res.Outcome, workflows.OutcomeRejected)
	equal(t, "final stage", final.Stage, domain.StageRejected)
	equal(t, "authorization voided", h.pay.Voided("pi_test_1"), true)
}

// A void the provider refuses (here: the payment was captured elsewhere) must not
// fail the rejected order or flag it: the customer was not charged by us.
func TestRefusedVoidStillEndsTheRejectedOrder(t *testing.T) {
	h := newHarness(t, domain.MethodShipToStore)
	h.in.Order.PaymentIntentID = "pi_captured_1"
	h.in.Order.Lines[1].Quantity = 11
	res, _ := h.checkout()

	final := h.run()

	equal(t, "checkout outcome", res.Outcome, workflows.OutcomeRejected)
	equal(t, "final stage", final.Stage, domain.StageRejected)
	equal(t, "authorization voided", h.pay.Voided("pi_captured_1"), false)
	equal(t, "attention entries", h.journeyNotes(activities.EntryAttention), []string(nil))
}

// A refused update crosses Temporal as an application error with a type, and a
// refused cancel says why in words for the API's caller.
func TestRefusedUpdatesCarryTypeAndReason(t *testing.T) {
	h := newHarness(t, domain.MethodHomeDelivery)
	h.checkout()
	resend := h.update(time.Minute, workflows.UpdateResend, workflows.ResendRequest{Touchpoint: domain.TouchShipped, By: "support-1"}, nil)
	resolve := h.update(time.Minute, workflows.UpdateResolve, workflows.ResolveRequest{Action: workflows.ResolveRetry, By: "support-1"}, nil)
	noReason := h.update(time.Minute, workflows.UpdateCancel, workflows.CancelRequest{By: "support-1"}, nil)
	first, again := &outcome{}, &outcome{}
	h.env.RegisterDelayedCallback(func() {
		h.send(first, workflows.UpdateCancel, workflows.CancelRequest{Reason: "customer asked", By: "support-1"}, nil)
		h.send(again, workflows.UpdateCancel, workflows.CancelRequest{Reason: "asked twice", By: "support-1"}, nil)
	}, 2*time.Minute)

	final := h.run()

	equal(t, "final stage", final.Stage, domain.StageCancelled)
	if !first.accepted || first.err != nil {
		t.Errorf("first cancel: accepted %v, err %v", first.accepted, first.err)
	}
	for _, tc := range []struct {
		name   string
		out    *outcome
		typ    string
		reason string
	}{
		{"resend of a message never sent", resend, workflows.ErrTypeNothingToResend, "has not been sent the shipped message"},
		{"resolve with nothing to resolve", resolve, workflows.ErrTypeNothingToResolve, "not waiting for a decision"},
		{"cancel without a reason", noReason, workflows.ErrTypeFieldError, "reason: is required"},
		{"cancel during a cancellation", again, workflows.ErrTypeWrongStage, "A cancellation is already under way."},
	} {
		if !refusedAs(tc.out.rejected, tc.typ) || !strings.Contains(tc.out.rejected.Error(), tc.reason) {
			t.Errorf("%s: rejected = %v, want type %s saying %q", tc.name, tc.out.rejected, tc.typ, tc.reason)
		}
	}
}
