package postgres_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

// TestOrderViewFollowsStagesAndEntries: a stage writes the whole view; a journey
// entry only its live fields (attention, problem, lock, carrier status), never
// what goes with a stage; an older snapshot or a stale retry changes nothing.
func TestOrderViewFollowsStagesAndEntries(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	one, two := 1, 2
	picked := activities.OrderView{Seq: 3, Captured: 32700, Refunded: 3900,
		Lines: []activities.LineView{
			{SKU: "WATCH-001", Name: "Watch", Ordered: 1, Picked: &one, UnitPrice: 24900},
			{SKU: "STRAP-LEA-20", Name: "Strap", Ordered: 2, Picked: &two, UnitPrice: 3900},
		},
		Shipment: &activities.ShipmentView{Carrier: "DHL", Service: "Paket", TrackingCode: "T1", TrackingURL: "https://t/1"},
	}
	order := activities.OrderSummary{OrderID: "A-1", CustomerID: "c1", Method: domain.MethodShipToStore,
		StoreID: "s1", LocationID: "dc", Total: 32700, Currency: "EUR", PlacedAt: t0, View: &picked}
	stage := func(s domain.Stage, at time.Time, o activities.OrderSummary) {
		t.Helper()
		if err := st.RecordStage(ctx, activities.StageChange{Order: o, Stage: s, At: at}); err != nil {
			t.Fatal(err)
		}
	}
	entry := func(key string, seq int64, change func(*activities.OrderView)) {
		t.Helper()
		v := picked
		v.Seq = seq
		change(&v)
		if err := st.RecordEntry(ctx, activities.JourneyEntry{OrderID: "A-1", Kind: activities.EntryAttention, Key: key,
			Detail: v.AttentionReason, At: t0.Add(time.Hour), Stage: domain.StageInTransitToStore, View: &v}); err != nil {
			t.Fatal(err)
		}
	}
	stage(domain.StageInTransitToStore, t0.Add(time.Minute), order)

	// An entry with a newer snapshot: the live fields follow it; the money it
	// carries does not (it goes with the next stage).
	entry("attention:1", 5, func(v *activities.OrderView) {
		v.NeedsAttention, v.AttentionReason, v.Refunded = true, "carrier reports failure", 9999
		v.Shipment = &activities.ShipmentView{Carrier: "other", Status: "failure"}
		v.Problem = &activities.ProblemView{Step: "buy label", Reason: "refused", Since: t0, Waiting: true, Actions: []string{"retry", "cancel"}}
	})
	// An older snapshot written late changes none of it.
	entry("attention:0", 4, func(v *activities.OrderView) { v.AttentionReason = "older" })

	d, err := st.OrderDetail(ctx, "A-1")
	if err != nil {
		t.Fatal(err)
	}
	if d.View == nil {
		t.Fatal("no view after a stage with one")
	}
	v := *d.View
	if v.Seq != 5 || v.Captured != 32700 || v.Refunded != 3900 || !reflect.DeepEqual(v.Lines, picked.Lines) {
		t.Errorf("view = %+v, want seq 5 with the stage's money and lines", v)
	}
	wantShipment := activities.ShipmentView{Carrier: "DHL", Service: "Paket", TrackingCode: "T1", TrackingURL: "https://t/1", Status: "failure"}
	if v.Shipment == nil || *v.Shipment != wantShipment {
		t.Errorf("shipment = %+v, want the stage's label with the entry's status", v.Shipment)
	}
	if !d.NeedsAttention || d.AttentionReason != "carrier reports failure" || !v.NeedsAttention ||
		v.Problem == nil || v.Problem.Step != "buy label" || !v.Problem.Waiting || !reflect.DeepEqual(v.Problem.Actions, []string{"retry", "cancel"}) {
		t.Errorf("live fields = %+v (needs attention %v, %q), want the newest entry's", v, d.NeedsAttention, d.AttentionReason)
	}
	if len(d.Journey) != 3 || d.Journey[0].Stage != domain.StageInTransitToStore || d.Journey[1].Stage != domain.StageInTransitToStore {
		t.Errorf("journey = %+v, want the stage and two entries, each with its stage", d.Journey)
	}

	// A stale retry of an earlier stage changes nothing; the next stage writes
	// everything, and the problem is gone with its snapshot.
	early := picked
	early.Captured, early.Seq = 1, 2
	stale := order
	stale.View = &early
	stage(domain.StagePicked, t0, stale)
	ready := picked
	ready.Seq, ready.PickupCodeIssued, ready.Refunded = 6, true, 7800
	ready.Shipment = &activities.ShipmentView{Carrier: "DHL", Service: "Paket", TrackingCode: "T1", TrackingURL: "https://t/1", Status: "delivered"}
	next := order
	next.View = &ready
	stage(domain.StageReadyForPickup, t0.Add(2*time.Hour), next)
	d, err = st.OrderDetail(ctx, "A-1")
	if err != nil {
		t.Fatal(err)
	}
	v = *d.View
	if d.Stage != domain.StageReadyForPickup || v.Captured != 32700 || v.Refunded != 7800 || !v.PickupCodeIssued ||
		v.Problem != nil || d.NeedsAttention || v.Shipment == nil || v.Shipment.Status != "delivered" {
		t.Errorf("after ready: stage %s, view %+v (needs attention %v)", d.Stage, v, d.NeedsAttention)
	}
}

// TestOrderDetailWithoutView: a row no stage with a view has written reads
// without one (the API then asks the workflow); an unknown order is ErrNotFound.
func TestOrderDetailWithoutView(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	o := activities.OrderSummary{OrderID: "A-1", CustomerID: "c1", Method: domain.MethodHomeDelivery, Total: 100, Currency: "EUR", PlacedAt: t0}
	if err := st.RecordStage(ctx, activities.StageChange{Order: o, Stage: domain.StagePicking, At: t0}); err != nil {
		t.Fatal(err)
	}
	d, err := st.OrderDetail(ctx, "A-1")
	if err != nil || d.View != nil || d.Stage != domain.StagePicking || len(d.Journey) != 1 {
		t.Errorf("OrderDetail = %+v, %v; want the row without a view", d, err)
	}
	if _, err := st.OrderDetail(ctx, "nope"); !errorsIs(err, activities.ErrNotFound) {
		t.Errorf("OrderDetail(nope) err = %v, want ErrNotFound", err)
	}
}
