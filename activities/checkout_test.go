package activities_test

import (
	"context"
	"fmt"
	"testing"

	"go.temporal.io/sdk/testsuite"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/adapters/sandbox"
	"github.com/everywherecommerce/fulfilment/domain"
)

// refusingPayments refuses every capture with err.
type refusingPayments struct {
	activities.PaymentProvider
	err error
}

func (p refusingPayments) Capture(context.Context, activities.CaptureRequest) (activities.Capture, error) {
	return activities.Capture{}, p.err
}

// TestCheckoutReportsPaymentFailuresTheWorkflowKnows: a capture refused for good
// ends the checkout with a payment failure whose type the workflow finds a
// customer reason for, and the stock goes back; the three used to be separate
// tables that could drift apart.
func TestCheckoutReportsPaymentFailuresTheWorkflowKnows(t *testing.T) {
	for _, tc := range []struct {
		sentinel error
		typ      string
		flagged  bool
	}{
		{activities.ErrCardDeclined, activities.ErrTypeCardDeclined, false},
		{activities.ErrAuthorizationExpired, activities.ErrTypeAuthorizationExpired, false},
		{activities.ErrAlreadyCaptured, activities.ErrTypeAlreadyCaptured, true},
		{activities.ErrInvalidRequest, activities.ErrTypeInvalidRequest, true},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			store := sandbox.NewStore()
			if err := store.AddLocation(activities.Location{ID: "dc", Kind: activities.KindDistributionCentre, Name: "DC", TimeZone: "Europe/Berlin"}); err != nil {
				t.Fatal(err)
			}
			if err := store.SetStock("dc", "S", 1); err != nil {
				t.Fatal(err)
			}
			checkout := &activities.Checkout{Stock: store, Payments: refusingPayments{err: fmt.Errorf("provider: %w", tc.sentinel)}}
			var ts testsuite.WorkflowTestSuite
			env := ts.NewTestActivityEnvironment()
			env.RegisterActivity(checkout)
			v, err := env.ExecuteActivity(checkout.CheckOut, activities.CheckoutRequest{
				Reserve: activities.ReserveRequest{OrderID: "A-1", Locations: []string{"dc"}, Lines: []domain.Line{{SKU: "S", Quantity: 1, UnitPrice: 100}}},
				Capture: activities.CaptureRequest{PaymentID: "pi_1", Amount: 100, Currency: "EUR", IdempotencyKey: "A-1:capture"},
			})
			if err != nil {
				t.Fatalf("checkout failed: %v; want a payment failure outcome", err)
			}
			var out activities.CheckoutOutcome
			if err := v.Get(&out); err != nil {
				t.Fatal(err)
			}
			failed := activities.PaymentFailureOf(out.PaymentFailure)
			if out.PaymentFailure != tc.typ || failed.Reason == "" || (failed.Attention != "") != tc.flagged {
				t.Errorf("payment failure %q: %+v; want type %s with a reason, flagged %v", out.PaymentFailure, failed, tc.typ, tc.flagged)
			}
			if got := store.StockQuantity("dc", "S"); got != 1 {
				t.Errorf("stock after the failed capture = %d, want 1 (released)", got)
			}
		})
	}
}
