package contract_test

// Contract tests of the store ports (stock, picking, locations, shipments, journey,
// notification log, consent): postgres.Store on a fresh database and the
// sandbox.Store fake must behave the same, so workflow tests on the fake prove
// something about production.

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/adapters/postgres"
	"github.com/everywherecommerce/fulfilment/adapters/sandbox"
	"github.com/everywherecommerce/fulfilment/domain"
)

func TestStoreContractStockReserve(t *testing.T) {
	lines := []domain.Line{{SKU: "A", Quantity: 2}, {SKU: "B", Quantity: 1}}
	cases := []struct {
		name  string
		stock map[string]map[string]int
		want  activities.Reservation
		after map[string]map[string]int
	}{
		{"first location with everything wins",
			map[string]map[string]int{"s1": {"A": 2, "B": 1}, "dc": {"A": 9, "B": 9}},
			activities.Reservation{LocationID: "s1"},
			map[string]map[string]int{"s1": {"A": 0, "B": 0}, "dc": {"A": 9, "B": 9}}},
		{"falls back to the next location",
			map[string]map[string]int{"s1": {"A": 9}, "dc": {"A": 2, "B": 1}},
			activities.Reservation{LocationID: "dc"},
			map[string]map[string]int{"s1": {"A": 9, "B": 0}, "dc": {"A": 0, "B": 0}}},
		{"short lines carry the best single location's stock",
			map[string]map[string]int{"s1": {"A": 1}, "dc": {"A": 0, "B": 0}},
			activities.Reservation{Short: []activities.ShortLine{{SKU: "A", Requested: 2, Available: 1}, {SKU: "B", Requested: 1, Available: 0}}},
			map[string]map[string]int{"s1": {"A": 1, "B": 0}, "dc": {"A": 0, "B": 0}}},
		{"stock split over locations is short where the fewest lines are missing",
			map[string]map[string]int{"s1": {"A": 2}, "dc": {"B": 1}},
			activities.Reservation{Short: []activities.ShortLine{{SKU: "B", Requested: 1, Available: 0}}},
			map[string]map[string]int{"s1": {"A": 2, "B": 0}, "dc": {"A": 0, "B": 1}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forEachStore(t, func(t *testing.T, h storeHarness) {
				storeLocations(t, h)
				for loc, skus := range tc.stock {
					for sku, q := range skus {
						h.setStock(t, loc, sku, q)
					}
				}
				req := activities.ReserveRequest{OrderID: "o1", Locations: []string{"s1", "dc"}, Lines: lines}
				got := storeReserve(t, h, req)
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("Reserve = %+v, want %+v", got, tc.want)
				}
				for loc, skus := range tc.after {
					for sku, q := range skus {
						if got := h.stock(t, loc, sku); got != q {
							t.Errorf("stock of %s at %s = %d, want %d", sku, loc, got, q)
						}
					}
				}
			})
		})
	}
}

func TestStoreContractStockIdempotentAndSafe(t *testing.T) {
	forEachStore(t, func(t *testing.T, h storeHarness) {
		ctx := t.Context()
		storeLocations(t, h)
		h.setStock(t, "s1", "A", 3)
		h.setStock(t, "dc", "A", 10)
		req := activities.ReserveRequest{OrderID: "o1", Locations: []string{"s1", "dc"},
			Lines: []domain.Line{{SKU: "A", Quantity: 1}, {SKU: "A", Quantity: 1}}}
		for range 2 {
			if got := storeReserve(t, h, req); got.LocationID != "s1" {
				t.Fatalf("Reserve = %+v, want s1", got)
			}
		}
		h.setStock(t, "s1", "A", 0) // the repeat must not look at stock again
		if got := storeReserve(t, h, req); got.LocationID != "s1" {
			t.Errorf("repeat after stock ran out = %+v, want the first reservation", got)
		}
		if _, err := h.ports.Reserve(ctx, activities.ReserveRequest{OrderID: "o2", Locations: []string{"s1", "mars"},
			Lines: []domain.Line{{SKU: "A", Quantity: 1}}}); !errors.Is(err, activities.ErrUnknownLocation) {
			t.Errorf("unknown location: err = %v, want ErrUnknownLocation", err)
		}
		if _, err := h.ports.Reserve(ctx, activities.ReserveRequest{OrderID: "o3", Locations: []string{"s1"},
			Lines: []domain.Line{{SKU: "A", Quantity: 0}}}); !errors.Is(err, activities.ErrInvalidRequest) {
			t.Errorf("zero quantity: err = %v, want ErrInvalidRequest", err)
		}

		h.setStock(t, "s2", "A", 10)
		var mu sync.Mutex
		won := 0
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				res, err := h.ports.Reserve(ctx, activities.ReserveRequest{OrderID: fmt.Sprintf("c%d", i),
					Locations: []string{"s2"}, Lines: []domain.Line{{SKU: "A", Quantity: 1}}})
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Error(err)
				}
				if res.LocationID == "s2" {
					won++
				}
			})
		}
		wg.Wait()
		if left := h.stock(t, "s2", "A"); won != 10 || left != 0 {
			t.Errorf("20 concurrent orders for 10 in stock: %d reserved, %d left; want 10 and 0", won, left)
		}
	})
}

func TestStoreContractStockReleaseConsume(t *testing.T) {
	forEachStore(t, func(t *testing.T, h storeHarness) {
		ctx := t.Context()
		storeLocations(t, h)
		h.setStock(t, "s1", "A", 5)
		h.setStock(t, "s1", "B", 5)
		storeReserve(t, h, activities.ReserveRequest{OrderID: "o1", Locations: []string{"s1"},
			Lines: []domain.Line{{SKU: "A", Quantity: 3}, {SKU: "B", Quantity: 2}}})
		steps := []struct {
			name         string
			do           func() error
			wantA, wantB int
		}{
			{"release 1 of A", func() error { return h.ports.Release(ctx, "o1", []domain.PickedLine{{SKU: "A", Quantity: 1}}) }, 3, 3},
			{"repeat", func() error { return h.ports.Release(ctx, "o1", []domain.PickedLine{{SKU: "A", Quantity: 1}}) }, 3, 3},
			{"lower target", func() error { return h.ports.Release(ctx, "o1", []domain.PickedLine{{SKU: "A", Quantity: 0}}) }, 3, 3},
			{"consume", func() error { return h.ports.Consume(ctx, "o1") }, 3, 3},
			{"consume again", func() error { return h.ports.Consume(ctx, "o1") }, 3, 3},
			{"release all after consume", func() error { return h.ports.Release(ctx, "o1", nil) }, 3, 3},
			{"unknown order", func() error { return errors.Join(h.ports.Release(ctx, "x", nil), h.ports.Consume(ctx, "x")) }, 3, 3},
		}
		for _, s := range steps {
			if err := s.do(); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if a, b := h.stock(t, "s1", "A"), h.stock(t, "s1", "B"); a != s.wantA || b != s.wantB {
				t.Errorf("%s: stock A=%d B=%d, want A=%d B=%d", s.name, a, b, s.wantA, s.wantB)
			}
		}

		storeReserve(t, h, activities.ReserveRequest{OrderID: "o2", Locations: []string{"s1"},
			Lines: []domain.Line{{SKU: "A", Quantity: 2}}})
		for _, lines := range [][]domain.PickedLine{{{SKU: "A", Quantity: 9}}, nil} {
			storeOK(t, h.ports.Release(ctx, "o2", lines))
			if a := h.stock(t, "s1", "A"); a != 3 {
				t.Errorf("release %v of o2: stock A=%d, want 3 (capped at the reservation)", lines, a)
			}
		}
	})
}

func TestStoreContractPicking(t *testing.T) {
	forEachStore(t, func(t *testing.T, h storeHarness) {
		ctx := t.Context()
		storeLocations(t, h)
		task := activities.PickTask{OrderID: "o1", LocationID: "s1", Lines: []domain.Line{{SKU: "A", Name: "Watch", Quantity: 2, UnitPrice: 100}}, DueAt: storeT0()}
		storeOK(t, h.ports.CreatePickTask(ctx, task))
		changed := task
		changed.LocationID = "dc"
		storeOK(t, h.ports.CreatePickTask(ctx, changed))
		first := activities.PickResult{OrderID: "o1", Picked: []domain.PickedLine{{SKU: "A", Quantity: 1}}, By: "anna", At: storeT0()}
		later := activities.PickResult{OrderID: "o1", Picked: []domain.PickedLine{{SKU: "A", Quantity: 2}}, By: "ben", At: storeT0().Add(time.Hour)}
		for _, res := range []activities.PickResult{first, first, later} {
			storeOK(t, h.ports.CompletePickTask(ctx, res))
		}
		got, ok := h.pickTask(t, "o1")
		want := storePickTask{LocationID: "s1", Lines: task.Lines, Done: true, Picked: first.Picked, By: "anna"}
		if !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("pick task = %+v (found %v), want %+v", got, ok, want)
		}
		if err := h.ports.CompletePickTask(ctx, activities.PickResult{OrderID: "none", By: "x", At: storeT0()}); !errors.Is(err, activities.ErrNotFound) {
			t.Errorf("complete unknown: %v, want ErrNotFound", err)
		}
		if err := h.ports.CreatePickTask(ctx, activities.PickTask{OrderID: "o2", LocationID: "mars", DueAt: storeT0()}); !errors.Is(err, activities.ErrUnknownLocation) {
			t.Errorf("task at unknown location: %v, want ErrUnknownLocation", err)
		}
	})
}

// TestStoreContractCancelPickTask: a cancelled order's open task leaves the pick
// list for good (a late confirmation changes nothing); a done task stays done; an
// order without a task is no error.
func TestStoreContractCancelPickTask(t *testing.T) {
	forEachStore(t, func(t *testing.T, h storeHarness) {
		ctx := t.Context()
		storeLocations(t, h)
		lines := []domain.Line{{SKU: "A", Name: "Watch", Quantity: 1, UnitPrice: 100}}
		for _, id := range []string{"open", "done"} {
			storeOK(t, h.ports.CreatePickTask(ctx, activities.PickTask{OrderID: id, LocationID: "s1", Lines: lines, DueAt: storeT0()}))
		}
		picked := activities.PickResult{OrderID: "done", Picked: []domain.PickedLine{{SKU: "A", Quantity: 1}}, By: "anna", At: storeT0()}
		storeOK(t, h.ports.CompletePickTask(ctx, picked))
		for _, id := range []string{"open", "open", "done", "never-picked"} {
			storeOK(t, h.ports.CancelPickTask(ctx, id))
		}
		storeOK(t, h.ports.CompletePickTask(ctx, activities.PickResult{OrderID: "open", By: "late", At: storeT0()}))
		if got, _ := h.pickTask(t, "open"); !got.Cancelled || got.Done || got.By != "" {
			t.Errorf("cancelled task = %+v, want cancelled and never done", got)
		}
		if got, _ := h.pickTask(t, "done"); got.Cancelled || !got.Done || got.By != "anna" {
			t.Errorf("done task = %+v, want done by anna, not cancelled", got)
		}
		if _, ok := h.pickTask(t, "never-picked"); ok {
			t.Error("cancelling an order without a task created one")
		}
	})
}

// storeReserve reserves or fails the test.
func storeReserve(t *testing.T, h storeHarness, req activities.ReserveRequest) activities.Reservation {
	t.Helper()
	res, err := h.ports.Reserve(t.Context(), req)
	storeOK(t, err)
	return res
}

// storeLocation looks up a location or fails the test.
func storeLocation(t *testing.T, h storeHarness, id string) activities.Location {
	t.Helper()
	loc, err := h.ports.Location(t.Context(), id)
	storeOK(t, err)
	return loc
}

func TestStoreContractLocations(t *testing.T) {
	forEachStore(t, func(t *testing.T, h storeHarness) {
		storeLocations(t, h)
		got := storeLocation(t, h, "s1")
		want := activities.Location{ID: "s1", Kind: activities.KindStore, Name: "Store 1", TimeZone: "Europe/Berlin",
			Address: domain.Address{Line1: "Main St 1", PostalCode: "10115", City: "Berlin", Country: "DE"},
			Hours:   map[string]string{"mon": "10:00-20:00"}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Location(s1) = %+v, want %+v", got, want)
		}
		if got := storeLocation(t, h, "s2"); got.Hours != nil {
			t.Errorf("Location(s2).Hours = %v, want nil", got.Hours)
		}
		if _, err := h.ports.Location(t.Context(), "mars"); !errors.Is(err, activities.ErrUnknownLocation) {
			t.Errorf("Location(mars) err = %v, want ErrUnknownLocation", err)
		}
	})
}

// TestStoreDemoDataAgrees keeps the fake's copy of the demo data equal to
// postgres.SeedDemo's, since sandbox must not import postgres.
func TestStoreDemoDataAgrees(t *testing.T) {
	t.Parallel()
	impls := storeImplementations()
	harnesses := make([]storeHarness, len(impls))
	for i, impl := range impls {
		harnesses[i] = impl.new(t)
		for range 2 {
			harnesses[i].seedDemo(t)
		}
	}
	for _, loc := range []string{"berlin-mitte", "hamburg-altona", "dc-erfurt"} {
		pg := storeLocation(t, harnesses[0], loc)
		sb := storeLocation(t, harnesses[1], loc)
		if !reflect.DeepEqual(pg, sb) {
			t.Errorf("demo location %s: postgres %+v, sandbox %+v", loc, pg, sb)
		}
		for _, sku := range postgres.DemoSKUs() {
			pq, sq := harnesses[0].stock(t, loc, sku.SKU), harnesses[1].stock(t, loc, sku.SKU)
			if pq != sq {
				t.Errorf("demo stock of %s at %s: postgres %d, sandbox %d", sku.SKU, loc, pq, sq)
			}
		}
	}
	if berlin := harnesses[1].stock(t, "berlin-mitte", "WATCH-001"); berlin != 10 {
		t.Errorf("sandbox demo stock of WATCH-001 in Berlin = %d, want 10", berlin)
	}
}

func TestStoreContractShipments(t *testing.T) {
	forEachStore(t, func(t *testing.T, h storeHarness) {
		ctx := t.Context()
		sh := activities.Shipment{OrderID: "o1", Purpose: activities.PurposeStoreTransfer, Provider: "sandbox",
			Label: activities.Label{ShipmentID: "shp_1", Carrier: "DHL", Service: "Paket", TrackingCode: "T1", TrackingURL: "https://t/1", LabelURL: "https://l/1"}}
		for range 2 {
			storeOK(t, h.ports.SaveShipment(ctx, sh))
		}
		other := sh
		other.Purpose = activities.PurposeHomeDelivery
		other.Label.ShipmentID = "shp_2"
		storeOK(t, h.ports.SaveShipment(ctx, other))
		for _, want := range []activities.Shipment{sh, other} {
			if got, ok := h.shipment(t, want.OrderID, want.Purpose); !ok || got != want {
				t.Errorf("shipment %s = %+v (found %v), want %+v", want.Purpose, got, ok, want)
			}
		}
		if _, ok := h.shipment(t, "o2", activities.PurposeHomeDelivery); ok {
			t.Error("unknown shipment found")
		}
	})
}

func TestStoreContractJourney(t *testing.T) {
	forEachStore(t, func(t *testing.T, h storeHarness) {
		ctx := t.Context()
		t0 := storeT0()
		order := activities.OrderSummary{OrderID: "o1", CustomerID: "c1", Method: domain.MethodShipToStore,
			StoreID: "s1", Total: 24900, Currency: "EUR", PlacedAt: t0}
		changes := []activities.StageChange{
			{Order: order, Stage: "accepted", At: t0},
			{Order: order, Stage: "picking", At: t0.Add(2 * time.Minute), Actor: "system"},
			{Order: order, Stage: "picking", At: t0.Add(2 * time.Minute)},      // retry
			{Order: order, Stage: "accepted", At: t0},                          // stale retry
			{Order: order, Stage: "payment_captured", At: t0.Add(time.Minute)}, // late, but older
		}
		for _, c := range changes {
			storeOK(t, h.ports.RecordStage(ctx, c))
		}
		if got := h.stage(t, "o1"); got != "picking" {
			t.Errorf("stage = %q, want picking (never backwards)", got)
		}
		entry := activities.JourneyEntry{OrderID: "o1", Kind: activities.EntryStaffAction, Key: "pick:confirmed", Detail: "2 of 2", Actor: "anna", At: t0.Add(3 * time.Minute)}
		storeOK(t, h.ports.RecordEntry(ctx, entry))
		changed := entry
		changed.Detail = "changed"
		storeOK(t, h.ports.RecordEntry(ctx, changed))

		got := h.journey(t, "o1")
		want := []activities.JourneyEntry{
			{OrderID: "o1", Kind: activities.EntryStage, Key: "stage:accepted", At: t0},
			{OrderID: "o1", Kind: activities.EntryStage, Key: "stage:payment_captured", At: t0.Add(time.Minute)},
			{OrderID: "o1", Kind: activities.EntryStage, Key: "stage:picking", Actor: "system", At: t0.Add(2 * time.Minute)},
			entry,
		}
		if !storeSameJourney(got, want) {
			t.Errorf("journey =\n%+v\nwant\n%+v", got, want)
		}
		if got := h.stage(t, "unknown"); got != "" {
			t.Errorf("stage of an unknown order = %q, want empty", got)
		}

		if h.attention(t, "o1") {
			t.Error("order needs attention before anything went wrong")
		}
		flag := activities.JourneyEntry{OrderID: "o1", Kind: activities.EntryAttention, Key: "attention:picking:1", Detail: "picking SLA missed", At: t0.Add(time.Hour)}
		for range 2 {
			storeOK(t, h.ports.RecordEntry(ctx, flag))
		}
		if !h.attention(t, "o1") {
			t.Error("an attention entry did not flag the order")
		}
		if n := len(h.journey(t, "o1")); n != 5 {
			t.Errorf("%d journey entries after a repeated attention entry, want 5", n)
		}
	})
}

func TestStoreContractConsent(t *testing.T) {
	forEachStore(t, func(t *testing.T, h storeHarness) {
		for _, step := range []struct {
			set, want bool
		}{{true, true}, {false, false}} {
			h.setConsent(t, "C-1", step.set)
			c, _, err := h.ports.Contact(t.Context(), "C-1")
			if got := c.MarketingConsent; err != nil || got != step.want {
				t.Errorf("consent after setting %v = %v, %v", step.set, got, err)
			}
		}
		if c, found, err := h.ports.Contact(t.Context(), "stranger"); err != nil || found || c.MarketingConsent {
			t.Errorf("unknown customer: found=%v consent=%v err=%v; want no preferences, no consent", found, c.MarketingConsent, err)
		}
	})
}

// storeSameJourney compares journeys, times by instant (PostgreSQL returns them in
// the local zone).
func storeSameJourney(got, want []activities.JourneyEntry) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, w := got[i], want[i]
		if !g.At.Equal(w.At) {
			return false
		}
		g.At, w.At = time.Time{}, time.Time{}
		if g != w {
			return false
		}
	}
	return true
}

func TestStoreContractNotificationLog(t *testing.T) {
	forEachStore(t, func(t *testing.T, h storeHarness) {
		ctx := t.Context()
		rec := activities.NotificationRecord{Key: "o1:notify:shipped:email", OrderID: "o1", Touchpoint: domain.TouchShipped,
			Channel: domain.ChannelEmail, Status: activities.NotificationSending}
		got, fresh, err := h.ports.Begin(ctx, rec)
		if err != nil || !fresh || got != rec {
			t.Fatalf("first Begin = %+v, %v, %v; want %+v, fresh", got, fresh, err, rec)
		}
		if got, fresh, err := h.ports.Begin(ctx, rec); err != nil || fresh || got != rec {
			t.Errorf("second Begin = %+v, %v, %v; want the sending row, not fresh", got, fresh, err)
		}
		before := time.Now().Add(-time.Minute)
		storeOK(t, h.ports.Complete(ctx, rec.Key, "msg-1"))
		storeOK(t, h.ports.Complete(ctx, rec.Key, "msg-2"))
		sent := rec
		sent.Status, sent.ProviderMessageID = activities.NotificationSent, "msg-1"
		if got, fresh, err := h.ports.Begin(ctx, rec); err != nil || fresh || got != sent {
			t.Errorf("Begin after Complete = %+v, %v, %v; want %+v", got, fresh, err, sent)
		}
		journey := h.journey(t, "o1")
		if len(journey) != 1 || journey[0].Kind != activities.EntryNotification || journey[0].Key != rec.Key ||
			journey[0].Detail != "shipped via email" || journey[0].At.Before(before) {
			t.Errorf("journey = %+v, want one notification entry at about now", journey)
		}
		if err := h.ports.Complete(ctx, "unknown", "m"); !errors.Is(err, activities.ErrNotFound) {
			t.Errorf("Complete(unknown) = %v, want ErrNotFound", err)
		}
	})
}

// The fake is what workflow tests wire in; it must satisfy the same ports.
var _ storePorts = (*sandbox.Store)(nil)
