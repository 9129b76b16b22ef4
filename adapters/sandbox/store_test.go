package sandbox_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/adapters/sandbox"
	"github.com/everywherecommerce/fulfilment/domain"
)

// The port rules are checked against PostgreSQL and this fake alike in
// adapters/contract; these tests cover what only the fake offers.

func TestStoreSeedDemoKeepsTakenStock(t *testing.T) {
	t.Parallel()
	st := sandbox.NewStore()
	st.SeedDemo()
	res, err := st.Reserve(t.Context(), activities.ReserveRequest{OrderID: "A-1", Locations: []string{"hamburg-altona", "dc-erfurt"},
		Lines: []domain.Line{{SKU: "WATCH-001", Quantity: 1}, {SKU: "STRAP-STEEL-20", Quantity: 1}}})
	if err != nil || res.LocationID != "dc-erfurt" {
		t.Fatalf("Reserve = %+v, %v; want dc-erfurt (Hamburg has no steel bracelets)", res, err)
	}
	st.SeedDemo()
	if got := st.StockQuantity("dc-erfurt", "WATCH-001"); got != 99 {
		t.Errorf("stock after a second seed = %d, want 99", got)
	}
	loc, err := st.Location(t.Context(), "berlin-mitte")
	if err != nil || loc.Hours["sat"] != "10:00-20:00" || loc.Hours["sun"] != "" {
		t.Errorf("berlin-mitte = %+v, %v", loc, err)
	}
	loc.Hours["sun"] = "changed"
	if again, _ := st.Location(t.Context(), "berlin-mitte"); again.Hours["sun"] != "" {
		t.Error("a caller changed the fake's opening hours")
	}
}

func TestStoreReadMethods(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := sandbox.NewStore()
	st.SeedDemo()
	at := time.Date(2025, 3, 1, 10, 0, 0, 999, time.UTC)
	order := activities.OrderSummary{OrderID: "A-1", CustomerID: "c", Method: domain.MethodShipToStore, StoreID: "berlin-mitte"}
	if err := st.RecordStage(ctx, activities.StageChange{Order: order, Stage: "accepted", At: at}); err != nil {
		t.Fatal(err)
	}
	if got := st.Stage("A-1"); got != "accepted" {
		t.Errorf("Stage = %q", got)
	}
	if j := st.Journey("A-1"); len(j) != 1 || !j[0].At.Equal(at.Truncate(time.Microsecond)) {
		t.Errorf("Journey = %+v, want one entry at microsecond precision, as PostgreSQL keeps it", j)
	}
	for _, key := range []string{"A-1:notify:shipped:email", "A-1:notify:order-confirmed:email"} {
		if _, _, err := st.Begin(ctx, activities.NotificationRecord{Key: key, OrderID: "A-1", Channel: "email"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := st.Notifications(); len(n) != 2 || n[0].Key != "A-1:notify:order-confirmed:email" || n[0].Status != activities.NotificationSending {
		t.Errorf("Notifications = %+v, want two sending rows by key", n)
	}
	if err := st.CreatePickTask(ctx, activities.PickTask{OrderID: "A-1", LocationID: "berlin-mitte", DueAt: at}); err != nil {
		t.Fatal(err)
	}
	if pt, ok := st.PickTask("A-1"); !ok || pt.Done || pt.Task.LocationID != "berlin-mitte" {
		t.Errorf("PickTask = %+v, %v", pt, ok)
	}
	if err := st.SetStock("nowhere", "X", 1); err == nil {
		t.Error("SetStock at an unknown location succeeded")
	}
}

func TestStoreConcurrentUse(t *testing.T) {
	t.Parallel()
	st := sandbox.NewStore()
	st.SeedDemo()
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() {
			id := fmt.Sprintf("A-%d", i)
			_, err := st.Reserve(context.Background(), activities.ReserveRequest{OrderID: id, Locations: []string{"berlin-mitte"},
				Lines: []domain.Line{{SKU: "CLEAN-KIT", Quantity: 1}}})
			if err == nil {
				err = st.Release(context.Background(), id, nil)
			}
			if err != nil {
				t.Error(err)
			}
			_ = st.Journey(id) // concurrent readers, for the race detector
		})
	}
	wg.Wait()
	if got := st.StockQuantity("berlin-mitte", "CLEAN-KIT"); got != 10 {
		t.Errorf("stock after reserving and releasing = %d, want 10", got)
	}
}
