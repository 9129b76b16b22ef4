package postgres_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

func TestCheckoutFactsInOneQuery(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	setStock(t, st, "s1", "WATCH", 3)
	setStock(t, st, "dc", "GONE", 0) // stocked once, none left: known
	placed := activities.OrderSummary{OrderID: "A-1", CustomerID: "c1", Method: domain.MethodShipToStore,
		StoreID: "s1", Total: 100, Currency: "EUR", PlacedAt: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)}
	if err := st.RecordStage(t.Context(), activities.StageChange{Order: placed, Stage: "payment_captured", At: placed.PlacedAt}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		q    records.CheckoutLookup
		want records.CheckoutFacts
	}{
		{"store, SKUs known and unknown, new order",
			records.CheckoutLookup{StoreID: "s1", SKUs: []string{"NOPE-2", "WATCH", "GONE", "NOPE-1"}, OrderID: "A-2"},
			records.CheckoutFacts{Store: &activities.Location{ID: "s1", Kind: activities.KindStore, Name: "Store 1"}, UnknownSKUs: []string{"NOPE-2", "NOPE-1"}}},
		{"a distribution centre is a location, not a store",
			records.CheckoutLookup{StoreID: "dc", SKUs: []string{"WATCH"}, OrderID: "A-2"},
			records.CheckoutFacts{Store: &activities.Location{ID: "dc", Kind: activities.KindDistributionCentre, Name: "DC"}}},
		{"unknown store", records.CheckoutLookup{StoreID: "nowhere", OrderID: "A-2"}, records.CheckoutFacts{}},
		{"no store asked, order placed before",
			records.CheckoutLookup{SKUs: []string{"WATCH"}, OrderID: "A-1"}, records.CheckoutFacts{PlacedStage: "payment_captured"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := st.CheckoutFacts(t.Context(), tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("CheckoutFacts(%+v) = %+v, want %+v", tc.q, got, tc.want)
			}
		})
	}
}
