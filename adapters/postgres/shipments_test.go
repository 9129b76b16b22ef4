package postgres_test

import (
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
)

func TestShipmentsAndTracking(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()
	sh := activities.Shipment{OrderID: "A-1", Purpose: activities.PurposeHomeDelivery, Provider: "sandbox",
		Label: activities.Label{ShipmentID: "shp_1", Carrier: "DHL", TrackingCode: "T1"}}
	for range 2 {
		if err := st.SaveShipment(ctx, sh); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.SaveShipment(ctx, activities.Shipment{OrderID: "A-2", Purpose: activities.PurposeHomeDelivery, Provider: "easypost",
		Label: activities.Label{ShipmentID: "shp_2"}}); err != nil {
		t.Fatal(err)
	}
	got, err := st.Shipment(ctx, "A-1", activities.PurposeHomeDelivery)
	if err != nil || got != sh {
		t.Errorf("Shipment = %+v, %v; want %+v", got, err, sh)
	}
	active, err := st.ActiveShipments(ctx, "sandbox")
	if err != nil || len(active) != 1 || active[0].TrackingCode != "T1" || active[0].LastEvent != "" {
		t.Fatalf("ActiveShipments = %+v, %v", active, err)
	}
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	steps := []struct {
		status string
		at     time.Time
	}{{"in_transit", t0}, {"delivered", t0.Add(time.Hour)}, {"in_transit", t0}} // the last arrives late
	for _, s := range steps {
		if err := st.MarkTrackingEvent(ctx, "A-1", activities.PurposeHomeDelivery, s.status, s.at); err != nil {
			t.Fatal(err)
		}
	}
	if active, err := st.ActiveShipments(ctx, "sandbox"); err != nil || len(active) != 0 {
		t.Errorf("ActiveShipments after delivery = %+v, %v; want none", active, err)
	}
	if err := st.MarkTrackingEvent(ctx, "A-9", activities.PurposeHomeDelivery, "delivered", t0); !errorsIs(err, activities.ErrNotFound) {
		t.Errorf("unknown shipment: %v, want ErrNotFound", err)
	}
}
