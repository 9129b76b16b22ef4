package activities_test

import (
	"context"
	"sync"
	"testing"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/adapters/sandbox"
	"github.com/everywherecommerce/fulfilment/domain"
)

// onceJourney is a JourneyStore that, like PostgreSQL, keeps one entry per key
// and says whether a write was new.
type onceJourney struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (j *onceJourney) add(key string) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.seen == nil {
		j.seen = map[string]bool{}
	}
	fresh := !j.seen[key]
	j.seen[key] = true
	return fresh
}

func (j *onceJourney) RecordStage(ctx context.Context, c activities.StageChange) error {
	_, err := j.RecordStageOnce(ctx, c)
	return err
}

func (j *onceJourney) RecordEntry(ctx context.Context, e activities.JourneyEntry) error {
	_, err := j.RecordEntryOnce(ctx, e)
	return err
}

func (j *onceJourney) RecordStageOnce(_ context.Context, c activities.StageChange) (bool, error) {
	return j.add(c.Order.OrderID + "/stage:" + string(c.Stage)), nil
}

func (j *onceJourney) RecordEntryOnce(_ context.Context, e activities.JourneyEntry) (bool, error) {
	return j.add(e.OrderID + "/" + e.Key), nil
}

// countingMetrics records what the activities counted.
type countingMetrics struct {
	activities.NoMetrics
	mu       sync.Mutex
	stages   map[domain.Stage]int
	captured map[string]int64
	flagged  map[string]int
	pickups  map[string]int
}

func (m *countingMetrics) Pickup(outcome string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pickups[outcome]++
}

func (m *countingMetrics) StageEntered(_ domain.Method, s domain.Stage) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stages[s]++
}

func (m *countingMetrics) PaymentCaptured(currency string, amount int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.captured[currency] += amount
}

func (m *countingMetrics) Attention(reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.flagged[reason]++
}

type acceptingPayments struct{ activities.PaymentProvider }

func (acceptingPayments) Capture(_ context.Context, r activities.CaptureRequest) (activities.Capture, error) {
	return activities.Capture{ID: "ch_" + r.IdempotencyKey, Amount: r.Amount}, nil
}

// TestRetriedActivitiesCountOnce: a checkout and an attention flag run twice (a
// retry after the first attempt's writes) are counted once.
func TestRetriedActivitiesCountOnce(t *testing.T) {
	store := sandbox.NewStore()
	if err := store.AddLocation(activities.Location{ID: "dc", Kind: activities.KindDistributionCentre, Name: "DC", TimeZone: "Europe/Berlin"}); err != nil {
		t.Fatal(err)
	}
	if err := store.SetStock("dc", "S", 5); err != nil {
		t.Fatal(err)
	}
	m := &countingMetrics{stages: map[domain.Stage]int{}, captured: map[string]int64{}, flagged: map[string]int{}, pickups: map[string]int{}}
	journey := &onceJourney{}
	checkout := &activities.Checkout{Stock: store, Payments: acceptingPayments{}, Locations: store, Journey: journey, Metrics: m}
	order := activities.OrderSummary{OrderID: "A-1", Method: domain.MethodShipToStore, Currency: "EUR"}
	req := activities.CheckoutRequest{
		Reserve:  activities.ReserveRequest{OrderID: "A-1", Locations: []string{"dc"}, Lines: []domain.Line{{SKU: "S", Quantity: 1, UnitPrice: 2500}}},
		Capture:  activities.CaptureRequest{PaymentID: "pi_1", Amount: 2500, Currency: "EUR", IdempotencyKey: "A-1:capture"},
		Captured: []activities.StageChange{{Order: order, Stage: domain.StageAccepted}, {Order: order, Stage: domain.StagePaymentCaptured}},
	}
	j := &activities.Journey{Store: journey, Metrics: m}
	flag := activities.JourneyEntry{OrderID: "A-1", Kind: activities.EntryAttention, Key: "attention:1", Detail: "handover locked after 5 wrong pickup codes"}
	for range 2 {
		if _, err := checkout.CheckOut(t.Context(), req); err != nil {
			t.Fatal(err)
		}
		if err := j.RecordJourney(t.Context(), flag); err != nil {
			t.Fatal(err)
		}
	}
	if m.stages[domain.StageAccepted] != 1 || m.stages[domain.StagePaymentCaptured] != 1 || m.captured["EUR"] != 2500 {
		t.Errorf("counted stages %v, captured %v; want accepted and payment_captured once, EUR 2500", m.stages, m.captured)
	}
	if m.flagged["locked"] != 1 || len(m.flagged) != 1 || m.pickups["locked"] != 1 || len(m.pickups) != 1 {
		t.Errorf("counted flags %v, pickups %v; want locked once each", m.flagged, m.pickups)
	}
}

func TestAttentionReasonIsBounded(t *testing.T) {
	for reason, want := range map[string]string{
		"handover locked after 5 wrong pickup codes": "locked",
		"picking SLA passed":                         "picking_sla",
		"store transfer overdue":                     "transfer_overdue",
		"delivery overdue":                           "delivery_overdue",
		"carrier reports exception":                  "carrier",
		"payment provider reports a dispute of 12,00 € outside this order's flow": "payment",
		"something new": "other",
	} {
		if got := activities.AttentionReason(reason); got != want {
			t.Errorf("AttentionReason(%q) = %q, want %q", reason, got, want)
		}
	}
}
