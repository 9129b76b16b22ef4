package sandbox

// Store's type, its constructor and the one lock that its ports share. Like
// postgres.Store, each port has a file of its own: locations.go
// (activities.LocationDirectory), stock.go (activities.StockStore), picking.go
// (activities.PickStore), shipments.go (activities.ShipmentStore), journey.go
// (activities.JourneyStore), notification_log.go (activities.NotificationLog),
// contacts.go (activities.ContactDirectory) and recommendations.go
// (activities.RecommendationStore); demo.go seeds the demo data.

import (
	"sync"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
)

// Store is an in-memory fake of postgres.Store for workflow tests: the same ports
// with the same rules (idempotent per order and key, stock never below zero, short
// lines from the best single location), checked by the contract tests in
// adapters/contract. One mutex guards everything, so concurrent activities see
// each operation as one transaction.
type Store struct {
	mu            sync.Mutex
	locations     map[string]activities.Location
	stock         map[storeStockKey]int
	reservations  map[string][]*storeReservation // order ID → one per SKU, sorted by SKU
	pickTasks     map[string]*StorePickTask
	shipments     map[storeShipmentKey]activities.Shipment
	orders        map[string]*storeOrder
	journey       map[string][]activities.JourneyEntry
	notifications map[string]activities.NotificationRecord
	contacts      map[string]activities.Contact // customer ID → preferences
	recommended   map[string][]string           // SKU → recommended product names, best first
	now           func() time.Time
}

// NewStore returns an empty Store: add locations and stock with AddLocation and
// SetStock, or SeedDemo.
func NewStore() *Store {
	return &Store{
		locations:     map[string]activities.Location{},
		stock:         map[storeStockKey]int{},
		reservations:  map[string][]*storeReservation{},
		pickTasks:     map[string]*StorePickTask{},
		shipments:     map[storeShipmentKey]activities.Shipment{},
		orders:        map[string]*storeOrder{},
		journey:       map[string][]activities.JourneyEntry{},
		notifications: map[string]activities.NotificationRecord{},
		contacts:      map[string]activities.Contact{},
		recommended:   map[string][]string{},
		now:           time.Now,
	}
}

// storeTime drops what PostgreSQL's timestamptz cannot hold (below a microsecond),
// so times read back compare equal with either store.
func storeTime(t time.Time) time.Time { return t.Truncate(time.Microsecond) }
