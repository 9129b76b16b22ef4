package sandbox

import (
	"context"
	"fmt"
	"sort"
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

// The ports Store implements, like postgres.Store.
var (
	_ activities.StockStore        = (*Store)(nil)
	_ activities.PickStore         = (*Store)(nil)
	_ activities.LocationDirectory = (*Store)(nil)
	_ activities.ShipmentStore     = (*Store)(nil)
	_ activities.JourneyStore      = (*Store)(nil)
	_ activities.NotificationLog   = (*Store)(nil)
	_ activities.ContactDirectory  = (*Store)(nil)
)

// StorePickTask is a pick task as the fake keeps it: the task, and once staff
// confirmed it, the first result.
type StorePickTask struct {
	Task      activities.PickTask
	Done      bool
	Cancelled bool
	Result    activities.PickResult
	StartedBy string
	StartedAt time.Time
}

type storeStockKey struct{ location, sku string }

type storeShipmentKey struct{ orderID, purpose string }

type storeReservation struct {
	location, sku                string
	quantity, released, consumed int
}

type storeOrder struct {
	summary        activities.OrderSummary
	stage          string
	updatedAt      time.Time
	needsAttention bool
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

// AddLocation creates or replaces a location, like postgres.Store.AddLocation.
func (s *Store) AddLocation(loc activities.Location) error {
	if loc.ID == "" || (loc.Kind != activities.KindStore && loc.Kind != activities.KindDistributionCentre) {
		return fmt.Errorf("add location %q of kind %q: %w", loc.ID, loc.Kind, activities.ErrInvalidRequest)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.locations[loc.ID] = storeCopyLocation(loc)
	return nil
}

// SetStock sets the quantity on hand of a SKU at a location, like
// postgres.Store.SetStock.
func (s *Store) SetStock(locationID, sku string, quantity int) error {
	if sku == "" || quantity < 0 {
		return fmt.Errorf("set stock of %q at %s to %d: %w", sku, locationID, quantity, activities.ErrInvalidRequest)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.locations[locationID]; !ok {
		return fmt.Errorf("set stock at %q: %w", locationID, activities.ErrUnknownLocation)
	}
	s.stock[storeStockKey{locationID, sku}] = quantity
	return nil
}

// Location returns a location, or an error wrapping ErrUnknownLocation.
func (s *Store) Location(_ context.Context, id string) (activities.Location, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	loc, ok := s.locations[id]
	if !ok {
		return activities.Location{}, fmt.Errorf("location %q: %w", id, activities.ErrUnknownLocation)
	}
	return storeCopyLocation(loc), nil
}

// storeCopyLocation copies the hours map, so callers cannot change the fake's state.
func storeCopyLocation(loc activities.Location) activities.Location {
	if len(loc.Hours) == 0 {
		loc.Hours = nil
		return loc
	}
	hours := make(map[string]string, len(loc.Hours))
	for d, h := range loc.Hours {
		hours[d] = h
	}
	loc.Hours = hours
	return loc
}

// Reserve takes stock for every line at the first candidate that has all of it;
// see postgres.Store.Reserve for the rules, which this follows exactly.
func (s *Store) Reserve(_ context.Context, req activities.ReserveRequest) (activities.Reservation, error) {
	if req.OrderID == "" || len(req.Locations) == 0 || len(req.Lines) == 0 {
		return activities.Reservation{}, fmt.Errorf("reserve order %q: order, locations and lines are required: %w", req.OrderID, activities.ErrInvalidRequest)
	}
	want := map[string]int{}
	for _, l := range req.Lines {
		if l.SKU == "" || l.Quantity <= 0 {
			return activities.Reservation{}, fmt.Errorf("reserve order %s: line %q quantity %d: %w", req.OrderID, l.SKU, l.Quantity, activities.ErrInvalidRequest)
		}
		want[l.SKU] += l.Quantity
	}
	skus := make([]string, 0, len(want))
	for sku := range want {
		skus = append(skus, sku)
	}
	sort.Strings(skus)

	s.mu.Lock()
	defer s.mu.Unlock()
	if held := s.reservations[req.OrderID]; len(held) > 0 {
		return activities.Reservation{LocationID: held[0].location}, nil
	}
	for _, id := range req.Locations {
		if _, ok := s.locations[id]; !ok {
			return activities.Reservation{}, fmt.Errorf("reserve order %s: location %q: %w", req.OrderID, id, activities.ErrUnknownLocation)
		}
	}
	have := func(loc, sku string) int { return s.stock[storeStockKey{loc, sku}] }
	loc, short := activities.ChooseLocation(req.Locations, skus, want, have)
	if loc == "" {
		return activities.Reservation{Short: short}, nil
	}
	held := make([]*storeReservation, 0, len(skus))
	for _, sku := range skus {
		s.stock[storeStockKey{loc, sku}] -= want[sku]
		held = append(held, &storeReservation{location: loc, sku: sku, quantity: want[sku]})
	}
	s.reservations[req.OrderID] = held
	return activities.Reservation{LocationID: loc}, nil
}

// Release returns reserved stock: lines are absolute targets per SKU, nil releases
// everything not consumed; see postgres.Store.Release.
func (s *Store) Release(_ context.Context, orderID string, lines []activities.PickedLine) error {
	var targets map[string]int
	if lines != nil {
		targets = map[string]int{}
		for _, l := range lines {
			targets[l.SKU] += max(l.Quantity, 0)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.reservations[orderID] {
		target := r.quantity - r.consumed
		if targets != nil {
			t, ok := targets[r.sku]
			if !ok {
				continue
			}
			target = min(t, target)
		}
		if delta := target - r.released; delta > 0 {
			r.released = target
			s.stock[storeStockKey{r.location, r.sku}] += delta
		}
	}
	return nil
}

// Consume marks what the order still holds as sold; see postgres.Store.Consume.
func (s *Store) Consume(_ context.Context, orderID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.reservations[orderID] {
		r.consumed = r.quantity - r.released
	}
	return nil
}

// StockQuantity is the quantity on hand of a SKU at a location (0 if never stocked).
func (s *Store) StockQuantity(locationID, sku string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stock[storeStockKey{locationID, sku}]
}

// CreatePickTask puts the order on the location's pick list once; a repeat leaves
// the first task. An unknown location is an error wrapping ErrUnknownLocation.
func (s *Store) CreatePickTask(_ context.Context, task activities.PickTask) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.locations[task.LocationID]; !ok {
		return fmt.Errorf("pick task for order %s at %q: %w", task.OrderID, task.LocationID, activities.ErrUnknownLocation)
	}
	if _, ok := s.pickTasks[task.OrderID]; !ok {
		task.Lines = append([]activities.Line{}, task.Lines...)
		task.DueAt = storeTime(task.DueAt)
		s.pickTasks[task.OrderID] = &StorePickTask{Task: task}
	}
	return nil
}

// StartPickTask records who started the pick; the first start counts.
func (s *Store) StartPickTask(_ context.Context, orderID, by string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	pt, ok := s.pickTasks[orderID]
	if !ok {
		return fmt.Errorf("pick task for order %s: %w", orderID, activities.ErrNotFound)
	}
	if pt.StartedBy == "" {
		pt.StartedBy, pt.StartedAt = by, storeTime(at)
	}
	return nil
}

// CompletePickTask closes the pick task; the first completion wins. An order
// without a pick task is an error wrapping ErrNotFound.
func (s *Store) CompletePickTask(_ context.Context, res activities.PickResult) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	pt, ok := s.pickTasks[res.OrderID]
	if !ok {
		return fmt.Errorf("pick task for order %s: %w", res.OrderID, activities.ErrNotFound)
	}
	if !pt.Done && !pt.Cancelled {
		res.Picked = append([]activities.PickedLine{}, res.Picked...)
		res.At = storeTime(res.At)
		pt.Done, pt.Result = true, res
	}
	return nil
}

// CancelPickTask closes an open pick task as cancelled; a done task, or none, is
// left as it is.
func (s *Store) CancelPickTask(_ context.Context, orderID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pt, ok := s.pickTasks[orderID]; ok && !pt.Done {
		pt.Cancelled = true
	}
	return nil
}

// PickTask returns the order's pick task, for tests to assert on.
func (s *Store) PickTask(orderID string) (StorePickTask, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pt, ok := s.pickTasks[orderID]
	if !ok {
		return StorePickTask{}, false
	}
	return *pt, true
}

// SaveShipment records a label once per (order, purpose); a repeat replaces the
// label details.
func (s *Store) SaveShipment(_ context.Context, sh activities.Shipment) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shipments[storeShipmentKey{sh.OrderID, sh.Purpose}] = sh
	return nil
}

// Shipment returns the label recorded for an order and purpose.
func (s *Store) Shipment(orderID, purpose string) (activities.Shipment, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh, ok := s.shipments[storeShipmentKey{orderID, purpose}]
	return sh, ok
}

// RecordStage keeps the order's stage and adds the journey entry "stage:<stage>"
// once. Like postgres.Store, a change older than the last one recorded does not
// move the stage, but still appears in the journey.
func (s *Store) RecordStage(_ context.Context, c activities.StageChange) error {
	if c.Order.OrderID == "" || c.Stage == "" {
		return fmt.Errorf("record stage %q of order %q: %w", c.Stage, c.Order.OrderID, activities.ErrInvalidRequest)
	}
	at := storeTime(c.At)
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[c.Order.OrderID]
	switch {
	case !ok:
		s.orders[c.Order.OrderID] = &storeOrder{summary: c.Order, stage: c.Stage, updatedAt: at}
	case !at.Before(o.updatedAt):
		summary := c.Order
		if summary.StoreID == "" {
			summary.StoreID = o.summary.StoreID
		}
		if summary.LocationID == "" {
			summary.LocationID = o.summary.LocationID
		}
		o.summary, o.stage, o.updatedAt = summary, c.Stage, at
	}
	s.addEntry(activities.JourneyEntry{OrderID: c.Order.OrderID, Kind: activities.EntryStage,
		Key: "stage:" + c.Stage, Detail: c.Note, Actor: c.Actor, At: at})
	return nil
}

// RecordEntry adds a journey entry once per (order, key). An attention entry also
// flags the order as needing attention.
func (s *Store) RecordEntry(_ context.Context, e activities.JourneyEntry) error {
	if e.OrderID == "" || e.Key == "" || e.Kind == "" {
		return fmt.Errorf("record journey %q of order %q: %w", e.Key, e.OrderID, activities.ErrInvalidRequest)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e.At = storeTime(e.At)
	s.addEntry(e)
	if o, ok := s.orders[e.OrderID]; ok {
		switch e.Kind {
		case activities.EntryAttention:
			o.needsAttention = true
		case activities.EntryAttentionResolved:
			o.needsAttention = false
		}
	}
	return nil
}

// addEntry appends e unless its key is recorded; the caller holds s.mu.
func (s *Store) addEntry(e activities.JourneyEntry) {
	for _, old := range s.journey[e.OrderID] {
		if old.Key == e.Key {
			return
		}
	}
	s.journey[e.OrderID] = append(s.journey[e.OrderID], e)
}

// Journey returns the order's entries by time, then in the order they were added,
// like postgres.Store.Journey.
func (s *Store) Journey(orderID string) []activities.JourneyEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]activities.JourneyEntry(nil), s.journey[orderID]...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

// Stage returns the order's current stage, "" for an order never recorded.
func (s *Store) Stage(orderID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o, ok := s.orders[orderID]; ok {
		return o.stage
	}
	return ""
}

// NeedsAttention reports whether an attention entry flagged the order.
func (s *Store) NeedsAttention(orderID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[orderID]
	return ok && o.needsAttention
}

// SetMarketingConsent records a customer's marketing consent, as the checkout or a
// preference centre would.
func (s *Store) SetMarketingConsent(customerID string, consent bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.contacts[customerID]
	if !ok {
		c.Channels = []string{activities.ChannelEmail, activities.ChannelSMS, activities.ChannelPush}
	}
	c.MarketingConsent = consent
	s.contacts[customerID] = c
}

// SetRecommendations sets the products (by name, best first) suggested with a SKU.
func (s *Store) SetRecommendations(sku string, names ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recommended[sku] = append([]string(nil), names...)
}

// Recommendations returns at most limit names recommended for the SKUs, each
// SKU's best first, without repeats. The fake keeps names, not SKUs, so it cannot
// leave out the order's own SKUs: tests do not recommend them.
func (s *Store) Recommendations(_ context.Context, skus []string, limit int) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	seen := map[string]bool{}
	for _, sku := range skus {
		for _, name := range s.recommended[sku] {
			if len(out) < limit && !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
	}
	return out, nil
}

// SetContact replaces a customer's contact preferences, as the checkout or the
// preferences API would.
func (s *Store) SetContact(customerID string, c activities.Contact) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.Channels = append([]string(nil), c.Channels...)
	s.contacts[customerID] = c
}

// Contact returns the customer's preferences; found=false when there are none.
func (s *Store) Contact(_ context.Context, customerID string) (activities.Contact, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.contacts[customerID]
	c.Channels = append([]string(nil), c.Channels...)
	return c, ok, nil
}

// DropPushToken forgets the customer's push token if it is still token.
func (s *Store) DropPushToken(_ context.Context, customerID, token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.contacts[customerID]; ok && c.PushToken == token {
		c.PushToken = ""
		s.contacts[customerID] = c
	}
	return nil
}

// MarkUndeliverable marks a channel ("email" or "sms") of the order's customer as
// undeliverable; an order the store has no stage for wraps ErrNotFound.
func (s *Store) MarkUndeliverable(_ context.Context, orderID, channel string) error {
	if channel != activities.ChannelEmail && channel != activities.ChannelSMS {
		return fmt.Errorf("mark channel %q of order %s undeliverable: %w", channel, orderID, activities.ErrInvalidRequest)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[orderID]
	if !ok {
		return fmt.Errorf("order %s: %w", orderID, activities.ErrNotFound)
	}
	c := s.contacts[o.summary.CustomerID]
	if channel == activities.ChannelEmail {
		c.EmailUndeliverable = true
	} else {
		c.SMSUndeliverable = true
	}
	s.contacts[o.summary.CustomerID] = c
	return nil
}

// Begin writes the notification row in status "sending", or returns the existing
// row with fresh=false; a failed row is set to "sending" again (fresh=true).
func (s *Store) Begin(_ context.Context, rec activities.NotificationRecord) (activities.NotificationRecord, bool, error) {
	if rec.Key == "" || rec.OrderID == "" {
		return activities.NotificationRecord{}, false, fmt.Errorf("begin notification %q: %w", rec.Key, activities.ErrInvalidRequest)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.notifications[rec.Key]; ok {
		if old.Status != activities.NotificationFailed {
			return old, false, nil
		}
		old.Status = activities.NotificationSending
		s.notifications[rec.Key] = old
		return old, true, nil
	}
	rec.Status, rec.ProviderMessageID = activities.NotificationSending, ""
	s.notifications[rec.Key] = rec
	return rec, true, nil
}

// Complete marks the notification sent (keeping the first message ID) and adds the
// journey entry "<touchpoint> via <channel>"; an unknown key wraps ErrNotFound.
func (s *Store) Complete(_ context.Context, key, providerMessageID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.notifications[key]
	if !ok {
		return fmt.Errorf("complete notification %s: %w", key, activities.ErrNotFound)
	}
	if rec.Status != activities.NotificationSent {
		rec.Status, rec.ProviderMessageID = activities.NotificationSent, providerMessageID
		s.notifications[key] = rec
	}
	s.addEntry(activities.JourneyEntry{OrderID: rec.OrderID, Kind: activities.EntryNotification, Key: key,
		Detail: string(rec.Touchpoint) + " via " + rec.Channel, At: storeTime(s.now())})
	return nil
}

// Settle gives an unsent row its fate; undeliverable and unconfirmed add a journey
// entry "<key>:<status>". A sent row is never changed.
func (s *Store) Settle(_ context.Context, key, status, detail string) error {
	switch status {
	case activities.NotificationFailed, activities.NotificationUndeliverable, activities.NotificationUnconfirmed:
	default:
		return fmt.Errorf("settle notification %s as %q: %w", key, status, activities.ErrInvalidRequest)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.notifications[key]
	if !ok {
		return fmt.Errorf("settle notification %s: %w", key, activities.ErrNotFound)
	}
	if rec.Status == activities.NotificationSent {
		return nil
	}
	rec.Status = status
	s.notifications[key] = rec
	if status != activities.NotificationFailed {
		s.addEntry(activities.JourneyEntry{OrderID: rec.OrderID, Kind: activities.EntryNotification, Key: key + ":" + status,
			Detail: detail, At: storeTime(s.now())})
	}
	return nil
}

// Notifications returns every notification row, by key.
func (s *Store) Notifications() []activities.NotificationRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]activities.NotificationRecord, 0, len(s.notifications))
	for _, rec := range s.notifications {
		out = append(out, rec)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// SeedDemo adds the demo locations and stock of postgres.Store.SeedDemo (two
// stores, a distribution centre, a watch retailer's five SKUs), so workflow tests
// run on the data `make run` shows. Like the original it keeps what exists.
func (s *Store) SeedDemo() {
	hours := func(last, h string) map[string]string {
		out := map[string]string{}
		for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat"} {
			out[d] = h
			if d == last {
				break
			}
		}
		return out
	}
	locations := []activities.Location{
		{ID: "berlin-mitte", Kind: activities.KindStore, Name: "Berlin Mitte", TimeZone: "Europe/Berlin",
			Address: activities.Address{Name: "Everywhere Berlin Mitte", Line1: "Rosenthaler Str. 40", PostalCode: "10178", City: "Berlin", Country: "DE"},
			Hours:   hours("sat", "10:00-20:00")},
		{ID: "hamburg-altona", Kind: activities.KindStore, Name: "Hamburg Altona", TimeZone: "Europe/Berlin",
			Address: activities.Address{Name: "Everywhere Hamburg Altona", Line1: "Ottenser Hauptstr. 10", PostalCode: "22765", City: "Hamburg", Country: "DE"},
			Hours:   hours("sat", "10:00-19:00")},
		{ID: "dc-erfurt", Kind: activities.KindDistributionCentre, Name: "Distribution centre Erfurt", TimeZone: "Europe/Berlin",
			Address: activities.Address{Name: "Everywhere Distribution Centre", Line1: "Am Flughafen 12", PostalCode: "99092", City: "Erfurt", Country: "DE"},
			Hours:   hours("fri", "06:00-22:00")},
	}
	skus := []string{"WATCH-001", "STRAP-LEA-20", "STRAP-STEEL-20", "BATTERY-SR626", "CLEAN-KIT"}
	stock := map[string][]int{ // per location, in the order of skus
		"berlin-mitte":   {10, 10, 10, 10, 10},
		"hamburg-altona": {2, 3, 0, 5, 1},
		"dc-erfurt":      {100, 100, 100, 100, 100},
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, loc := range locations {
		if _, ok := s.locations[loc.ID]; !ok {
			s.locations[loc.ID] = loc
		}
		for i, sku := range skus {
			k := storeStockKey{loc.ID, sku}
			if _, ok := s.stock[k]; !ok {
				s.stock[k] = stock[loc.ID][i]
			}
		}
	}
}
