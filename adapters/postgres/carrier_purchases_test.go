package postgres_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/adapters/postgres"
	"github.com/everywherecommerce/fulfilment/adapters/postgres/pgtest"
)

func TestCarrierPurchasesKeepTheFirstShipment(t *testing.T) {
	t.Parallel()
	st := postgres.NewStore(pgtest.New(t))
	ctx := t.Context()
	const key = "A-1:label:home-delivery"

	if id, found, err := st.Purchase(ctx, key); err != nil || found || id != "" {
		t.Fatalf("Purchase before any record = %q, %v, %v; want nothing", id, found, err)
	}
	for _, id := range []string{"shp_first", "shp_first", "shp_second"} {
		if err := st.RecordPurchase(ctx, key, id); err != nil {
			t.Fatalf("RecordPurchase(%s): %v", id, err)
		}
	}
	if id, found, err := st.Purchase(ctx, key); err != nil || !found || id != "shp_first" {
		t.Errorf("Purchase = %q, %v, %v; want shp_first (a later shipment must not replace it)", id, found, err)
	}
	if err := st.RecordPurchase(ctx, "A-2:label:home-delivery", ""); !errorsIs(err, activities.ErrInvalidRequest) {
		t.Errorf("RecordPurchase without a shipment = %v, want ErrInvalidRequest", err)
	}
}

func TestCarrierPurchasesConcurrentRecordsAgree(t *testing.T) {
	t.Parallel()
	st := postgres.NewStore(pgtest.New(t))
	ctx := t.Context()
	const key = "A-3:label:store-transfer"
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			if err := st.RecordPurchase(ctx, key, fmt.Sprintf("shp_%d", i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	id, found, err := st.Purchase(ctx, key)
	if err != nil || !found {
		t.Fatalf("Purchase = %q, %v, %v", id, found, err)
	}
	for range 3 {
		if again, _, err := st.Purchase(ctx, key); err != nil || again != id {
			t.Errorf("Purchase again = %q, %v; want %q every time", again, err, id)
		}
	}
}
