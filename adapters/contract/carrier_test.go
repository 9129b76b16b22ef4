package contract_test

// Contract tests of activities.Carrier: the sandbox fake and the EasyPost adapter
// (against easyposttest, a fake EasyPost API answering recorded response shapes)
// must agree on what the activities rely on: one label per idempotency key however
// often, however concurrently and after whatever crash it is asked for again; an
// undeliverable address is permanent; provider trouble is retryable; voids work.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/adapters/easypost"
	"github.com/everywherecommerce/fulfilment/adapters/easypost/easyposttest"
	"github.com/everywherecommerce/fulfilment/adapters/postgres"
	"github.com/everywherecommerce/fulfilment/adapters/postgres/pgtest"
	"github.com/everywherecommerce/fulfilment/adapters/sandbox"
	"github.com/everywherecommerce/fulfilment/domain"
)

// postgres.Store is the purchase log the worker gives the EasyPost adapter.
var _ easypost.PurchaseLog = (*postgres.Store)(nil)

// carrierHarness is one carrier under test with what the provider knows.
type carrierHarness struct {
	carrier activities.Carrier
	// purchases counts the labels the provider charged for.
	purchases func() int
	// voided reports whether a label's refund was requested.
	voided func(shipmentID string) bool
	// retryAfter is the wait a rate-limited first attempt asks for.
	retryAfter time.Duration
	// crashPoints arrange one failure between two steps of a purchase; a carrier
	// that buys in one step has none.
	crashPoints []carrierCrash
	// restart builds a new carrier on the same provider-side state, as a worker
	// restart or a second worker process would; nil where that state lives in the
	// carrier value itself (the in-memory sandbox).
	restart func(t *testing.T) activities.Carrier
}

// carrierCrash makes the next purchase fail once at a point between two steps.
type carrierCrash struct {
	name    string
	arrange func()
}

// carrierImplementations builds each implementation on fresh state.
func carrierImplementations() []struct {
	name string
	new  func(t *testing.T) carrierHarness
} {
	return []struct {
		name string
		new  func(t *testing.T) carrierHarness
	}{
		{"sandbox", newSandboxCarrierHarness},
		{"sandbox/postgres", newPostgresSandboxCarrierHarness},
		{"easypost", newEasyPostCarrierHarness},
	}
}

// forEachCarrier runs the contract f against every implementation, in parallel.
func forEachCarrier(t *testing.T, f func(t *testing.T, h carrierHarness)) {
	t.Helper()
	for _, impl := range carrierImplementations() {
		t.Run(impl.name, func(t *testing.T) {
			t.Parallel()
			f(t, impl.new(t))
		})
	}
}

func newSandboxCarrierHarness(*testing.T) carrierHarness {
	c := sandbox.NewCarrier("https://track.example/")
	return carrierHarness{carrier: c, purchases: c.LabelsBought, voided: c.Voided, retryAfter: sandbox.RateLimitRetryAfter}
}

// newPostgresSandboxCarrierHarness is the sandbox carrier as registry.Sandbox
// builds it: labels in PostgreSQL.
func newPostgresSandboxCarrierHarness(t *testing.T) carrierHarness {
	ledger := postgres.NewStore(pgtest.New(t)).SandboxLedger()
	newCarrier := func() *sandbox.Carrier {
		return sandbox.NewCarrier("https://track.example/", sandbox.WithLabelLedger(ledger))
	}
	c := newCarrier()
	return carrierHarness{carrier: c, purchases: c.LabelsBought, voided: c.Voided, retryAfter: sandbox.RateLimitRetryAfter,
		restart: func(*testing.T) activities.Carrier { return newCarrier() }}
}

func newEasyPostCarrierHarness(t *testing.T) carrierHarness {
	srv := easyposttest.NewServer(t, easyposttest.Options{RetryAfter: 3})
	log := newMemoryPurchaseLog() // the worker's PostgreSQL: it outlives a restart
	return carrierHarness{
		carrier: newEasyPostCarrier(t, srv, log, easypost.RatePreference{}),
		restart: func(t *testing.T) activities.Carrier {
			return newEasyPostCarrier(t, srv, log, easypost.RatePreference{})
		},
		purchases:  srv.Purchases,
		voided:     srv.RefundRequested,
		retryAfter: 3 * time.Second,
		crashPoints: []carrierCrash{
			{"created, answer lost before it was recorded", func() { srv.FailOnce(easyposttest.StepCreate, easyposttest.After) }},
			{"created, purchase log down", func() { log.failNextRecord() }},
			{"recorded, lost before buying", func() { srv.FailOnce(easyposttest.StepBuy, easyposttest.Before) }},
			{"bought, answer lost", func() { srv.FailOnce(easyposttest.StepBuy, easyposttest.After) }},
			{"bought, lost before the tracker", func() { srv.FailOnce(easyposttest.StepTracker, easyposttest.Before) }},
			{"tracker created, answer lost", func() { srv.FailOnce(easyposttest.StepTracker, easyposttest.After) }},
		},
	}
}

// newEasyPostCarrier returns the adapter pointed at the fake, or fails the test.
func newEasyPostCarrier(t *testing.T, srv *easyposttest.Server, log easypost.PurchaseLog, pref easypost.RatePreference) *easypost.Carrier {
	t.Helper()
	c, err := easypost.NewCarrier(easypost.Config{
		APIKey: srv.APIKey, BaseURL: srv.URL, HTTPClient: &http.Client{Timeout: 10 * time.Second}, Rate: pref,
		Parcel: testParcel, Purchases: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testParcel is a shoe box: 1 lb per item.
var testParcel = easypost.Parcel{LengthIn: 13, WidthIn: 8, HeightIn: 5, WeightOzPerItem: 16}

// labelRequest is a home delivery from the distribution centre to a customer
// whose postal code is given.
func labelRequest(orderID, postalCode string) activities.LabelRequest {
	return activities.LabelRequest{
		OrderID: orderID, Purpose: activities.PurposeHomeDelivery, Items: 2,
		From:           domain.Address{Name: "Everywhere DC Erfurt", Line1: "Am Kreuz 1", PostalCode: "99099", City: "Erfurt", Country: "DE"},
		To:             domain.Address{Name: "Anna Example", Line1: "Invalidenstraße 1", Line2: "3. OG", PostalCode: postalCode, City: "Berlin", Country: "DE"},
		IdempotencyKey: orderID + ":label:" + activities.PurposeHomeDelivery,
	}
}

// buyLabel buys a label or fails the test.
func buyLabel(t *testing.T, h carrierHarness, req activities.LabelRequest) activities.Label {
	t.Helper()
	l, err := h.carrier.BuyLabel(t.Context(), req)
	if err != nil {
		t.Fatalf("BuyLabel(%s): %v", req.IdempotencyKey, err)
	}
	return l
}

func TestCarrierContractOneLabelPerKey(t *testing.T) {
	forEachCarrier(t, func(t *testing.T, h carrierHarness) {
		first := buyLabel(t, h, labelRequest("A-1", "10115"))
		if first.ShipmentID == "" || first.Carrier == "" || first.Service == "" || first.TrackingCode == "" ||
			first.TrackingURL == "" || first.LabelURL == "" {
			t.Errorf("label has empty fields: %+v", first)
		}
		if again := buyLabel(t, h, labelRequest("A-1", "10115")); again != first {
			t.Errorf("repeat = %+v, want the first label %+v", again, first)
		}
		if n := h.purchases(); n != 1 {
			t.Errorf("%d labels bought for one key, want 1", n)
		}
		other := buyLabel(t, h, labelRequest("A-2", "10115"))
		if other.ShipmentID == first.ShipmentID || other.TrackingCode == first.TrackingCode {
			t.Errorf("another key got the same label: %+v", other)
		}
		if n := h.purchases(); n != 2 {
			t.Errorf("%d labels bought for two keys, want 2", n)
		}
	})
}

func TestCarrierContractConcurrentAttempts(t *testing.T) {
	forEachCarrier(t, func(t *testing.T, h carrierHarness) {
		var mu sync.Mutex
		var labels []activities.Label
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				l, err := h.carrier.BuyLabel(t.Context(), labelRequest("A-3", "10115"))
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Error(err)
					return
				}
				labels = append(labels, l)
			})
		}
		wg.Wait()
		for _, l := range labels {
			if l.ShipmentID != labels[0].ShipmentID || l.TrackingCode != labels[0].TrackingCode {
				t.Errorf("concurrent attempts got different labels: %+v and %+v", l, labels[0])
			}
		}
		if n := h.purchases(); n != 1 {
			t.Errorf("8 concurrent attempts bought %d labels, want 1", n)
		}
	})
}

func TestCarrierContractUndeliverable(t *testing.T) {
	forEachCarrier(t, func(t *testing.T, h carrierHarness) {
		for attempt := range 2 {
			_, err := h.carrier.BuyLabel(t.Context(), labelRequest("A-4", sandbox.PostalCodeUndeliverable))
			if !errors.Is(err, activities.ErrInvalidRequest) {
				t.Errorf("attempt %d: err = %v, want ErrInvalidRequest", attempt+1, err)
			}
		}
		if n := h.purchases(); n != 0 {
			t.Errorf("%d labels bought to an undeliverable address", n)
		}
	})
}

func TestCarrierContractTransientFirstAttempt(t *testing.T) {
	cases := []struct {
		name           string
		postalCode     string
		wantRetryAfter bool
	}{
		{"rate limited", sandbox.PostalCodeRateLimited, true},
		{"unavailable", sandbox.PostalCodeUnavailable, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forEachCarrier(t, func(t *testing.T, h carrierHarness) {
				req := labelRequest("A-5", tc.postalCode)
				_, err := h.carrier.BuyLabel(t.Context(), req)
				if err == nil || errors.Is(err, activities.ErrInvalidRequest) {
					t.Fatalf("first attempt: err = %v, want a retryable error", err)
				}
				var ra *activities.RetryAfterError
				if got := errors.As(err, &ra); got != tc.wantRetryAfter {
					t.Errorf("first attempt: RetryAfterError = %v, want %v (%v)", got, tc.wantRetryAfter, err)
				} else if got && ra.After != h.retryAfter {
					t.Errorf("Retry-After honoured as %v, want %v", ra.After, h.retryAfter)
				}
				buyLabel(t, h, req)
				if n := h.purchases(); n != 1 {
					t.Errorf("%d labels bought, want 1", n)
				}
			})
		})
	}
}

func TestCarrierContractVoidLabel(t *testing.T) {
	forEachCarrier(t, func(t *testing.T, h carrierHarness) {
		l := buyLabel(t, h, labelRequest("A-6", "10115"))
		for attempt := range 2 { // a retried void must succeed too
			if err := h.carrier.VoidLabel(t.Context(), l.ShipmentID); err != nil {
				t.Fatalf("void attempt %d: %v", attempt+1, err)
			}
		}
		if !h.voided(l.ShipmentID) {
			t.Error("label not voided")
		}
	})
}

// TestCarrierContractRemembersAcrossRestart: a label bought before a worker
// restart is the label a purchase with the same key gets after it (nothing is
// bought twice), and it can be voided after the restart.
func TestCarrierContractRemembersAcrossRestart(t *testing.T) {
	forEachCarrier(t, func(t *testing.T, h carrierHarness) {
		if h.restart == nil {
			t.Skip("keeps its labels in the carrier value: a restarted worker starts empty")
		}
		req := labelRequest("A-9", "10115")
		first := buyLabel(t, h, req)
		after := h.restart(t)
		again, err := after.BuyLabel(t.Context(), req)
		if err != nil || again != first {
			t.Errorf("same key after a restart = %+v, %v; want the first label %+v", again, err, first)
		}
		if n := h.purchases(); n != 1 {
			t.Errorf("%d labels bought for one key across a restart, want 1", n)
		}
		if err := after.VoidLabel(t.Context(), first.ShipmentID); err != nil {
			t.Fatalf("void after a restart: %v", err)
		}
		if !h.voided(first.ShipmentID) {
			t.Error("label bought before the restart not voided")
		}
	})
}

func TestCarrierContractCrashBetweenSteps(t *testing.T) {
	for _, impl := range carrierImplementations() {
		t.Run(impl.name, func(t *testing.T) {
			t.Parallel()
			points := impl.new(t).crashPoints
			if len(points) == 0 {
				t.Skipf("%s buys a label in one step: nothing to crash between", impl.name)
			}
			for i, p := range points {
				t.Run(p.name, func(t *testing.T) {
					t.Parallel()
					h := impl.new(t)
					h.crashPoints[i].arrange()
					req := labelRequest("A-7", "10115")
					if _, err := h.carrier.BuyLabel(t.Context(), req); err == nil || errors.Is(err, activities.ErrInvalidRequest) {
						t.Fatalf("crashed attempt: err = %v, want a retryable error", err)
					}
					l := buyLabel(t, h, req)
					if again := buyLabel(t, h, req); again != l {
						t.Errorf("after the retry: %+v, want %+v", again, l)
					}
					if l.TrackingURL == "" {
						t.Errorf("label without tracking link: %+v", l)
					}
					if n := h.purchases(); n != 1 {
						t.Errorf("%d labels bought, want 1", n)
					}
				})
			}
		})
	}
}

func TestEasyPostCarrierRequests(t *testing.T) {
	t.Parallel()
	srv := easyposttest.NewServer(t, easyposttest.Options{})
	c := newEasyPostCarrier(t, srv, newMemoryPurchaseLog(), easypost.RatePreference{})
	req := labelRequest("A-8", "10115")
	l, err := c.BuyLabel(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	creates := srv.Creates()
	want := easyposttest.CreateRequest{
		Reference: req.IdempotencyKey,
		To:        easyposttest.Address{Name: "Anna Example", Street1: "Invalidenstraße 1", Street2: "3. OG", City: "Berlin", Zip: "10115", Country: "DE"},
		From:      easyposttest.Address{Name: "Everywhere DC Erfurt", Street1: "Am Kreuz 1", City: "Erfurt", Zip: "99099", Country: "DE"},
		Parcel:    easyposttest.Parcel{Length: 13, Width: 8, Height: 5, Weight: 32},
	}
	if len(creates) != 1 || creates[0] != want {
		t.Errorf("create requests = %+v, want one %+v", creates, want)
	}
	rate, _ := srv.BoughtRate(l.ShipmentID)
	if rate.Carrier != "DPD" || rate.Service != "Classic" || l.Carrier != "DPD" || l.Service != "Classic" {
		t.Errorf("bought %+v, label %s/%s; want the cheapest, DPD Classic", rate, l.Carrier, l.Service)
	}
	if !strings.HasPrefix(l.TrackingURL, "https://track.easypost.com/") || !strings.HasPrefix(l.TrackingCode, "EZ") {
		t.Errorf("tracking %s at %s, want EasyPost's tracker page", l.TrackingCode, l.TrackingURL)
	}
	for step, want := range map[easyposttest.Step]int{easyposttest.StepCreate: 1, easyposttest.StepGet: 0,
		easyposttest.StepBuy: 1, easyposttest.StepTracker: 1} {
		if got := srv.Calls(step); got != want {
			t.Errorf("%s calls = %d, want %d", step, got, want)
		}
	}
}

// TestEasyPostCarrierPostgresPurchaseLog crashes a worker mid-purchase and resumes
// in a new adapter (a restarted worker) that shares only PostgreSQL with it.
func TestEasyPostCarrierPostgresPurchaseLog(t *testing.T) {
	t.Parallel()
	st := postgres.NewStore(pgtest.New(t))
	srv := easyposttest.NewServer(t, easyposttest.Options{})
	crashes := []struct {
		order string
		step  easyposttest.Step
		when  easyposttest.When
	}{
		{"A-11", easyposttest.StepCreate, easyposttest.After},
		{"A-12", easyposttest.StepBuy, easyposttest.After},
	}
	for i, c := range crashes {
		srv.FailOnce(c.step, c.when)
		req := labelRequest(c.order, "10115")
		if _, err := newEasyPostCarrier(t, srv, st, easypost.RatePreference{}).BuyLabel(t.Context(), req); err == nil {
			t.Fatalf("%s: the crashed attempt succeeded", c.order)
		}
		restarted := newEasyPostCarrier(t, srv, st, easypost.RatePreference{})
		l := buyLabel(t, carrierHarness{carrier: restarted}, req)
		if id, found, err := st.Purchase(t.Context(), req.IdempotencyKey); err != nil || !found || id != l.ShipmentID {
			t.Errorf("%s: purchase log has %q (%v, %v), label is %s", c.order, id, found, err, l.ShipmentID)
		}
		if n := srv.Purchases(); n != i+1 {
			t.Errorf("after %s: %d labels bought, want %d", c.order, n, i+1)
		}
	}
}

// memoryPurchaseLog is an in-memory easypost.PurchaseLog that keeps the first
// shipment per key and can fail one RecordPurchase, as a database outage would.
type memoryPurchaseLog struct {
	mu       sync.Mutex
	byKey    map[string]string
	failNext bool
}

func newMemoryPurchaseLog() *memoryPurchaseLog { return &memoryPurchaseLog{byKey: map[string]string{}} }

// Purchase returns the shipment recorded for key.
func (l *memoryPurchaseLog) Purchase(_ context.Context, key string) (string, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	id, ok := l.byKey[key]
	return id, ok, nil
}

// RecordPurchase keeps the first shipment of a key, unless told to fail.
func (l *memoryPurchaseLog) RecordPurchase(_ context.Context, key, shipmentID string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failNext {
		l.failNext = false
		return fmt.Errorf("record purchase %s: database unavailable", key)
	}
	if _, ok := l.byKey[key]; !ok {
		l.byKey[key] = shipmentID
	}
	return nil
}

// failNextRecord makes the next RecordPurchase fail.
func (l *memoryPurchaseLog) failNextRecord() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failNext = true
}
