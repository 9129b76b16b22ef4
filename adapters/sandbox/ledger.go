package sandbox

import (
	"context"
	"sync"

	"github.com/everywherecommerce/fulfilment/activities"
)

// PaymentLedger is where the fake payment provider remembers its captures, refunds
// and voids. The provider decides (idempotency, limits, magic values); the ledger
// only reads and records, atomically. The default keeps everything in the worker's
// memory and forgets it on restart; postgres.SandboxLedger keeps it in PostgreSQL,
// as Stripe would, across restarts and for every worker process.
type PaymentLedger interface {
	// ChangePayment reads what is known of paymentID and of the idempotency key,
	// hands it to decide and records the change decide returns, as one step: no
	// other ChangePayment of the same payment runs in between, in this process or
	// another. When decide fails nothing is recorded and its error is returned
	// unchanged. decide may run more than once and must not have other effects.
	ChangePayment(ctx context.Context, paymentID, key string, decide func(PaymentState) (PaymentChange, error)) error
	// Payment returns what is known of paymentID; the zero value when nothing is.
	Payment(ctx context.Context, paymentID string) (PaymentTotals, error)
}

// PaymentTotals is what the provider knows of one PaymentIntent.
type PaymentTotals struct {
	Captured int64 // minor units captured (at most one capture per PaymentIntent)
	Refunded int64 // minor units refunded, over all refunds; never more than Captured
	Voided   bool  // the authorization was voided
}

// PaymentState is a payment's totals and what was done before under one
// idempotency key, which is how a repeated request finds its first result.
type PaymentState struct {
	PaymentTotals
	Capture *CaptureRecord // the capture made with the key; nil if none
	Refund  *RefundRecord  // the refund made with the key; nil if none
}

// PaymentChange is what one call records: a capture, a refund or a void. The zero
// value records nothing (a repeated request answered from its first result).
type PaymentChange struct {
	// Capture is a new capture; it sets Captured to its amount.
	Capture *CaptureRecord
	// Refund is a new refund; it adds its amount to Refunded.
	Refund *RefundRecord
	// Void marks the authorization voided.
	Void bool
}

// CaptureRecord is a capture with the request that made it, kept under the
// request's idempotency key so that a repeat can be compared and answered.
type CaptureRecord struct {
	Request activities.CaptureRequest
	Result  activities.Capture
}

// RefundRecord is a refund with the request that made it, kept under the request's
// idempotency key.
type RefundRecord struct {
	Request activities.RefundRequest
	Result  activities.Refund
}

// LabelLedger is where the fake carrier remembers the labels it sold and voided.
// The default keeps them in the worker's memory; postgres.SandboxLedger keeps them
// in PostgreSQL, so that a purchase repeated after a restart returns the label
// already bought, as EasyPost would.
type LabelLedger interface {
	// Label returns the label bought under an idempotency key; found is false when
	// none was.
	Label(ctx context.Context, key string) (l activities.Label, found bool, err error)
	// RecordLabel records l as bought under key unless a label is recorded for key
	// already, and returns the label recorded first: purchases racing for one key,
	// in one process or several, all hand out the same label.
	RecordLabel(ctx context.Context, key string, l activities.Label) (activities.Label, error)
	// VoidLabel records that the label of shipmentID was voided; again is fine.
	VoidLabel(ctx context.Context, shipmentID string) error
	// LabelVoided reports whether the label of shipmentID was voided.
	LabelVoided(ctx context.Context, shipmentID string) (bool, error)
	// LabelsBought counts the labels recorded.
	LabelsBought(ctx context.Context) (int, error)
}

// memoryPaymentLedger is the default PaymentLedger: maps behind one mutex, lost
// when the process ends.
type memoryPaymentLedger struct {
	mu       sync.Mutex
	payments map[string]PaymentTotals // payment ID → totals
	captures map[string]CaptureRecord // idempotency key → capture
	refunds  map[string]RefundRecord  // idempotency key → refund
}

func newMemoryPaymentLedger() *memoryPaymentLedger {
	return &memoryPaymentLedger{payments: map[string]PaymentTotals{},
		captures: map[string]CaptureRecord{}, refunds: map[string]RefundRecord{}}
}

// ChangePayment runs decide and records its change under the ledger's mutex.
func (m *memoryPaymentLedger) ChangePayment(_ context.Context, paymentID, key string, decide func(PaymentState) (PaymentChange, error)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := PaymentState{PaymentTotals: m.payments[paymentID]}
	if c, ok := m.captures[key]; ok {
		s.Capture = &c
	}
	if r, ok := m.refunds[key]; ok {
		s.Refund = &r
	}
	change, err := decide(s)
	if err != nil {
		return err
	}
	t := m.payments[paymentID]
	if c := change.Capture; c != nil {
		m.captures[c.Request.IdempotencyKey] = *c
		t.Captured = c.Result.Amount
	}
	if r := change.Refund; r != nil {
		m.refunds[r.Request.IdempotencyKey] = *r
		t.Refunded += r.Result.Amount
	}
	if change.Void {
		t.Voided = true
	}
	if change != (PaymentChange{}) {
		m.payments[paymentID] = t
	}
	return nil
}

// Payment returns the totals of paymentID.
func (m *memoryPaymentLedger) Payment(_ context.Context, paymentID string) (PaymentTotals, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.payments[paymentID], nil
}

// memoryLabelLedger is the default LabelLedger: maps behind one mutex, lost when
// the process ends.
type memoryLabelLedger struct {
	mu     sync.Mutex
	bought map[string]activities.Label // idempotency key → label
	voided map[string]bool             // shipment ID → voided
}

func newMemoryLabelLedger() *memoryLabelLedger {
	return &memoryLabelLedger{bought: map[string]activities.Label{}, voided: map[string]bool{}}
}

// Label returns the label bought under key.
func (m *memoryLabelLedger) Label(_ context.Context, key string) (activities.Label, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.bought[key]
	return l, ok, nil
}

// RecordLabel keeps the first label of key and returns it.
func (m *memoryLabelLedger) RecordLabel(_ context.Context, key string, l activities.Label) (activities.Label, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if first, ok := m.bought[key]; ok {
		return first, nil
	}
	m.bought[key] = l
	return l, nil
}

// VoidLabel marks shipmentID voided.
func (m *memoryLabelLedger) VoidLabel(_ context.Context, shipmentID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.voided[shipmentID] = true
	return nil
}

// LabelVoided reports whether shipmentID was voided.
func (m *memoryLabelLedger) LabelVoided(_ context.Context, shipmentID string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.voided[shipmentID], nil
}

// LabelsBought counts the labels bought.
func (m *memoryLabelLedger) LabelsBought(context.Context) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.bought), nil
}
