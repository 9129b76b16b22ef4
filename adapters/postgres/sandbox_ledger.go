package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/adapters/sandbox"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// SandboxLedger is what the sandbox payment provider and carrier remember, kept in
// PostgreSQL (migration 010) so that they remember like Stripe and EasyPost:
// across worker restarts and for every worker process sharing the database. Each
// payment change is one transaction holding the payment's row lock; labels rely
// on the idempotency key's primary key and ON CONFLICT.
type SandboxLedger struct{ pool *pgxpool.Pool }

var (
	_ sandbox.PaymentLedger = (*SandboxLedger)(nil)
	_ sandbox.LabelLedger   = (*SandboxLedger)(nil)
)

// The ledger stores every field of these requests and labels in columns of its
// own; these conversions stop compiling when a field is added, so that a new field
// cannot be silently dropped (and a repeat with another value of it accepted).
var (
	_ = struct {
		PaymentID      string
		Amount         int64
		Currency       string
		IdempotencyKey string
	}(activities.CaptureRequest{})
	_ = struct {
		PaymentID      string
		Amount         int64
		Currency       string
		Reason         string
		IdempotencyKey string
	}(activities.RefundRequest{})
	_ = struct {
		ID     string
		Amount int64
	}(activities.Capture{})
	_ = struct {
		ID     string
		Amount int64
	}(activities.Refund{})
	_ = struct{ ShipmentID, Carrier, Service, TrackingCode, TrackingURL, LabelURL string }(activities.Label{})
)

// SandboxLedger returns the ledger of the sandbox providers on the store's pool,
// for registry.Sandbox.
func (s *Store) SandboxLedger() *SandboxLedger { return &SandboxLedger{pool: s.pool} }

// ChangePayment locks the payment's row (creating it), reads its totals and the
// capture and refund recorded under key, runs decide and records its change, all
// in one transaction: a second worker changing the same payment waits for the
// lock and then sees this change. A failed decide rolls back (so a refused call
// leaves no row behind) and its error is returned unchanged.
func (l *SandboxLedger) ChangePayment(ctx context.Context, paymentID, key string, decide func(sandbox.PaymentState) (sandbox.PaymentChange, error)) error {
	var decideErr error
	err := pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error {
		s, err := lockPayment(ctx, tx, paymentID, key)
		if err != nil {
			return err
		}
		change, err := decide(s)
		if err != nil {
			decideErr = err
			return err
		}
		return recordPaymentChange(ctx, tx, paymentID, change)
	})
	if decideErr != nil {
		return decideErr
	}
	if err != nil {
		return fmt.Errorf("sandbox ledger: change payment %s with key %s: %w", paymentID, key, err)
	}
	return nil
}

// lockPayment returns the payment's totals, holding its row lock until the
// transaction ends, and what was done under key.
func lockPayment(ctx context.Context, tx pgx.Tx, paymentID, key string) (sandbox.PaymentState, error) {
	var s sandbox.PaymentState
	if _, err := tx.Exec(ctx, `insert into sandbox_payments (payment_id) values ($1) on conflict (payment_id) do nothing`, paymentID); err != nil {
		return s, fmt.Errorf("add payment: %w", err)
	}
	err := tx.QueryRow(ctx, `select captured, refunded, voided from sandbox_payments where payment_id = $1 for update`, paymentID).
		Scan(&s.Captured, &s.Refunded, &s.Voided)
	if err != nil {
		return s, fmt.Errorf("lock payment: %w", err)
	}
	c := sandbox.CaptureRecord{Request: activities.CaptureRequest{IdempotencyKey: key}}
	err = tx.QueryRow(ctx, `select payment_id, amount, currency, capture_id from sandbox_captures where idempotency_key = $1`, key).
		Scan(&c.Request.PaymentID, &c.Request.Amount, &c.Request.Currency, &c.Result.ID)
	switch {
	case err == nil:
		c.Result.Amount = c.Request.Amount
		s.Capture = &c
	case !errors.Is(err, pgx.ErrNoRows):
		return s, fmt.Errorf("read capture: %w", err)
	}
	r := sandbox.RefundRecord{Request: activities.RefundRequest{IdempotencyKey: key}}
	err = tx.QueryRow(ctx, `select payment_id, amount, currency, reason, refund_id from sandbox_refunds where idempotency_key = $1`, key).
		Scan(&r.Request.PaymentID, &r.Request.Amount, &r.Request.Currency, &r.Request.Reason, &r.Result.ID)
	switch {
	case err == nil:
		r.Result.Amount = r.Request.Amount
		s.Refund = &r
	case !errors.Is(err, pgx.ErrNoRows):
		return s, fmt.Errorf("read refund: %w", err)
	}
	return s, nil
}

// recordPaymentChange writes a decided change inside the payment's transaction.
// The record goes in first: when another payment's transaction holds the same key
// (the same key used for two payments at once) the insert finds it taken and the
// call fails with a retryable error, like Stripe's 409 for concurrent requests with
// one key; the retry then sees the first request and is refused as a reuse.
func recordPaymentChange(ctx context.Context, tx pgx.Tx, paymentID string, change sandbox.PaymentChange) error {
	if c := change.Capture; c != nil {
		tag, err := tx.Exec(ctx, `
			insert into sandbox_captures (idempotency_key, payment_id, amount, currency, capture_id)
			values ($1, $2, $3, $4, $5) on conflict (idempotency_key) do nothing`,
			c.Request.IdempotencyKey, paymentID, c.Result.Amount, c.Request.Currency, c.Result.ID)
		if err != nil {
			return fmt.Errorf("record capture: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("capture key %s is in use by a concurrent request", c.Request.IdempotencyKey)
		}
		if _, err := tx.Exec(ctx, `update sandbox_payments set captured = $2 where payment_id = $1`, paymentID, c.Result.Amount); err != nil {
			return fmt.Errorf("add capture to payment: %w", err)
		}
	}
	if r := change.Refund; r != nil {
		tag, err := tx.Exec(ctx, `
			insert into sandbox_refunds (idempotency_key, payment_id, amount, currency, reason, refund_id)
			values ($1, $2, $3, $4, $5, $6) on conflict (idempotency_key) do nothing`,
			r.Request.IdempotencyKey, paymentID, r.Result.Amount, r.Request.Currency, r.Request.Reason, r.Result.ID)
		if err != nil {
			return fmt.Errorf("record refund: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("refund key %s is in use by a concurrent request", r.Request.IdempotencyKey)
		}
		if _, err := tx.Exec(ctx, `update sandbox_payments set refunded = refunded + $2 where payment_id = $1`, paymentID, r.Result.Amount); err != nil {
			return fmt.Errorf("add refund to payment: %w", err)
		}
	}
	if change.Void {
		if _, err := tx.Exec(ctx, `update sandbox_payments set voided = true where payment_id = $1`, paymentID); err != nil {
			return fmt.Errorf("void payment: %w", err)
		}
	}
	return nil
}

// Payment returns the totals of a payment; zero when the sandbox never changed it.
func (l *SandboxLedger) Payment(ctx context.Context, paymentID string) (sandbox.PaymentTotals, error) {
	var t sandbox.PaymentTotals
	err := l.pool.QueryRow(ctx, `select captured, refunded, voided from sandbox_payments where payment_id = $1`, paymentID).
		Scan(&t.Captured, &t.Refunded, &t.Voided)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return sandbox.PaymentTotals{}, fmt.Errorf("sandbox ledger: read payment %s: %w", paymentID, err)
	}
	return t, nil
}

// Label returns the label bought under an idempotency key.
func (l *SandboxLedger) Label(ctx context.Context, key string) (activities.Label, bool, error) {
	lb, err := l.label(ctx, key)
	if errors.Is(err, pgx.ErrNoRows) {
		return activities.Label{}, false, nil
	}
	if err != nil {
		return activities.Label{}, false, err
	}
	return lb, true, nil
}

// RecordLabel inserts the label unless the key has one, then reads the key's
// label back. The read is a statement of its own: after waiting for a racing
// insert of the same key to commit, only a new statement sees that row.
func (l *SandboxLedger) RecordLabel(ctx context.Context, key string, lb activities.Label) (activities.Label, error) {
	_, err := l.pool.Exec(ctx, `
		insert into sandbox_labels (idempotency_key, shipment_id, carrier, service, tracking_code, tracking_url, label_url)
		values ($1, $2, $3, $4, $5, $6, $7) on conflict (idempotency_key) do nothing`,
		key, lb.ShipmentID, lb.Carrier, lb.Service, lb.TrackingCode, lb.TrackingURL, lb.LabelURL)
	if err != nil {
		return activities.Label{}, fmt.Errorf("sandbox ledger: record label %s: %w", key, err)
	}
	return l.label(ctx, key)
}

// label reads the label of key; pgx.ErrNoRows (wrapped) when there is none.
func (l *SandboxLedger) label(ctx context.Context, key string) (activities.Label, error) {
	var lb activities.Label
	err := l.pool.QueryRow(ctx, `
		select shipment_id, carrier, service, tracking_code, tracking_url, label_url
		from sandbox_labels where idempotency_key = $1`, key).
		Scan(&lb.ShipmentID, &lb.Carrier, &lb.Service, &lb.TrackingCode, &lb.TrackingURL, &lb.LabelURL)
	if err != nil {
		return activities.Label{}, fmt.Errorf("sandbox ledger: read label %s: %w", key, err)
	}
	return lb, nil
}

// VoidLabel records the void of a shipment's label, once.
func (l *SandboxLedger) VoidLabel(ctx context.Context, shipmentID string) error {
	_, err := l.pool.Exec(ctx, `insert into sandbox_label_voids (shipment_id) values ($1) on conflict (shipment_id) do nothing`, shipmentID)
	if err != nil {
		return fmt.Errorf("sandbox ledger: void label %s: %w", shipmentID, err)
	}
	return nil
}

// LabelVoided reports whether a shipment's label was voided.
func (l *SandboxLedger) LabelVoided(ctx context.Context, shipmentID string) (bool, error) {
	var voided bool
	err := l.pool.QueryRow(ctx, `select exists (select 1 from sandbox_label_voids where shipment_id = $1)`, shipmentID).Scan(&voided)
	if err != nil {
		return false, fmt.Errorf("sandbox ledger: read void of label %s: %w", shipmentID, err)
	}
	return voided, nil
}

// LabelsBought counts every label in the ledger, whichever worker bought it.
func (l *SandboxLedger) LabelsBought(ctx context.Context) (int, error) {
	var n int
	if err := l.pool.QueryRow(ctx, `select count(*) from sandbox_labels`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sandbox ledger: count labels: %w", err)
	}
	return n, nil
}
