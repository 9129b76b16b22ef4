package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/adapters/sandbox"
)

// The behaviour the Stripe adapter shares (magic values, idempotency, limits) is
// in adapters/contract; these are the sandbox's own knobs for load tests.

func capture(pi string) activities.CaptureRequest {
	return activities.CaptureRequest{PaymentID: pi, Amount: 1000, Currency: "EUR", IdempotencyKey: pi + ":capture"}
}

// faults runs n captures on fresh PaymentIntents and reports which failed.
func faults(t *testing.T, p *sandbox.Payments, n int) []bool {
	t.Helper()
	failed := make([]bool, n)
	for i := range failed {
		pi := fmt.Sprintf("pi_load_%03d", i)
		_, err := p.Capture(t.Context(), capture(pi))
		if err != nil {
			var ra *activities.RetryAfterError
			if errors.Is(err, activities.ErrInvalidRequest) || errors.Is(err, activities.ErrCardDeclined) || errors.As(err, &ra) {
				t.Fatalf("injected fault %v is not a plain retryable error", err)
			}
			if p.Captured(pi) != 0 {
				t.Fatalf("a failed call captured %d of %s", p.Captured(pi), pi)
			}
		}
		failed[i] = err != nil
	}
	return failed
}

func TestFaultRateIsRepeatableWithASeed(t *testing.T) {
	t.Parallel()
	newPayments := func() *sandbox.Payments {
		p := sandbox.NewPayments(sandbox.WithPaymentsSeed(42))
		p.FaultRate = 0.3
		return p
	}
	first, second := faults(t, newPayments(), 200), faults(t, newPayments(), 200)
	count := 0
	for i := range first {
		if first[i] != second[i] {
			t.Fatalf("call %d: failed=%v with the same seed, %v before", i, second[i], first[i])
		}
		if first[i] {
			count++
		}
	}
	if count < 30 || count > 90 { // 0.3 of 200 = 60; far outside means the rate is not applied
		t.Errorf("%d of 200 calls failed at FaultRate 0.3", count)
	}
}

func TestFaultRateFailsBeforeAnyEffect(t *testing.T) {
	t.Parallel()
	p := sandbox.NewPayments(sandbox.WithPaymentsSeed(1))
	if _, err := p.Capture(t.Context(), capture("pi_load_refund")); err != nil {
		t.Fatal(err)
	}
	p.FaultRate = 1
	refund := activities.RefundRequest{PaymentID: "pi_load_refund", Amount: 400, IdempotencyKey: "pi_load_refund:refund:cancel"}
	if _, err := p.Refund(t.Context(), refund); err == nil {
		t.Fatal("refund succeeded at FaultRate 1")
	}
	if err := p.Void(t.Context(), activities.VoidRequest{PaymentID: "pi_load_void", IdempotencyKey: "pi_load_void:void"}); err == nil {
		t.Fatal("void succeeded at FaultRate 1")
	}
	if got := p.Refunded("pi_load_refund"); got != 0 {
		t.Errorf("refunded %d by a failed call", got)
	}
	if p.Voided("pi_load_void") {
		t.Error("voided by a failed call")
	}
	p.FaultRate = 0
	if r, err := p.Refund(t.Context(), refund); err != nil || r.Amount != 400 {
		t.Errorf("retry after the fault = %+v, %v", r, err)
	}
}

func TestZeroByDefault(t *testing.T) {
	t.Parallel()
	p := sandbox.NewPayments()
	if p.FaultRate != 0 || p.Latency != 0 {
		t.Fatalf("FaultRate %v, Latency %v; want both 0", p.FaultRate, p.Latency)
	}
	for i, failed := range faults(t, p, 100) {
		if failed {
			t.Fatalf("call %d failed without FaultRate", i)
		}
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	p := sandbox.NewPayments()
	p.Latency = 50 * time.Millisecond
	start := time.Now()
	if _, err := p.Capture(t.Context(), capture("pi_slow")); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < p.Latency {
		t.Errorf("capture took %v, want at least %v", took, p.Latency)
	}

	p.Latency = time.Hour
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := p.Capture(ctx, capture("pi_slow_cancelled"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline", err)
	}
	if p.Captured("pi_slow_cancelled") != 0 {
		t.Error("a call cancelled during its latency captured")
	}
}

// TestRateLimitAsksForOneSecond: the documented wait, which workflow tests on the
// time-skipping server rely on to stay fast.
func TestRateLimitAsksForOneSecond(t *testing.T) {
	t.Parallel()
	p := sandbox.NewPayments()
	_, err := p.Capture(t.Context(), capture("pi_ratelimit_1"))
	var ra *activities.RetryAfterError
	if !errors.As(err, &ra) || ra.After != time.Second {
		t.Fatalf("err = %v, want a RetryAfterError of 1s", err)
	}
	if _, err := p.Capture(t.Context(), capture("pi_ratelimit_1")); err != nil {
		t.Fatalf("retry: %v", err)
	}
	other := capture("pi_ratelimit_1")
	other.IdempotencyKey = "other:capture"
	if _, err := p.Capture(t.Context(), other); !errors.As(err, &ra) {
		t.Errorf("first attempt of another key = %v, want a RetryAfterError", err)
	}
}
