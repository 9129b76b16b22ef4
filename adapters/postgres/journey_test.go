package postgres_test

import (
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

func TestRecordStageKeepsJourneyAndProjection(t *testing.T) {
	t.Parallel()
	st, pool := newStore(t)
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	order := activities.OrderSummary{OrderID: "A-1", CustomerID: "c1", Method: domain.MethodShipToStore,
		StoreID: "s1", Total: 24900, Currency: "EUR", PlacedAt: t0}
	record := func(stage domain.Stage, at time.Time, o activities.OrderSummary) {
		t.Helper()
		if err := st.RecordStage(t.Context(), activities.StageChange{Order: o, Stage: stage, At: at}); err != nil {
			t.Fatal(err)
		}
	}
	record("accepted", t0, order)
	located := order
	located.LocationID = "s1"
	record("picking", t0.Add(time.Minute), located)
	record("picking", t0.Add(time.Minute), located)             // retry
	record("accepted", t0, order)                               // stale retry after a later stage
	record("payment_captured", t0.Add(30*time.Second), located) // late, older than picking

	row, err := st.OrderRow(t.Context(), "A-1")
	if err != nil {
		t.Fatal(err)
	}
	if row.Stage != "picking" || row.LocationID != "s1" || !row.UpdatedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("order row = %+v, want stage picking at location s1 updated at %v", row, t0.Add(time.Minute))
	}
	journey, err := st.Journey(t.Context(), "A-1")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range journey {
		keys = append(keys, e.Key)
	}
	want := []string{"stage:accepted", "stage:payment_captured", "stage:picking"}
	if len(keys) != len(want) || keys[0] != want[0] || keys[1] != want[1] || keys[2] != want[2] {
		t.Errorf("journey keys = %v, want %v (once each, by time)", keys, want)
	}
	var stages int
	if err := pool.QueryRow(t.Context(), `select count(*) from order_journey where order_id = 'A-1' and kind = 'stage'`).Scan(&stages); err != nil {
		t.Fatal(err)
	}
	if stages != 3 {
		t.Errorf("%d stage rows, want 3", stages)
	}
}

func TestRecordEntryOncePerKey(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	e := activities.JourneyEntry{OrderID: "A-1", Kind: activities.EntryStaffAction, Key: "pick:confirmed", Detail: "2 of 2", Actor: "anna", At: at}
	for range 2 {
		if err := st.RecordEntry(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	changed := e
	changed.Detail = "something else"
	if err := st.RecordEntry(t.Context(), changed); err != nil {
		t.Fatal(err)
	}
	got, err := st.Journey(t.Context(), "A-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Detail != "2 of 2" || got[0].Actor != "anna" || !got[0].At.Equal(at) {
		t.Errorf("journey = %+v, want the first entry once", got)
	}
}

func TestProjectionAndStoreWork(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	lines := []domain.Line{{SKU: "A", Name: "Watch", Quantity: 1, UnitPrice: 100}}
	stage := func(id, storeID, loc string, stage domain.Stage) {
		t.Helper()
		o := activities.OrderSummary{OrderID: id, CustomerID: "c", Method: domain.MethodShipToStore, StoreID: storeID,
			LocationID: loc, Total: 100, Currency: "EUR", PlacedAt: t0}
		if err := st.RecordStage(ctx, activities.StageChange{Order: o, Stage: stage, At: t0}); err != nil {
			t.Fatal(err)
		}
		if err := st.CreatePickTask(ctx, activities.PickTask{OrderID: id, LocationID: loc, Lines: lines, DueAt: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	stage("pick-here", "s2", "s1", "picking")
	stage("pick-elsewhere", "s1", "dc", "picking")
	stage("arriving", "s1", "dc", "in_transit_to_store")
	stage("ready", "s1", "s1", "ready_for_pickup")
	stage("ready-elsewhere", "s2", "s2", "ready_for_pickup")
	if err := st.RecordEntry(ctx, activities.JourneyEntry{OrderID: "ready", Kind: activities.EntryAttention,
		Key: "attention:1", Detail: "handover locked", At: t0}); err != nil {
		t.Fatal(err)
	}

	w, err := st.StoreWork(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Picking) != 1 || w.Picking[0].OrderID != "pick-here" || len(w.Picking[0].Lines) != 1 || w.Picking[0].Lines[0].SKU != "A" {
		t.Errorf("picking = %+v, want pick-here with its lines", w.Picking)
	}
	if len(w.Arriving) != 1 || w.Arriving[0].OrderID != "arriving" {
		t.Errorf("arriving = %+v, want arriving", w.Arriving)
	}
	if len(w.ReadyForPickup) != 1 || w.ReadyForPickup[0].OrderID != "ready" || !w.ReadyForPickup[0].NeedsAttention {
		t.Errorf("ready = %+v, want ready, needing attention", w.ReadyForPickup)
	}
	if _, err := st.StoreWork(ctx, "nowhere"); !errorsIs(err, activities.ErrUnknownLocation) {
		t.Errorf("StoreWork(nowhere) err = %v, want ErrUnknownLocation", err)
	}
	if _, err := st.OrderRow(ctx, "nope"); !errorsIs(err, activities.ErrNotFound) {
		t.Errorf("OrderRow(nope) err = %v, want ErrNotFound", err)
	}
}

// TestRecordOnceSaysWhetherNew: the Once variants report a new journey entry
// once, and a retry (a write that finds the entry) as not new, which is what the
// business counters rely on (docs/observability.md).
func TestRecordOnceSaysWhetherNew(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	order := activities.OrderSummary{OrderID: "A-ONCE", CustomerID: "c1", Method: domain.MethodShipToStore,
		StoreID: "s1", Total: 24900, Currency: "EUR", PlacedAt: t0}
	for i, want := range []bool{true, false, false} {
		fresh, err := st.RecordStageOnce(t.Context(), activities.StageChange{Order: order, Stage: domain.StageAccepted, At: t0})
		if err != nil {
			t.Fatal(err)
		}
		if fresh != want {
			t.Errorf("stage write %d: new = %v, want %v", i+1, fresh, want)
		}
	}
	if fresh, err := st.RecordStageOnce(t.Context(), activities.StageChange{Order: order, Stage: domain.StagePaymentCaptured, At: t0}); err != nil || !fresh {
		t.Errorf("another stage: new = %v, %v; want true", fresh, err)
	}
	entry := activities.JourneyEntry{OrderID: "A-ONCE", Kind: activities.EntryAttention, Key: "attention:1", Detail: "picking SLA passed", At: t0}
	for i, want := range []bool{true, false} {
		fresh, err := st.RecordEntryOnce(t.Context(), entry)
		if err != nil {
			t.Fatal(err)
		}
		if fresh != want {
			t.Errorf("entry write %d: new = %v, want %v", i+1, fresh, want)
		}
	}
}
