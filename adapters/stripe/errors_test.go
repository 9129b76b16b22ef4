package stripe_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/adapters/stripe"
	"github.com/everywherecommerce/fulfilment/adapters/stripe/stripetest"
	stripego "github.com/stripe/stripe-go/v76"
)

// sentinels are every sentinel the adapter may wrap; an error wraps at most one.
var sentinels = []error{
	activities.ErrCardDeclined, activities.ErrAuthorizationExpired,
	activities.ErrAlreadyCaptured, activities.ErrInvalidRequest,
}

// newAdapter returns the adapter pointed at url with the test key.
func newAdapter(t *testing.T, url string) *stripe.Payments {
	t.Helper()
	p, err := stripe.NewPayments(stripe.Config{
		SecretKey:  stripetest.SecretKey,
		BackendURL: url,
		HTTPClient: &http.Client{Timeout: 5 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// call runs one operation of the adapter against a server that answers reply.
func call(t *testing.T, op string, reply stripetest.Reply) error {
	t.Helper()
	srv := stripetest.NewServer(t)
	srv.Answer(reply)
	return do(t.Context(), newAdapter(t, srv.URL), op, "pi_3OmapJN5vQBdWEx")
}

func do(ctx context.Context, p *stripe.Payments, op, paymentID string) error {
	var err error
	switch op {
	case "capture":
		_, err = p.Capture(ctx, activities.CaptureRequest{PaymentID: paymentID, Amount: 2500, Currency: "EUR", IdempotencyKey: "A-1:capture"})
	case "refund":
		_, err = p.Refund(ctx, activities.RefundRequest{PaymentID: paymentID, Amount: 900, Currency: "EUR", Reason: "short-pick", IdempotencyKey: "A-1:refund:short-pick"})
	case "void":
		err = p.Void(ctx, activities.VoidRequest{PaymentID: paymentID, IdempotencyKey: "A-1:void"})
	}
	return err
}

// TestErrorMapping pins the answer the activity gets for each Stripe response:
// which sentinel (permanent), or retryable with or without a Retry-After.
func TestErrorMapping(t *testing.T) {
	t.Parallel()
	const pi = "pi_3OmapJN5vQBdWEx"
	tests := []struct {
		name       string
		op         string
		reply      stripetest.Reply
		want       error         // the sentinel; nil = retryable
		retryAfter time.Duration // for retryable answers: the RetryAfterError's wait, 0 = none
		noError    bool
	}{
		{name: "402 card_declined", op: "capture", reply: stripetest.CardDeclined(pi), want: activities.ErrCardDeclined},
		{name: "402 processing_error", op: "capture", reply: stripetest.ProcessingError(pi)},
		{name: "400 unexpected state canceled", op: "capture", reply: stripetest.UnexpectedState(pi, "capture", "canceled"), want: activities.ErrAuthorizationExpired},
		{name: "400 unexpected state succeeded", op: "capture", reply: stripetest.UnexpectedState(pi, "capture", "succeeded"), want: activities.ErrAlreadyCaptured},
		{name: "400 unexpected state requires_payment_method", op: "capture", reply: stripetest.UnexpectedState(pi, "capture", "requires_payment_method"), want: activities.ErrInvalidRequest},
		{name: "400 charge_expired_for_capture", op: "capture", reply: stripetest.ChargeExpiredForCapture("ch_1"), want: activities.ErrAuthorizationExpired},
		{name: "400 charge_already_captured", op: "capture", reply: stripetest.ChargeAlreadyCaptured("ch_1"), want: activities.ErrAlreadyCaptured},
		{name: "404 resource_missing", op: "capture", reply: stripetest.ResourceMissing(pi), want: activities.ErrInvalidRequest},
		{name: "400 idempotency_error", op: "capture", reply: stripetest.IdempotencyMismatch("A-1:capture"), want: activities.ErrInvalidRequest},
		{name: "400 invalid parameter", op: "capture", reply: stripetest.InvalidParameter("amount_to_capture", "too much"), want: activities.ErrInvalidRequest},
		{name: "401 invalid key", op: "capture", reply: stripetest.InvalidAPIKey()},
		{name: "409 idempotency key in use", op: "capture", reply: stripetest.IdempotencyKeyInUse()},
		{name: "429 rate_limit Retry-After 3", op: "capture", reply: stripetest.RateLimited("3"), retryAfter: 3 * time.Second},
		{name: "429 rate_limit", op: "capture", reply: stripetest.RateLimited("")},
		{name: "429 lock_timeout", op: "capture", reply: stripetest.LockTimeout()},
		{name: "500 api_error", op: "capture", reply: stripetest.APIError()},
		{name: "503 Retry-After 7", op: "capture", reply: stripetest.Unavailable("7"), retryAfter: 7 * time.Second},
		{name: "502 not Stripe's JSON", op: "capture", reply: stripetest.BadGateway()},
		{name: "refund 400 too much", op: "refund", reply: stripetest.InvalidParameter("amount", "Refund amount is greater than unrefunded amount on charge"), want: activities.ErrInvalidRequest},
		{name: "refund 400 canceled is no expiry", op: "refund", reply: stripetest.UnexpectedState(pi, "capture", "canceled"), want: activities.ErrInvalidRequest},
		{name: "refund 402 card_declined", op: "refund", reply: stripetest.CardDeclined(pi), want: activities.ErrCardDeclined},
		{name: "refund 429 Retry-After 3", op: "refund", reply: stripetest.RateLimited("3"), retryAfter: 3 * time.Second},
		{name: "void 400 already canceled", op: "void", reply: stripetest.UnexpectedState(pi, "cancel", "canceled"), noError: true},
		{name: "void 400 already captured", op: "void", reply: stripetest.UnexpectedState(pi, "cancel", "succeeded"), want: activities.ErrInvalidRequest},
		{name: "void 500 api_error", op: "void", reply: stripetest.APIError()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := call(t, tc.op, tc.reply)
			if tc.noError {
				if err != nil {
					t.Fatalf("err = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatal("err = nil")
			}
			assertMapped(t, err, tc.want, tc.retryAfter)
			if tc.reply.Status != http.StatusBadGateway {
				var se *stripego.Error
				if !errors.As(err, &se) || se.HTTPStatusCode != tc.reply.Status {
					t.Errorf("the *stripe.Error (status %d) is not kept as the cause: %v", tc.reply.Status, err)
				}
			}
			if strings.Contains(err.Error(), "_secret_") {
				t.Errorf("the error message carries the PaymentIntent's client_secret: %v", err)
			}
		})
	}
}

// assertMapped checks that err wraps exactly want (nil: no sentinel, so
// retryable) and, for retryable errors, carries a RetryAfterError of retryAfter
// (0: none).
func assertMapped(t *testing.T, err, want error, retryAfter time.Duration) {
	t.Helper()
	for _, s := range sentinels {
		if got := errors.Is(err, s); got != (s == want) {
			t.Errorf("errors.Is(err, %q) = %v: %v", s, got, err)
		}
	}
	var ra *activities.RetryAfterError
	switch hasRA := errors.As(err, &ra); {
	case retryAfter == 0 && hasRA:
		t.Errorf("unexpected RetryAfterError (after %v): %v", ra.After, err)
	case retryAfter > 0 && !hasRA:
		t.Errorf("no RetryAfterError, want one of %v: %v", retryAfter, err)
	case retryAfter > 0 && ra.After != retryAfter:
		t.Errorf("RetryAfterError.After = %v, want %v", ra.After, retryAfter)
	}
}

func TestRetryAfterAsHTTPDate(t *testing.T) {
	t.Parallel()
	reply := stripetest.RateLimited(time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat))
	err := call(t, "capture", reply)
	var ra *activities.RetryAfterError
	if !errors.As(err, &ra) || ra.After < 28*time.Second || ra.After > 31*time.Second {
		t.Fatalf("want a RetryAfterError of about 30s, got %v", err)
	}
}

// TestNoAnswerIsRetryable: without an answer from Stripe nothing is known, so the
// activity must retry (with the same idempotency key), never fail the order.
func TestNoAnswerIsRetryable(t *testing.T) {
	t.Parallel()
	t.Run("connection refused", func(t *testing.T) {
		t.Parallel()
		srv := stripetest.NewServer(t)
		p := newAdapter(t, srv.URL)
		srv.Close()
		err := do(t.Context(), p, "capture", "pi_1")
		if err == nil {
			t.Fatal("err = nil")
		}
		assertMapped(t, err, nil, 0)
	})
	t.Run("activity context deadline", func(t *testing.T) {
		t.Parallel()
		srv := stripetest.NewServer(t)
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		err := do(ctx, newAdapter(t, srv.URL), "capture", "pi_timeout_1")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want one wrapping context.DeadlineExceeded", err)
		}
		assertMapped(t, err, nil, 0)
	})
	t.Run("HTTP client timeout", func(t *testing.T) {
		t.Parallel()
		srv := stripetest.NewServer(t)
		p, err := stripe.NewPayments(stripe.Config{SecretKey: stripetest.SecretKey, BackendURL: srv.URL,
			HTTPClient: &http.Client{Timeout: 200 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		err = do(t.Context(), p, "refund", "pi_timeout_2")
		if err == nil {
			t.Fatal("err = nil")
		}
		assertMapped(t, err, nil, 0)
	})
}

// TestRefusedBeforeSending: requests Stripe would misread never leave.
func TestRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	srv := stripetest.NewServer(t)
	p := newAdapter(t, srv.URL)
	ctx := t.Context()
	long := strings.Repeat("k", 256)
	for name, err := range map[string]error{
		"capture of 0 (Stripe: everything)": func() error {
			_, err := p.Capture(ctx, activities.CaptureRequest{PaymentID: "pi_1", Amount: 0, IdempotencyKey: "A-1:capture"})
			return err
		}(),
		"refund of -1": func() error {
			_, err := p.Refund(ctx, activities.RefundRequest{PaymentID: "pi_1", Amount: -1, IdempotencyKey: "A-1:refund:x"})
			return err
		}(),
		"capture without key": func() error {
			_, err := p.Capture(ctx, activities.CaptureRequest{PaymentID: "pi_1", Amount: 100})
			return err
		}(),
		"refund with a 256-byte key": func() error {
			_, err := p.Refund(ctx, activities.RefundRequest{PaymentID: "pi_1", Amount: 100, IdempotencyKey: long})
			return err
		}(),
		"void without PaymentIntent": p.Void(ctx, activities.VoidRequest{IdempotencyKey: "A-1:void"}),
	} {
		if !errors.Is(err, activities.ErrInvalidRequest) {
			t.Errorf("%s: err = %v, want ErrInvalidRequest", name, err)
		}
	}
	if got := srv.Requests(); len(got) != 0 {
		t.Errorf("%d requests sent, want none: %+v", len(got), got)
	}
}

func TestNewPaymentsRefusesIncompleteConfig(t *testing.T) {
	t.Parallel()
	ok := &http.Client{Timeout: time.Second}
	for name, cfg := range map[string]stripe.Config{
		"no key":               {HTTPClient: ok},
		"no client":            {SecretKey: "sk_test_1"},
		"http.DefaultClient":   {SecretKey: "sk_test_1", HTTPClient: http.DefaultClient},
		"client without limit": {SecretKey: "sk_test_1", HTTPClient: &http.Client{}},
	} {
		if _, err := stripe.NewPayments(cfg); err == nil {
			t.Errorf("%s: NewPayments succeeded, want an error", name)
		}
	}
	if _, err := stripe.NewPayments(stripe.Config{SecretKey: "sk_test_1", HTTPClient: ok}); err != nil {
		t.Errorf("complete config: %v", err)
	}
}
