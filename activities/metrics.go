package activities

import (
	"context"
	"strings"

	"github.com/everywherecommerce/fulfilment/domain"
)

// Metrics is the port for the business counters (docs/observability.md). The
// activities call it where they commit a result, after the write that makes the
// result durable, and only when that write was new (an idempotent retry that
// finds the row already there counts nothing): a counter counts events, not
// attempts, except where a method says otherwise. A crash between the write and
// the count loses the count (the counters restart at zero with the process
// anyway). NoMetrics counts nothing.
type Metrics interface {
	// StageEntered counts an order entering a stage (its journey's stage entry
	// was new): checkouts by outcome (accepted, rejected, payment_failed),
	// handovers (picked_up), cancellations, deliveries.
	StageEntered(method domain.Method, stage domain.Stage)
	// PaymentCaptured counts a capture and its amount (minor units) when the
	// order's payment_captured stage was new.
	PaymentCaptured(currency string, amount int64)
	// PaymentRefunded counts a refund the provider confirmed. The refund call
	// is idempotent at the provider but writes nothing of ours, so an activity
	// retried after the provider answered counts it again (at least once).
	PaymentRefunded(currency string, amount int64)
	// LabelBought counts a shipping label saved, by purpose. Like refunds, a
	// retry after the save counts again (at least once).
	LabelBought(purpose string)
	// Message counts a message's outcome on a channel: sent, failed (one per
	// failed attempt: a retry sends again), undeliverable, unconfirmed, skipped.
	Message(channel domain.Channel, outcome string)
	// Pickup counts how a pickup ended, once (with the stage or flag that says
	// it): handed_over, expired, locked.
	Pickup(outcome string)
	// Attention counts an order flagged for a person, by reason (a bounded
	// category, AttentionReason), when its journey entry was new.
	Attention(reason string)
}

// The message outcomes Metrics.Message counts.
const (
	MessageSent          = "sent"
	MessageFailed        = "failed"
	MessageUndeliverable = "undeliverable"
	MessageUnconfirmed   = "unconfirmed"
	MessageSkipped       = "skipped"
)

// NoMetrics counts nothing: for tests and tools that do not look.
type NoMetrics struct{}

func (NoMetrics) StageEntered(domain.Method, domain.Stage) {}
func (NoMetrics) PaymentCaptured(string, int64)            {}
func (NoMetrics) PaymentRefunded(string, int64)            {}
func (NoMetrics) LabelBought(string)                       {}
func (NoMetrics) Message(domain.Channel, string)           {}
func (NoMetrics) Attention(string)                         {}
func (NoMetrics) Pickup(string)                            {}

// NoteNotPickedUp is the note of the cancelled stage an order enters when its
// pickup deadline passed (the workflow writes it; Pickup counts it as expired).
const NoteNotPickedUp = "the order was not picked up in time"

// countStage counts a new stage and, for a handover or an expired pickup, the
// pickup's end.
func countStage(m Metrics, method domain.Method, stage domain.Stage, note string) {
	m = metricsOr(m)
	m.StageEntered(method, stage)
	switch {
	case stage == domain.StagePickedUp:
		m.Pickup("handed_over")
	case stage == domain.StageCancelled && note == NoteNotPickedUp:
		m.Pickup("expired")
	}
}

// metricsOr is m, or NoMetrics when m is nil.
func metricsOr(m Metrics) Metrics {
	if m == nil {
		return NoMetrics{}
	}
	return m
}

// OnceRecorder is a JourneyStore that also says whether a write was new (its
// journey entry was inserted, not found already there). The PostgreSQL store
// is one; with a store that is not, every successful write counts as new.
type OnceRecorder interface {
	RecordStageOnce(ctx context.Context, c StageChange) (bool, error)
	RecordEntryOnce(ctx context.Context, e JourneyEntry) (bool, error)
}

func recordStage(ctx context.Context, s JourneyStore, c StageChange) (bool, error) {
	if o, ok := s.(OnceRecorder); ok {
		return o.RecordStageOnce(ctx, c)
	}
	return true, s.RecordStage(ctx, c)
}

func recordEntry(ctx context.Context, s JourneyStore, e JourneyEntry) (bool, error) {
	if o, ok := s.(OnceRecorder); ok {
		return o.RecordEntryOnce(ctx, e)
	}
	return true, s.RecordEntry(ctx, e)
}

// AttentionReason is the bounded category of a reason an order was flagged
// (the reason's text holds counts and provider words): locked, picking_sla,
// transfer_overdue, delivery_overdue, carrier, payment, other.
func AttentionReason(reason string) string {
	for _, r := range []struct{ prefix, label string }{
		{"handover locked", "locked"},
		{"picking SLA", "picking_sla"},
		{"store transfer overdue", "transfer_overdue"},
		{"delivery overdue", "delivery_overdue"},
		{"carrier reports", "carrier"},
	} {
		if strings.HasPrefix(reason, r.prefix) {
			return r.label
		}
	}
	if l := strings.ToLower(reason); strings.Contains(l, "payment") || strings.Contains(l, "refund") || strings.Contains(l, "capture") {
		return "payment"
	}
	return "other"
}
