package easypost_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/adapters/easypost"
	"github.com/everywherecommerce/fulfilment/adapters/easypost/easyposttest"
	"github.com/everywherecommerce/fulfilment/domain"
)

func TestNewCarrierRejectsIncompleteConfig(t *testing.T) {
	t.Parallel()
	good := func() easypost.Config {
		return easypost.Config{APIKey: "EZTK_x", HTTPClient: &http.Client{Timeout: time.Second},
			Parcel: easypost.Parcel{LengthIn: 1, WidthIn: 1, HeightIn: 1, WeightOzPerItem: 1}, Purchases: &memoryLog{}}
	}
	if _, err := easypost.NewCarrier(good()); err != nil {
		t.Fatalf("good config: %v", err)
	}
	cases := map[string]func(*easypost.Config){
		"no key":               func(c *easypost.Config) { c.APIKey = "" },
		"relative base URL":    func(c *easypost.Config) { c.BaseURL = "api.easypost.com/v2" },
		"no HTTP client":       func(c *easypost.Config) { c.HTTPClient = nil },
		"client with no limit": func(c *easypost.Config) { c.HTTPClient = &http.Client{} },
		"weightless parcel":    func(c *easypost.Config) { c.Parcel.WeightOzPerItem = 0 },
		"no purchase log":      func(c *easypost.Config) { c.Purchases = nil },
	}
	for name, breakIt := range cases {
		cfg := good()
		breakIt(&cfg)
		if _, err := easypost.NewCarrier(cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestBaseURLWithoutTrailingSlash(t *testing.T) {
	t.Parallel()
	srv := easyposttest.NewServer(t, easyposttest.Options{})
	c, err := easypost.NewCarrier(easypost.Config{APIKey: srv.APIKey, BaseURL: strings.TrimSuffix(srv.URL, "/"),
		HTTPClient: &http.Client{Timeout: 5 * time.Second}, Parcel: parcel, Purchases: &memoryLog{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.BuyLabel(t.Context(), request("B-5")); err != nil {
		t.Fatal(err)
	}
}

func TestRatePreference(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		pref easypost.RatePreference
		want easyposttest.RateOffer
	}{
		{"none: cheapest", easypost.RatePreference{}, easyposttest.RateOffer{Carrier: "DPD", Service: "Classic"}},
		{"carrier and service", easypost.RatePreference{Carrier: "DHLExpress", Service: "ExpressWorldwide"},
			easyposttest.RateOffer{Carrier: "DHLExpress", Service: "ExpressWorldwide"}},
		{"carrier only: its cheapest", easypost.RatePreference{Carrier: "DHLExpress"},
			easyposttest.RateOffer{Carrier: "DHLExpress", Service: "EconomySelect"}},
		{"not offered: cheapest", easypost.RatePreference{Carrier: "FedEx", Service: "InternationalPriority"},
			easyposttest.RateOffer{Carrier: "DPD", Service: "Classic"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := easyposttest.NewServer(t, easyposttest.Options{})
			l, err := newCarrier(t, srv, &memoryLog{}, tc.pref).BuyLabel(t.Context(), request("B-9"))
			if err != nil {
				t.Fatal(err)
			}
			got, _ := srv.BoughtRate(l.ShipmentID)
			if got.Carrier != tc.want.Carrier || got.Service != tc.want.Service || l.Carrier != got.Carrier || l.Service != got.Service {
				t.Errorf("bought %s/%s (label %s/%s), want %s/%s", got.Carrier, got.Service, l.Carrier, l.Service, tc.want.Carrier, tc.want.Service)
			}
		})
	}
}

func TestTrackerFromPurchase(t *testing.T) {
	t.Parallel()
	srv := easyposttest.NewServer(t, easyposttest.Options{TrackerOnPurchase: true})
	l, err := newCarrier(t, srv, &memoryLog{}, easypost.RatePreference{}).BuyLabel(t.Context(), request("B-10"))
	if err != nil {
		t.Fatal(err)
	}
	if l.TrackingURL == "" || srv.Calls(easyposttest.StepTracker) != 0 {
		t.Errorf("tracking URL %q after %d tracker calls; want the purchase's tracker, no call", l.TrackingURL, srv.Calls(easyposttest.StepTracker))
	}
}

// parcel is the default box of the tests: 12 oz per item.
var parcel = easypost.Parcel{LengthIn: 10, WidthIn: 8, HeightIn: 4, WeightOzPerItem: 12}

// newCarrier returns the adapter pointed at the fake, or fails the test.
func newCarrier(t *testing.T, srv *easyposttest.Server, log easypost.PurchaseLog, pref easypost.RatePreference) *easypost.Carrier {
	t.Helper()
	c, err := easypost.NewCarrier(easypost.Config{APIKey: srv.APIKey, BaseURL: srv.URL,
		HTTPClient: &http.Client{Timeout: 5 * time.Second}, Rate: pref, Parcel: parcel, Purchases: log})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// request is a store transfer from the distribution centre to Hamburg Altona.
func request(orderID string) activities.LabelRequest {
	return activities.LabelRequest{
		OrderID: orderID, Purpose: activities.PurposeStoreTransfer, Items: 1,
		From:           domain.Address{Name: "DC", Line1: "Am Kreuz 1", PostalCode: "99099", City: "Erfurt", Country: "DE"},
		To:             domain.Address{Name: "Store Hamburg Altona", Line1: "Ottenser Hauptstraße 10", PostalCode: "22765", City: "Hamburg", Country: "DE"},
		IdempotencyKey: orderID + ":label:" + activities.PurposeStoreTransfer,
	}
}

// memoryLog is an in-memory PurchaseLog keeping the first shipment per key.
type memoryLog struct {
	mu    sync.Mutex
	byKey map[string]string
}

// Purchase returns the shipment recorded for key.
func (l *memoryLog) Purchase(_ context.Context, key string) (string, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	id, ok := l.byKey[key]
	return id, ok, nil
}

// RecordPurchase keeps the first shipment of a key.
func (l *memoryLog) RecordPurchase(_ context.Context, key, shipmentID string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byKey == nil {
		l.byKey = map[string]string{}
	}
	if _, ok := l.byKey[key]; !ok {
		l.byKey[key] = shipmentID
	}
	return nil
}
