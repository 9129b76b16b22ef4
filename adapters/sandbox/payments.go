package sandbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"

	"github.com/everywherecommerce/fulfilment/activities"
)

// Payments is a fake payment provider. It keeps captures and refunds per
// PaymentIntent in memory, honours idempotency keys like Stripe (the same key
// returns the first result) and refuses to refund more than was captured.
type Payments struct {
	mu       sync.Mutex
	captured map[string]int64             // payment ID → amount captured
	refunded map[string]int64             // payment ID → amount refunded
	voided   map[string]bool              // payment ID → authorization voided
	results  map[string]activities.Refund // idempotency key → refund
	captures map[string]activities.Capture
}

var _ activities.PaymentProvider = (*Payments)(nil)

// NewPayments returns an empty fake payment provider.
func NewPayments() *Payments {
	return &Payments{
		captured: map[string]int64{}, refunded: map[string]int64{}, voided: map[string]bool{},
		results: map[string]activities.Refund{}, captures: map[string]activities.Capture{},
	}
}

// Capture captures once per idempotency key; magic payment IDs fail as documented.
func (p *Payments) Capture(_ context.Context, req activities.CaptureRequest) (activities.Capture, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.captures[req.IdempotencyKey]; ok {
		return c, nil
	}
	switch {
	case strings.Contains(req.PaymentID, "decline"):
		return activities.Capture{}, fmt.Errorf("sandbox capture %s: %w", req.PaymentID, activities.ErrCardDeclined)
	case strings.Contains(req.PaymentID, "expired"), p.voided[req.PaymentID]:
		return activities.Capture{}, fmt.Errorf("sandbox capture %s: %w", req.PaymentID, activities.ErrAuthorizationExpired)
	case strings.Contains(req.PaymentID, "captured"), p.captured[req.PaymentID] > 0:
		return activities.Capture{}, fmt.Errorf("sandbox capture %s: %w", req.PaymentID, activities.ErrAlreadyCaptured)
	case req.Amount <= 0:
		return activities.Capture{}, fmt.Errorf("sandbox capture %s amount %d: %w", req.PaymentID, req.Amount, activities.ErrInvalidRequest)
	}
	c := activities.Capture{ID: "ch_sbx_" + shortHash(req.IdempotencyKey), Amount: req.Amount}
	p.captured[req.PaymentID] = req.Amount
	p.captures[req.IdempotencyKey] = c
	return c, nil
}

// Refund refunds once per idempotency key, never more than was captured.
func (p *Payments) Refund(_ context.Context, req activities.RefundRequest) (activities.Refund, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r, ok := p.results[req.IdempotencyKey]; ok {
		return r, nil
	}
	left := p.captured[req.PaymentID] - p.refunded[req.PaymentID]
	if req.Amount <= 0 || req.Amount > left {
		return activities.Refund{}, fmt.Errorf("sandbox refund %d of %s with %d left: %w", req.Amount, req.PaymentID, left, activities.ErrInvalidRequest)
	}
	r := activities.Refund{ID: "re_sbx_" + shortHash(req.IdempotencyKey), Amount: req.Amount}
	p.refunded[req.PaymentID] += req.Amount
	p.results[req.IdempotencyKey] = r
	return r, nil
}

// Void cancels an uncaptured authorization; voiding twice is fine.
func (p *Payments) Void(_ context.Context, req activities.VoidRequest) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.captured[req.PaymentID] > 0 {
		return fmt.Errorf("sandbox void %s after capture: %w", req.PaymentID, activities.ErrInvalidRequest)
	}
	p.voided[req.PaymentID] = true
	return nil
}

// Captured and Refunded report the totals for one PaymentIntent, for tests.
func (p *Payments) Captured(paymentID string) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.captured[paymentID]
}

// Refunded reports the amount refunded on a PaymentIntent, for tests.
func (p *Payments) Refunded(paymentID string) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refunded[paymentID]
}

// shortHash derives stable fake provider IDs from idempotency keys.
func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}
