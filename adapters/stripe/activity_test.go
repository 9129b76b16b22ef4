package stripe_test

import (
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/adapters/sandbox"
	"github.com/everywherecommerce/fulfilment/adapters/stripe/stripetest"
	"github.com/everywherecommerce/fulfilment/domain"
)

// TestActivitiesClassifyStripeErrors runs the payment activities on the adapter
// and checks what Temporal gets: the workflow's branches rely on the
// non-retryable types, and the retry policy on NextRetryDelay.
func TestActivitiesClassifyStripeErrors(t *testing.T) {
	t.Parallel()
	const pi = "pi_3OclassifyJN5vQBdWEx"
	tests := []struct {
		name         string
		activity     string
		reply        stripetest.Reply
		wantType     string // "" = any type, retryable
		nonRetryable bool
		nextDelay    time.Duration
	}{
		{"declined", "capture", stripetest.CardDeclined(pi), activities.ErrTypeCardDeclined, true, 0},
		{"expired", "capture", stripetest.UnexpectedState(pi, "capture", "canceled"), activities.ErrTypeAuthorizationExpired, true, 0},
		{"expired (charge code)", "capture", stripetest.ChargeExpiredForCapture("ch_1"), activities.ErrTypeAuthorizationExpired, true, 0},
		{"already captured", "capture", stripetest.UnexpectedState(pi, "capture", "succeeded"), activities.ErrTypeAlreadyCaptured, true, 0},
		{"unknown PaymentIntent", "capture", stripetest.ResourceMissing(pi), activities.ErrTypeInvalidRequest, true, 0},
		{"idempotency mismatch", "refund", stripetest.IdempotencyMismatch("A-1:refund:short-pick"), activities.ErrTypeInvalidRequest, true, 0},
		{"void after capture", "void", stripetest.UnexpectedState(pi, "cancel", "succeeded"), activities.ErrTypeInvalidRequest, true, 0},
		{"rate limited, Retry-After 3", "capture", stripetest.RateLimited("3"), "RetryAfter", false, 3 * time.Second},
		{"unavailable, Retry-After 7", "refund", stripetest.Unavailable("7"), "RetryAfter", false, 7 * time.Second},
		{"rate limited", "capture", stripetest.RateLimited(""), "", false, 0},
		{"lock timeout", "void", stripetest.LockTimeout(), "", false, 0},
		{"api_error", "capture", stripetest.APIError(), "", false, 0},
		{"not Stripe's JSON", "capture", stripetest.BadGateway(), "", false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := stripetest.NewServer(t)
			srv.Answer(tc.reply)
			pay := &activities.Payments{Provider: newAdapter(t, srv.URL)}
			checkout := &activities.Checkout{Payments: pay.Provider, Stock: stockedStore(t)}
			var ts testsuite.WorkflowTestSuite
			env := ts.NewTestActivityEnvironment()
			env.RegisterActivity(pay)
			env.RegisterActivity(checkout)
			var err error
			switch tc.activity {
			case "capture":
				// The capture runs inside the checkout, which reports a refusal
				// that ends the order as an outcome (its type), not an error.
				var v converter.EncodedValue
				v, err = env.ExecuteActivity(checkout.CheckOut, activities.CheckoutRequest{
					Reserve: activities.ReserveRequest{OrderID: "A-1", Locations: []string{"dc"}, Lines: []domain.Line{{SKU: "S", Quantity: 1, UnitPrice: 2500}}},
					Capture: activities.CaptureRequest{PaymentID: pi, Amount: 2500, Currency: "EUR", IdempotencyKey: "A-1:capture"}})
				var out activities.CheckoutOutcome
				if err == nil && v.Get(&out) == nil && out.PaymentFailure != "" {
					if out.PaymentFailure != tc.wantType || !tc.nonRetryable {
						t.Errorf("payment failure = %q, want %q (retryable: %v)", out.PaymentFailure, tc.wantType, !tc.nonRetryable)
					}
					return
				}
			case "refund":
				_, err = env.ExecuteActivity(pay.RefundPayment, activities.RefundRequest{
					PaymentID: pi, Amount: 900, Currency: "EUR", Reason: "short-pick", IdempotencyKey: "A-1:refund:short-pick"})
			case "void":
				_, err = env.ExecuteActivity(pay.VoidPayment, activities.VoidRequest{PaymentID: pi, IdempotencyKey: "A-1:void"})
			}
			var appErr *temporal.ApplicationError
			if !errors.As(err, &appErr) {
				t.Fatalf("err = %v (%T), want a *temporal.ApplicationError", err, err)
			}
			if tc.wantType != "" && appErr.Type() != tc.wantType {
				t.Errorf("type = %q, want %q (%v)", appErr.Type(), tc.wantType, err)
			}
			if appErr.NonRetryable() != tc.nonRetryable {
				t.Errorf("NonRetryable = %v, want %v (%v)", appErr.NonRetryable(), tc.nonRetryable, err)
			}
			if appErr.NextRetryDelay() != tc.nextDelay {
				t.Errorf("NextRetryDelay = %v, want %v", appErr.NextRetryDelay(), tc.nextDelay)
			}
		})
	}
}

// stockedStore is a sandbox store whose location "dc" holds the SKU "S", so that
// a checkout gets past its reservation to the capture.
func stockedStore(t *testing.T) *sandbox.Store {
	t.Helper()
	st := sandbox.NewStore()
	if err := st.AddLocation(activities.Location{ID: "dc", Kind: activities.KindDistributionCentre, Name: "DC", TimeZone: "Europe/Berlin"}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetStock("dc", "S", 1); err != nil {
		t.Fatal(err)
	}
	return st
}
