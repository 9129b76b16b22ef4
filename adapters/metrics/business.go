package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

// Business is activities.Metrics in Prometheus counters (prefix fulfilment_).
// What each counts under retries and crashes is documented on the port and in
// docs/observability.md.
type Business struct {
	stages        *prometheus.CounterVec
	captured      *prometheus.CounterVec
	capturedMinor *prometheus.CounterVec
	refunded      *prometheus.CounterVec
	refundedMinor *prometheus.CounterVec
	labels        *prometheus.CounterVec
	messages      *prometheus.CounterVec
	attention     *prometheus.CounterVec
	pickups       *prometheus.CounterVec
}

var _ activities.Metrics = (*Business)(nil)

// NewBusiness registers the business counters in reg.
func NewBusiness(reg prometheus.Registerer) (*Business, error) {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	b := &Business{
		stages: counter("fulfilment_order_stages_total",
			"Orders that entered a stage (its journey entry was new), by fulfilment method and stage.", "method", "stage"),
		captured: counter("fulfilment_payments_captured_total",
			"Payments captured at checkout, by currency.", "currency"),
		capturedMinor: counter("fulfilment_payments_captured_amount_total",
			"Amount captured at checkout in the currency's minor unit (cents), by currency.", "currency"),
		refunded: counter("fulfilment_payments_refunded_total",
			"Refunds the payment provider confirmed, by currency (at least once: see docs/observability.md).", "currency"),
		refundedMinor: counter("fulfilment_payments_refunded_amount_total",
			"Amount refunded in the currency's minor unit (cents), by currency.", "currency"),
		labels: counter("fulfilment_labels_bought_total",
			"Shipping labels bought and saved, by purpose (at least once: see docs/observability.md).", "purpose"),
		messages: counter("fulfilment_messages_total",
			"Customer messages by channel and outcome (sent, failed, undeliverable, unconfirmed, skipped).", "channel", "outcome"),
		attention: counter("fulfilment_orders_flagged_total",
			"Orders flagged for a person (needs attention), by reason category.", "reason"),
		pickups: counter("fulfilment_pickups_total",
			"Pickups by how they ended: handed_over, expired (deadline passed), locked (wrong codes).", "outcome"),
	}
	for _, c := range []prometheus.Collector{b.stages, b.captured, b.capturedMinor, b.refunded, b.refundedMinor, b.labels, b.messages, b.attention, b.pickups} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func (b *Business) StageEntered(method domain.Method, stage domain.Stage) {
	b.stages.WithLabelValues(string(method), string(stage)).Inc()
}

func (b *Business) PaymentCaptured(currency string, amount int64) {
	b.captured.WithLabelValues(currency).Inc()
	b.capturedMinor.WithLabelValues(currency).Add(float64(amount))
}

func (b *Business) PaymentRefunded(currency string, amount int64) {
	b.refunded.WithLabelValues(currency).Inc()
	b.refundedMinor.WithLabelValues(currency).Add(float64(amount))
}

func (b *Business) LabelBought(purpose string) { b.labels.WithLabelValues(purpose).Inc() }

func (b *Business) Message(channel domain.Channel, outcome string) {
	b.messages.WithLabelValues(string(channel), outcome).Inc()
}

func (b *Business) Attention(reason string) { b.attention.WithLabelValues(reason).Inc() }

func (b *Business) Pickup(outcome string) { b.pickups.WithLabelValues(outcome).Inc() }
