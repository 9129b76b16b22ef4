package activities

import (
	"context"
	"fmt"
)

// CaptureRequest captures (part of) a PaymentIntent authorized at checkout.
type CaptureRequest struct {
	PaymentID string `json:"payment_id"`
	Amount    int64  `json:"amount"`
	Currency  string `json:"currency"`
	// IdempotencyKey is "<order_id>:capture": stable across retries and resets, so
	// the provider captures once however often the activity runs.
	IdempotencyKey string `json:"idempotency_key"`
}

// Capture is a completed capture.
type Capture struct {
	ID     string `json:"id"`
	Amount int64  `json:"amount"`
}

// RefundRequest refunds part or all of a captured payment.
type RefundRequest struct {
	PaymentID string `json:"payment_id"`
	Amount    int64  `json:"amount"`
	Currency  string `json:"currency"`
	Reason    string `json:"reason"`
	// IdempotencyKey is "<order_id>:refund:<reason>".
	IdempotencyKey string `json:"idempotency_key"`
}

// Refund is a completed refund.
type Refund struct {
	ID     string `json:"id"`
	Amount int64  `json:"amount"`
}

// VoidRequest cancels an authorization that was never captured.
type VoidRequest struct {
	PaymentID string `json:"payment_id"`
	// IdempotencyKey is "<order_id>:void".
	IdempotencyKey string `json:"idempotency_key"`
}

// PaymentProvider captures, voids and refunds payments authorized at checkout.
type PaymentProvider interface {
	Capture(ctx context.Context, req CaptureRequest) (Capture, error)
	Refund(ctx context.Context, req RefundRequest) (Refund, error)
	Void(ctx context.Context, req VoidRequest) error
}

// Payments groups the payment activities; worker/main.go sets Provider once.
type Payments struct {
	Provider PaymentProvider
	Metrics  Metrics // nil: NoMetrics
}

// RefundPayment refunds the given amount of a captured payment.
func (a *Payments) RefundPayment(ctx context.Context, req RefundRequest) (Refund, error) {
	r, err := a.Provider.Refund(ctx, req)
	if err != nil {
		return Refund{}, classify(fmt.Errorf("refund %s: %w", req.IdempotencyKey, err))
	}
	metricsOr(a.Metrics).PaymentRefunded(req.Currency, r.Amount)
	return r, nil
}

// VoidPayment releases an authorization that will never be captured: a checkout
// rejected for stock or an unknown store. Voiding twice or an expired
// authorization succeeds; a captured payment cannot be voided and comes back as a
// non-retryable error of type ErrTypeInvalidRequest. The capture itself happens
// in Checkout.CheckOut, together with the reservation.
func (a *Payments) VoidPayment(ctx context.Context, req VoidRequest) error {
	if err := a.Provider.Void(ctx, req); err != nil {
		return classify(fmt.Errorf("void %s: %w", req.IdempotencyKey, err))
	}
	return nil
}
