package contract_test

// Contract tests of activities.PaymentProvider: the sandbox fake and the Stripe
// adapter must give the activities the same answers, so that workflow tests on
// the fake prove something about production. The Stripe adapter runs twice:
// against stripe-mock (Stripe's OpenAPI spec checks every request's shape; it
// keeps no state and models no failures) and against stripetest, a fake of the
// three endpoints that checks each request's method, path, key, idempotency key
// and form fields and answers with Stripe's response shapes, declines and
// outages included, keyed on the same magic PaymentIntent IDs as the sandbox.

import (
	"context"
	"errors"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/adapters/postgres"
	"github.com/everywherecommerce/fulfilment/adapters/postgres/pgtest"
	"github.com/everywherecommerce/fulfilment/adapters/sandbox"
	"github.com/everywherecommerce/fulfilment/adapters/stripe"
	"github.com/everywherecommerce/fulfilment/adapters/stripe/stripetest"
)

// paymentsHarness is one payment provider under test.
type paymentsHarness struct {
	provider activities.PaymentProvider
	stateful bool // see paymentImplementations
	// requests lists what reached Stripe's API; nil where it cannot be observed.
	requests func() []stripetest.Request
	// restart builds a new provider on the same provider-side state, as a worker
	// restart or a second worker process would; nil where that state lives in the
	// provider value itself (the in-memory sandbox) or there is none (stripe-mock).
	restart func(t *testing.T) activities.PaymentProvider
}

// paymentImplementations builds each implementation on fresh state. stateful:
// it remembers captures, refunds, voids and idempotency keys and produces the
// magic-value failures; stripe-mock does neither.
func paymentImplementations() []struct {
	name     string
	stateful bool
	new      func(t *testing.T) paymentsHarness
} {
	return []struct {
		name     string
		stateful bool
		new      func(t *testing.T) paymentsHarness
	}{
		{"sandbox", true, func(*testing.T) paymentsHarness {
			return paymentsHarness{provider: sandbox.NewPayments()}
		}},
		{"sandbox/postgres", true, func(t *testing.T) paymentsHarness {
			ledger := postgres.NewStore(pgtest.New(t)).SandboxLedger()
			newPayments := func(*testing.T) activities.PaymentProvider {
				return sandbox.NewPayments(sandbox.WithPaymentLedger(ledger))
			}
			return paymentsHarness{provider: newPayments(t), restart: newPayments}
		}},
		{"stripe/stripetest", true, func(t *testing.T) paymentsHarness {
			srv := stripetest.NewServer(t)
			newPayments := func(t *testing.T) activities.PaymentProvider {
				return newStripePayments(t, srv.URL, stripetest.SecretKey)
			}
			return paymentsHarness{provider: newPayments(t), requests: srv.Requests, restart: newPayments}
		}},
		{"stripe/stripe-mock", false, func(t *testing.T) paymentsHarness {
			url := os.Getenv("STRIPE_MOCK_URL")
			if url == "" {
				t.Fatal("STRIPE_MOCK_URL is not set: run via make test (deploy/local/test.sh starts stripe-mock)")
			}
			return paymentsHarness{provider: newStripePayments(t, url, "sk_test_123")}
		}},
	}
}

func newStripePayments(t *testing.T, url, key string) *stripe.Payments {
	t.Helper()
	p, err := stripe.NewPayments(stripe.Config{SecretKey: key, BackendURL: url, HTTPClient: &http.Client{Timeout: 10 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// forEachPayments runs the contract f against every implementation, in parallel;
// statefulOnly leaves out stripe-mock, which keeps no state.
func forEachPayments(t *testing.T, statefulOnly bool, f func(t *testing.T, h paymentsHarness)) {
	t.Helper()
	for _, impl := range paymentImplementations() {
		if statefulOnly && !impl.stateful {
			continue
		}
		t.Run(impl.name, func(t *testing.T) {
			t.Parallel()
			h := impl.new(t)
			h.stateful = impl.stateful
			f(t, h)
		})
	}
}

// Requests of the contract: idempotency keys as the workflows derive them.
func payCaptureReq(pi string, amount int64) activities.CaptureRequest {
	return activities.CaptureRequest{PaymentID: pi, Amount: amount, Currency: "EUR", IdempotencyKey: "order-" + pi + ":capture"}
}

func payRefundReq(pi string, amount int64, reason string) activities.RefundRequest {
	return activities.RefundRequest{PaymentID: pi, Amount: amount, Currency: "EUR", Reason: reason,
		IdempotencyKey: "order-" + pi + ":refund:" + reason}
}

func payVoidReq(pi string) activities.VoidRequest {
	return activities.VoidRequest{PaymentID: pi, IdempotencyKey: "order-" + pi + ":void"}
}

func payCapture(t *testing.T, h paymentsHarness, req activities.CaptureRequest) activities.Capture {
	t.Helper()
	c, err := h.provider.Capture(t.Context(), req)
	if err != nil {
		t.Fatalf("capture %s: %v", req.PaymentID, err)
	}
	return c
}

func payWantSentinel(t *testing.T, what string, err, sentinel error) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Errorf("%s: err = %v, want %v", what, err, sentinel)
	}
	var ra *activities.RetryAfterError
	if errors.As(err, &ra) {
		t.Errorf("%s: a permanent failure also carries a RetryAfterError: %v", what, err)
	}
}

// payWantRetryable asserts an error the activity retries: no sentinel.
func payWantRetryable(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: err = nil, want a retryable error", what)
	}
	for _, s := range []error{activities.ErrCardDeclined, activities.ErrAuthorizationExpired, activities.ErrAlreadyCaptured, activities.ErrInvalidRequest} {
		if errors.Is(err, s) {
			t.Errorf("%s: err wraps %q, want a retryable error: %v", what, s, err)
		}
	}
}

func TestPaymentsContractCaptureRefundVoid(t *testing.T) {
	t.Parallel()
	forEachPayments(t, false, func(t *testing.T, h paymentsHarness) {
		ctx := t.Context()
		c := payCapture(t, h, payCaptureReq("pi_contract_ok", 2500))
		if c.ID == "" {
			t.Error("capture returned no ID")
		}
		// stripe-mock answers a fixed PaymentIntent (amount_received 0), whatever
		// amount_to_capture says; stripetest answers what Stripe would.
		if h.stateful && c.Amount != 2500 {
			t.Errorf("captured %d, want 2500", c.Amount)
		}
		r, err := h.provider.Refund(ctx, payRefundReq("pi_contract_ok", 900, "short-pick"))
		if err != nil {
			t.Fatalf("refund: %v", err)
		}
		if r.ID == "" || r.Amount != 900 {
			t.Errorf("refund = %+v, want an ID and 900", r)
		}
		if err := h.provider.Void(ctx, payVoidReq("pi_contract_void")); err != nil {
			t.Fatalf("void: %v", err)
		}
		if h.requests == nil {
			return
		}
		got := h.requests()
		want := []struct{ path, key, field, value string }{
			{"/v1/payment_intents/pi_contract_ok/capture", "order-pi_contract_ok:capture", "amount_to_capture", "2500"},
			{"/v1/refunds", "order-pi_contract_ok:refund:short-pick", "amount", "900"},
			{"/v1/payment_intents/pi_contract_void/cancel", "order-pi_contract_void:void", "", ""},
		}
		if len(got) != len(want) {
			t.Fatalf("%d requests, want %d: %+v", len(got), len(want), got)
		}
		for i, w := range want {
			g := got[i]
			if g.Method != http.MethodPost || g.Path != w.path || g.IdempotencyKey != w.key {
				t.Errorf("request %d = %s %s key %q, want POST %s key %q", i, g.Method, g.Path, g.IdempotencyKey, w.path, w.key)
			}
			if w.field != "" && g.Form.Get(w.field) != w.value {
				t.Errorf("request %d: %s=%q, want %q", i, w.field, g.Form.Get(w.field), w.value)
			}
		}
		if pi := got[1].Form.Get("payment_intent"); pi != "pi_contract_ok" {
			t.Errorf("refund payment_intent=%q, want pi_contract_ok", pi)
		}
		if reason := got[1].Form.Get("metadata[fulfilment_reason]"); reason != "short-pick" {
			t.Errorf("refund metadata[fulfilment_reason]=%q, want short-pick", reason)
		}
	})
}

// TestPaymentsRefusesAmbiguousRequests: Stripe reads a missing amount as
// "everything" and a missing idempotency key as "a new request each time".
func TestPaymentsContractRefusesAmbiguousRequests(t *testing.T) {
	t.Parallel()
	forEachPayments(t, false, func(t *testing.T, h paymentsHarness) {
		ctx := t.Context()
		_, err := h.provider.Capture(ctx, payCaptureReq("pi_contract_zero", 0))
		payWantSentinel(t, "capture of 0", err, activities.ErrInvalidRequest)
		payCapture(t, h, payCaptureReq("pi_contract_refund0", 1000))
		_, err = h.provider.Refund(ctx, payRefundReq("pi_contract_refund0", 0, "cancel"))
		payWantSentinel(t, "refund of 0", err, activities.ErrInvalidRequest)
		noKey := payCaptureReq("pi_contract_nokey", 1000)
		noKey.IdempotencyKey = ""
		_, err = h.provider.Capture(ctx, noKey)
		payWantSentinel(t, "capture without idempotency key", err, activities.ErrInvalidRequest)
	})
}

func TestPaymentsContractIdempotency(t *testing.T) {
	t.Parallel()
	forEachPayments(t, true, func(t *testing.T, h paymentsHarness) {
		ctx := t.Context()
		first := payCapture(t, h, payCaptureReq("pi_contract_idem", 4000))
		if again := payCapture(t, h, payCaptureReq("pi_contract_idem", 4000)); again != first {
			t.Errorf("same key captured again: %+v, first %+v", again, first)
		}
		other := payCaptureReq("pi_contract_idem", 4000)
		other.IdempotencyKey = "another-order:capture"
		_, err := h.provider.Capture(ctx, other)
		payWantSentinel(t, "second capture, other key", err, activities.ErrAlreadyCaptured)
		_, err = h.provider.Capture(ctx, payCaptureReq("pi_contract_idem", 3000))
		payWantSentinel(t, "same key, other amount", err, activities.ErrInvalidRequest)

		r1, err := h.provider.Refund(ctx, payRefundReq("pi_contract_idem", 1500, "cancel"))
		if err != nil {
			t.Fatal(err)
		}
		r2, err := h.provider.Refund(ctx, payRefundReq("pi_contract_idem", 1500, "cancel"))
		if err != nil || r2 != r1 {
			t.Errorf("same refund key again = %+v, %v; want %+v", r2, err, r1)
		}
		_, err = h.provider.Refund(ctx, payRefundReq("pi_contract_idem", 1000, "cancel"))
		payWantSentinel(t, "same refund key, other amount", err, activities.ErrInvalidRequest)
	})
}

func TestPaymentsContractRefundLimits(t *testing.T) {
	t.Parallel()
	forEachPayments(t, true, func(t *testing.T, h paymentsHarness) {
		ctx := t.Context()
		_, err := h.provider.Refund(ctx, payRefundReq("pi_contract_notyet", 100, "cancel"))
		payWantSentinel(t, "refund before capture", err, activities.ErrInvalidRequest)
		payCapture(t, h, payCaptureReq("pi_contract_limit", 3000))
		_, err = h.provider.Refund(ctx, payRefundReq("pi_contract_limit", 3001, "too-much"))
		payWantSentinel(t, "refund above the capture", err, activities.ErrInvalidRequest)
		for _, reason := range []string{"short-pick", "cancel"} {
			if _, err := h.provider.Refund(ctx, payRefundReq("pi_contract_limit", 1500, reason)); err != nil {
				t.Fatalf("refund %s: %v", reason, err)
			}
		}
		_, err = h.provider.Refund(ctx, payRefundReq("pi_contract_limit", 1, "pickup-expired"))
		payWantSentinel(t, "refund after everything was refunded", err, activities.ErrInvalidRequest)
	})
}

func TestPaymentsContractPermanentFailures(t *testing.T) {
	t.Parallel()
	forEachPayments(t, true, func(t *testing.T, h paymentsHarness) {
		for pi, sentinel := range map[string]error{
			"pi_contract_decline":  activities.ErrCardDeclined,
			"pi_contract_expired":  activities.ErrAuthorizationExpired,
			"pi_contract_captured": activities.ErrAlreadyCaptured,
		} {
			for attempt := 1; attempt <= 2; attempt++ { // a retry cannot change the answer
				_, err := h.provider.Capture(t.Context(), payCaptureReq(pi, 2000))
				payWantSentinel(t, pi, err, sentinel)
			}
		}
	})
}

func TestPaymentsContractVoid(t *testing.T) {
	t.Parallel()
	forEachPayments(t, true, func(t *testing.T, h paymentsHarness) {
		ctx := t.Context()
		for attempt := 1; attempt <= 2; attempt++ {
			if err := h.provider.Void(ctx, payVoidReq("pi_contract_void_twice")); err != nil {
				t.Fatalf("void attempt %d: %v", attempt, err)
			}
		}
		again := payVoidReq("pi_contract_void_twice")
		again.IdempotencyKey = "support:void"
		if err := h.provider.Void(ctx, again); err != nil {
			t.Errorf("void of a voided payment, other key: %v", err)
		}
		_, err := h.provider.Capture(ctx, payCaptureReq("pi_contract_void_twice", 1000))
		payWantSentinel(t, "capture after void", err, activities.ErrAuthorizationExpired)
		if err := h.provider.Void(ctx, payVoidReq("pi_contract_void_expired")); err != nil {
			t.Errorf("void of an expired authorization: %v", err)
		}
		payCapture(t, h, payCaptureReq("pi_contract_void_late", 1000))
		payWantSentinel(t, "void after capture", h.provider.Void(ctx, payVoidReq("pi_contract_void_late")), activities.ErrInvalidRequest)
		payWantSentinel(t, "void of a payment captured elsewhere", h.provider.Void(ctx, payVoidReq("pi_contract_void_captured")), activities.ErrInvalidRequest)
	})
}

// TestPaymentsTransientFailures: an outage fails the first attempt of a key with
// a retryable error and the retry with the same key succeeds, once.
func TestPaymentsContractTransientFailures(t *testing.T) {
	t.Parallel()
	forEachPayments(t, true, func(t *testing.T, h paymentsHarness) {
		for _, magic := range []string{"ratelimit", "unavailable", "timeout"} {
			pi := "pi_contract_" + magic
			calls := []struct {
				op   string
				call func(ctx context.Context) error
			}{
				{"capture", func(ctx context.Context) error {
					_, err := h.provider.Capture(ctx, payCaptureReq(pi, 2000))
					return err
				}},
				{"refund", func(ctx context.Context) error {
					_, err := h.provider.Refund(ctx, payRefundReq(pi, 500, "short-pick"))
					return err
				}},
				{"void", func(ctx context.Context) error { return h.provider.Void(ctx, payVoidReq(pi+"_void")) }},
			}
			for _, c := range calls {
				what := magic + " " + c.op
				ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
				err := c.call(ctx)
				cancel()
				payWantRetryable(t, what, err)
				var ra *activities.RetryAfterError
				switch hasRA := errors.As(err, &ra); magic {
				case "ratelimit":
					if !hasRA || ra.After <= 0 {
						t.Errorf("%s: want a RetryAfterError with a wait, got %v", what, err)
					}
				case "unavailable":
					if hasRA {
						t.Errorf("%s: unexpected RetryAfterError: %v", what, err)
					}
				case "timeout":
					if !errors.Is(err, context.DeadlineExceeded) {
						t.Errorf("%s: err = %v, want one wrapping context.DeadlineExceeded", what, err)
					}
				}
				if err := c.call(t.Context()); err != nil {
					t.Errorf("%s: retry with the same key: %v", what, err)
				}
			}
		}
	})
}

// TestPaymentsContractRemembersAcrossRestart: what a provider captured, refunded
// and voided outlives the worker that asked for it. After a restart a refund of a
// capture made before it succeeds, part and then the rest; one more cent is
// refused; a repeated key answers its first refund; a voided authorization stays
// voided.
func TestPaymentsContractRemembersAcrossRestart(t *testing.T) {
	t.Parallel()
	forEachPayments(t, true, func(t *testing.T, h paymentsHarness) {
		if h.restart == nil {
			t.Skip("keeps its state in the provider value: a restarted worker starts empty")
		}
		ctx := t.Context()
		first := payCapture(t, h, payCaptureReq("pi_contract_restart", 3000))
		if err := h.provider.Void(ctx, payVoidReq("pi_contract_restart_void")); err != nil {
			t.Fatalf("void: %v", err)
		}

		after := h.restart(t)
		again, err := after.Capture(ctx, payCaptureReq("pi_contract_restart", 3000))
		if err != nil || again != first {
			t.Errorf("capture with the same key after a restart = %+v, %v; want the first %+v", again, err, first)
		}
		part, err := after.Refund(ctx, payRefundReq("pi_contract_restart", 1000, "short-pick"))
		if err != nil || part.Amount != 1000 {
			t.Fatalf("refund of part after a restart = %+v, %v; want 1000", part, err)
		}
		rest, err := after.Refund(ctx, payRefundReq("pi_contract_restart", 2000, "cancel"))
		if err != nil || rest.Amount != 2000 {
			t.Fatalf("refund of the rest after a restart = %+v, %v; want 2000", rest, err)
		}
		_, err = after.Refund(ctx, payRefundReq("pi_contract_restart", 1, "pickup-expired"))
		payWantSentinel(t, "refund beyond the capture after a restart", err, activities.ErrInvalidRequest)
		_, err = after.Capture(ctx, payCaptureReq("pi_contract_restart_void", 1000))
		payWantSentinel(t, "capture of an authorization voided before a restart", err, activities.ErrAuthorizationExpired)

		third := h.restart(t)
		if r, err := third.Refund(ctx, payRefundReq("pi_contract_restart", 1000, "short-pick")); err != nil || r != part {
			t.Errorf("same refund key after another restart = %+v, %v; want the first %+v", r, err, part)
		}
		_, err = third.Refund(ctx, payRefundReq("pi_contract_restart", 500, "short-pick"))
		payWantSentinel(t, "same refund key, other amount, after another restart", err, activities.ErrInvalidRequest)
	})
}
