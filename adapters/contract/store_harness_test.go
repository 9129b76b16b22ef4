package contract_test

import (
	"errors"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/adapters/postgres"
	"github.com/everywherecommerce/fulfilment/adapters/postgres/pgtest"
	"github.com/everywherecommerce/fulfilment/adapters/sandbox"
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
	"github.com/jackc/pgx/v5"
)

// storePorts is every port that postgres.Store and sandbox.Store implement.
type storePorts interface {
	activities.StockStore
	activities.PickStore
	activities.LocationDirectory
	activities.ShipmentStore
	activities.JourneyStore
	activities.NotificationLog
	activities.ContactDirectory
}

// storePickTask is a pick task as read back from either store.
type storePickTask struct {
	LocationID string
	Lines      []domain.Line
	Done       bool
	Cancelled  bool
	Picked     []domain.PickedLine
	By         string
}

// storeHarness is one store under test plus the set-up and read-back that each
// implementation offers in its own shape (methods on the fake, SQL on PostgreSQL).
// Its functions fail the test on an error.
type storeHarness struct {
	ports       storePorts
	addLocation func(t *testing.T, loc activities.Location)
	setStock    func(t *testing.T, location, sku string, qty int)
	seedDemo    func(t *testing.T)
	stock       func(t *testing.T, location, sku string) int
	journey     func(t *testing.T, orderID string) []activities.JourneyEntry
	stage       func(t *testing.T, orderID string) string
	attention   func(t *testing.T, orderID string) bool
	setConsent  func(t *testing.T, customerID string, consent bool)
	pickTask    func(t *testing.T, orderID string) (storePickTask, bool)
	shipment    func(t *testing.T, orderID, purpose string) (activities.Shipment, bool)
}

// storeImplementations builds each implementation on fresh state.
func storeImplementations() []struct {
	name string
	new  func(t *testing.T) storeHarness
} {
	return []struct {
		name string
		new  func(t *testing.T) storeHarness
	}{
		{"postgres", newPostgresStoreHarness},
		{"sandbox", newSandboxStoreHarness},
	}
}

// forEachStore runs the contract f against every implementation, in parallel.
func forEachStore(t *testing.T, f func(t *testing.T, h storeHarness)) {
	t.Helper()
	for _, impl := range storeImplementations() {
		t.Run(impl.name, func(t *testing.T) {
			t.Parallel()
			f(t, impl.new(t))
		})
	}
}

func newPostgresStoreHarness(t *testing.T) storeHarness {
	pool := pgtest.New(t)
	st := postgres.NewStore(pool)
	ctx := t.Context()
	return storeHarness{
		ports:       st,
		addLocation: func(t *testing.T, l activities.Location) { storeOK(t, st.AddLocation(ctx, l)) },
		setStock:    func(t *testing.T, loc, sku string, q int) { storeOK(t, st.SetStock(ctx, loc, sku, q)) },
		seedDemo:    func(t *testing.T) { storeOK(t, st.SeedDemo(ctx)) },
		stock: func(t *testing.T, loc, sku string) int {
			q, err := st.StockQuantity(ctx, loc, sku)
			storeOK(t, err)
			return q
		},
		journey: func(t *testing.T, id string) []activities.JourneyEntry {
			j, err := st.Journey(ctx, id)
			storeOK(t, err)
			return j
		},
		stage: func(t *testing.T, id string) string {
			row, err := st.OrderRow(ctx, id)
			if errors.Is(err, activities.ErrNotFound) {
				return ""
			}
			storeOK(t, err)
			return string(row.Stage)
		},
		attention: func(t *testing.T, id string) bool {
			row, err := st.OrderRow(ctx, id)
			storeOK(t, err)
			return row.NeedsAttention
		},
		setConsent: func(t *testing.T, customerID string, consent bool) {
			storeOK(t, st.SavePreferences(ctx, records.ContactPreferences{CustomerID: customerID, MarketingConsent: consent, UpdatedAt: time.Now()}))
		},
		pickTask: func(t *testing.T, id string) (storePickTask, bool) {
			var pt storePickTask
			var status string
			var by *string
			err := pool.QueryRow(ctx, `select location_id, lines, status, picked, picked_by from pick_tasks where order_id = $1`, id).
				Scan(&pt.LocationID, &pt.Lines, &status, &pt.Picked, &by)
			if errors.Is(err, pgx.ErrNoRows) {
				return storePickTask{}, false
			}
			storeOK(t, err)
			pt.Done, pt.Cancelled = status == "done", status == "cancelled"
			if by != nil {
				pt.By = *by
			}
			return pt, true
		},
		shipment: func(t *testing.T, orderID, purpose string) (activities.Shipment, bool) {
			sh, err := st.Shipment(ctx, orderID, purpose)
			if errors.Is(err, activities.ErrNotFound) {
				return activities.Shipment{}, false
			}
			storeOK(t, err)
			return sh, true
		},
	}
}

func newSandboxStoreHarness(*testing.T) storeHarness {
	st := sandbox.NewStore()
	return storeHarness{
		ports:       st,
		addLocation: func(t *testing.T, l activities.Location) { storeOK(t, st.AddLocation(l)) },
		setStock:    func(t *testing.T, loc, sku string, q int) { storeOK(t, st.SetStock(loc, sku, q)) },
		seedDemo:    func(*testing.T) { st.SeedDemo() },
		stock:       func(_ *testing.T, loc, sku string) int { return st.StockQuantity(loc, sku) },
		journey:     func(_ *testing.T, id string) []activities.JourneyEntry { return st.Journey(id) },
		stage:       func(_ *testing.T, id string) string { return st.Stage(id) },
		attention:   func(_ *testing.T, id string) bool { return st.NeedsAttention(id) },
		setConsent:  func(_ *testing.T, customerID string, consent bool) { st.SetMarketingConsent(customerID, consent) },
		pickTask: func(_ *testing.T, id string) (storePickTask, bool) {
			pt, ok := st.PickTask(id)
			if !ok {
				return storePickTask{}, false
			}
			return storePickTask{LocationID: pt.Task.LocationID, Lines: pt.Task.Lines, Done: pt.Done, Cancelled: pt.Cancelled,
				Picked: pt.Result.Picked, By: pt.Result.By}, true
		},
		shipment: func(_ *testing.T, orderID, purpose string) (activities.Shipment, bool) {
			return st.Shipment(orderID, purpose)
		},
	}
}

// storeOK fails the test on an error from set-up or read-back.
func storeOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// storeLocations adds stores s1 and s2 and distribution centre dc.
func storeLocations(t *testing.T, h storeHarness) {
	t.Helper()
	for _, loc := range []activities.Location{
		{ID: "s1", Kind: activities.KindStore, Name: "Store 1", TimeZone: "Europe/Berlin",
			Address: domain.Address{Line1: "Main St 1", PostalCode: "10115", City: "Berlin", Country: "DE"},
			Hours:   map[string]string{"mon": "10:00-20:00"}},
		{ID: "s2", Kind: activities.KindStore, Name: "Store 2", TimeZone: "Europe/Berlin"},
		{ID: "dc", Kind: activities.KindDistributionCentre, Name: "DC", TimeZone: "Europe/Berlin"},
	} {
		h.addLocation(t, loc)
	}
}

// storeT0 is a fixed instant for the contract tests, with microseconds only, as
// PostgreSQL keeps them.
func storeT0() time.Time { return time.Date(2025, 3, 1, 10, 0, 0, 123456000, time.UTC) }
