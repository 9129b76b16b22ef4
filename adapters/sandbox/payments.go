package sandbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
)

// Retryable failures of the fake, as a real provider's outage or timeout would
// look to the activity: no sentinel, so the activity's RetryPolicy retries them.
var (
	errUnavailable = errors.New("provider unavailable (HTTP 503)")
	errFault       = errors.New("injected fault (FaultRate)")
)

// RateLimitRetryAfter is the Retry-After of the sandbox's rate-limit magic values
// (payments' "ratelimit", the carrier's PostalCodeRateLimited): short enough for
// `make run`, long enough to see in a test that it was honoured.
const RateLimitRetryAfter = time.Second

// Payments is a fake payment provider. It keeps captures and refunds per
// PaymentIntent in its PaymentLedger (the worker's memory unless
// WithPaymentLedger says otherwise), honours idempotency keys like Stripe (the
// same key returns the first result; the same key with other parameters is
// refused) and refuses to refund more than was captured. Magic values in the
// PaymentIntent ID produce a real provider's failures (see the package doc).
type Payments struct {
	// FaultRate is the probability (0 to 1) that a call fails with a retryable
	// error before it does anything (no state changes), for load and chaos tests
	// of the retry paths. 0, the default, never. Set it before the first call.
	FaultRate float64
	// Latency is added to every call (a cancelled context ends the wait), so that
	// load tests see a network's round trip. 0, the default, adds none. Set it
	// before the first call.
	Latency time.Duration

	ledger PaymentLedger

	mu        sync.Mutex
	rng       *rand.Rand
	attempted map[string]bool // idempotency keys seen, for the first-attempt magic values
}

var _ activities.PaymentProvider = (*Payments)(nil)

// PaymentsOption configures NewPayments; options keep NewPayments() as it was
// for the callers that need none.
type PaymentsOption func(*Payments)

// WithPaymentsSeed seeds the random source behind FaultRate, so that a test sees the
// same faults on every run. Without it the seed is random.
func WithPaymentsSeed(seed uint64) PaymentsOption {
	return func(p *Payments) { p.rng = rand.New(rand.NewPCG(seed, seed)) }
}

// WithPaymentLedger keeps captures, refunds and voids in l instead of the
// worker's memory: with postgres.SandboxLedger they outlive a worker restart and
// are shared by every worker process, as a real provider's are. The first-attempt
// magic values ("ratelimit", ...) still count attempts in memory.
func WithPaymentLedger(l PaymentLedger) PaymentsOption {
	return func(p *Payments) { p.ledger = l }
}

// NewPayments returns a fake payment provider; without WithPaymentLedger it
// starts empty and remembers in memory.
func NewPayments(opts ...PaymentsOption) *Payments {
	p := &Payments{
		ledger:    newMemoryPaymentLedger(),
		rng:       rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
		attempted: map[string]bool{},
	}
	for _, opt := range opts {
		opt(p)
	}
	return p
}

// Capture captures once per idempotency key; magic payment IDs fail as documented.
func (p *Payments) Capture(ctx context.Context, req activities.CaptureRequest) (activities.Capture, error) {
	if err := p.before(ctx, "capture", req.PaymentID, req.IdempotencyKey); err != nil {
		return activities.Capture{}, err
	}
	var c activities.Capture
	err := p.ledger.ChangePayment(ctx, req.PaymentID, req.IdempotencyKey, func(s PaymentState) (PaymentChange, error) {
		if s.Capture != nil {
			if s.Capture.Request != req {
				return PaymentChange{}, fmt.Errorf("sandbox capture %s: key %s reused with other parameters: %w", req.PaymentID, req.IdempotencyKey, activities.ErrInvalidRequest)
			}
			c = s.Capture.Result
			return PaymentChange{}, nil
		}
		switch {
		case strings.Contains(req.PaymentID, "decline"):
			return PaymentChange{}, fmt.Errorf("sandbox capture %s: %w", req.PaymentID, activities.ErrCardDeclined)
		case strings.Contains(req.PaymentID, "expired"), s.Voided:
			return PaymentChange{}, fmt.Errorf("sandbox capture %s: %w", req.PaymentID, activities.ErrAuthorizationExpired)
		case strings.Contains(req.PaymentID, "captured"), s.Captured > 0:
			return PaymentChange{}, fmt.Errorf("sandbox capture %s: %w", req.PaymentID, activities.ErrAlreadyCaptured)
		case req.Amount <= 0:
			return PaymentChange{}, fmt.Errorf("sandbox capture %s amount %d: %w", req.PaymentID, req.Amount, activities.ErrInvalidRequest)
		}
		c = activities.Capture{ID: "ch_sbx_" + shortHash(req.IdempotencyKey), Amount: req.Amount}
		return PaymentChange{Capture: &CaptureRecord{Request: req, Result: c}}, nil
	})
	if err != nil {
		return activities.Capture{}, err
	}
	return c, nil
}

// Refund refunds once per idempotency key, never more than was captured.
func (p *Payments) Refund(ctx context.Context, req activities.RefundRequest) (activities.Refund, error) {
	if err := p.before(ctx, "refund", req.PaymentID, req.IdempotencyKey); err != nil {
		return activities.Refund{}, err
	}
	var r activities.Refund
	err := p.ledger.ChangePayment(ctx, req.PaymentID, req.IdempotencyKey, func(s PaymentState) (PaymentChange, error) {
		if s.Refund != nil {
			if s.Refund.Request != req {
				return PaymentChange{}, fmt.Errorf("sandbox refund %s: key %s reused with other parameters: %w", req.PaymentID, req.IdempotencyKey, activities.ErrInvalidRequest)
			}
			r = s.Refund.Result
			return PaymentChange{}, nil
		}
		left := s.Captured - s.Refunded
		if req.Amount <= 0 || req.Amount > left {
			return PaymentChange{}, fmt.Errorf("sandbox refund %d of %s with %d left: %w", req.Amount, req.PaymentID, left, activities.ErrInvalidRequest)
		}
		r = activities.Refund{ID: "re_sbx_" + shortHash(req.IdempotencyKey), Amount: req.Amount}
		return PaymentChange{Refund: &RefundRecord{Request: req, Result: r}}, nil
	})
	if err != nil {
		return activities.Refund{}, err
	}
	return r, nil
}

// Void cancels an uncaptured authorization; voiding twice, or an expired one, is
// fine. A captured payment cannot be voided (it needs a refund).
func (p *Payments) Void(ctx context.Context, req activities.VoidRequest) error {
	if err := p.before(ctx, "void", req.PaymentID, req.IdempotencyKey); err != nil {
		return err
	}
	return p.ledger.ChangePayment(ctx, req.PaymentID, req.IdempotencyKey, func(s PaymentState) (PaymentChange, error) {
		if s.Captured > 0 || strings.Contains(req.PaymentID, "captured") {
			return PaymentChange{}, fmt.Errorf("sandbox void %s after capture: %w", req.PaymentID, activities.ErrInvalidRequest)
		}
		return PaymentChange{Void: true}, nil
	})
}

// before is what happens ahead of each call's effect, in a real provider's order:
// the network's latency, a failure on the way (FaultRate), the key check, then
// the transient magic values, which fail only a key's first attempt so that the
// activity's retry succeeds.
func (p *Payments) before(ctx context.Context, op, paymentID, idempotencyKey string) error {
	if p.Latency > 0 {
		t := time.NewTimer(p.Latency)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("sandbox %s %s: %w", op, paymentID, ctx.Err())
		}
	}
	p.mu.Lock()
	if p.FaultRate > 0 && p.rng.Float64() < p.FaultRate {
		p.mu.Unlock()
		return fmt.Errorf("sandbox %s %s: %w", op, paymentID, errFault)
	}
	if idempotencyKey == "" {
		p.mu.Unlock()
		return fmt.Errorf("sandbox %s %s: no idempotency key: %w", op, paymentID, activities.ErrInvalidRequest)
	}
	first := !p.attempted[idempotencyKey]
	p.attempted[idempotencyKey] = true
	p.mu.Unlock()
	if !first {
		return nil
	}
	switch {
	case strings.Contains(paymentID, "ratelimit"):
		return &activities.RetryAfterError{
			After: RateLimitRetryAfter,
			Err:   fmt.Errorf("sandbox %s %s: rate limited (HTTP 429)", op, paymentID),
		}
	case strings.Contains(paymentID, "unavailable"):
		return fmt.Errorf("sandbox %s %s: %w", op, paymentID, errUnavailable)
	case strings.Contains(paymentID, "timeout"):
		<-ctx.Done()
		return fmt.Errorf("sandbox %s %s: no answer: %w", op, paymentID, ctx.Err())
	}
	return nil
}

// Captured reports the amount captured on a PaymentIntent, for tests.
func (p *Payments) Captured(paymentID string) int64 { return p.totals(paymentID).Captured }

// Refunded reports the amount refunded on a PaymentIntent, for tests.
func (p *Payments) Refunded(paymentID string) int64 { return p.totals(paymentID).Refunded }

// Voided reports whether a PaymentIntent's authorization was voided, for tests.
func (p *Payments) Voided(paymentID string) bool { return p.totals(paymentID).Voided }

// totals reads a PaymentIntent from the ledger for the test accessors above. They
// have no error to return, so a ledger that cannot be read panics: in a test that
// is a broken set-up, and a zero would pass an assertion of "nothing captured".
func (p *Payments) totals(paymentID string) PaymentTotals {
	ctx, cancel := context.WithTimeout(context.Background(), ledgerReadTimeout)
	defer cancel()
	t, err := p.ledger.Payment(ctx, paymentID)
	if err != nil {
		panic(fmt.Sprintf("sandbox: read payment %s from the ledger: %v", paymentID, err))
	}
	return t
}

// ledgerReadTimeout bounds the test accessors' reads of a ledger (a database's),
// which have no context of their own.
const ledgerReadTimeout = 10 * time.Second

// shortHash derives stable fake provider IDs from idempotency keys.
func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}
