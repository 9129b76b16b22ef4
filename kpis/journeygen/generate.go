package journeygen

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/adapters/postgres"
	"github.com/everywherecommerce/fulfilment/domain"
)

// gen is one generation run: the configuration, the catalogue, the rows so far
// and the truth being counted.
type gen struct {
	cfg       Config
	end       time.Time
	zones     map[string]*time.Location
	catalogue []postgres.DemoSKU
	m         *Month
	customers map[string]*customer // by ID
	pools     map[string][]string  // a store's customers so far, in order
	truth     *truthCounter
	dayRates  map[dayRateKey]float64
}

// dayRateKey names one day factor of a probability.
type dayRateKey struct {
	store string
	kind  Kind
	day   time.Time
}

// happens decides with u whether an event of kind, whose base probability at
// store and at is p, happens once the month's shifts are applied, and tells the
// truth what was decided.
func (g *gen) happens(kind Kind, store string, at time.Time, p, u float64) bool {
	shifted := min(1, p*factor(g.cfg.Shifts, store, kind, at))
	yes := u < shifted
	g.truth.decide(kind, store, at, p, shifted, yes)
	return yes
}

// dayRate is the factor (mean 1, sd Rates.RateDaySD) on the probability of
// kind at the store on t's UTC day; its own stream, so shifts leave it alone.
func (g *gen) dayRate(store string, kind Kind, t time.Time) float64 {
	k := dayRateKey{store, kind, t.UTC().Truncate(24 * time.Hour)}
	f, ok := g.dayRates[k]
	if !ok {
		f = dayFactor(stream(g.cfg.Seed, "rate", store, string(kind), k.day.Format(time.DateOnly)), g.cfg.Rates.RateDaySD)
		g.dayRates[k] = f
	}
	return f
}

// customer is a customer's contact facts, fixed for the month, and its row.
type customer struct {
	name string
	row  *CustomerRow
}

// Generate builds the month described by cfg (zero Days, Stores and Rates take
// their defaults). It is pure: the same configuration gives the same rows. It
// panics on an invalid configuration; call Config.Validate first.
func Generate(cfg Config) Month {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		panic(fmt.Sprintf("journeygen: invalid configuration: %v", err))
	}
	g := &gen{
		cfg: cfg, end: cfg.End(), zones: map[string]*time.Location{}, catalogue: postgres.DemoSKUs(),
		m: &Month{Config: cfg}, customers: map[string]*customer{}, pools: map[string][]string{},
		truth: newTruthCounter(cfg), dayRates: map[dayRateKey]float64{},
	}
	for _, s := range cfg.Stores {
		loc, _ := time.LoadLocation(s.TimeZone) // checked by Validate
		g.zones[s.ID] = loc
		g.m.Locations = append(g.m.Locations, activities.Location{
			ID: s.ID, Kind: activities.KindStore, Name: storeName(s.ID), TimeZone: s.TimeZone, Hours: storeHours(),
		})
	}
	g.m.Locations = append(g.m.Locations, activities.Location{
		ID: DistributionCentre, Kind: activities.KindDistributionCentre, Name: "Distribution centre Erfurt",
		TimeZone: "Europe/Berlin", Hours: map[string]string{"mon": "06:00-22:00", "tue": "06:00-22:00",
			"wed": "06:00-22:00", "thu": "06:00-22:00", "fri": "06:00-22:00"},
	})
	first := cfg.Start.AddDate(0, 0, -cfg.WarmupDays)
	for _, s := range cfg.Stores {
		for day := first; day.Before(g.end); day = day.AddDate(0, 0, 1) {
			for i, placed := range g.arrivals(s, day) {
				g.order(s, fmt.Sprintf("jg%x-%s-%s-%04d", cfg.Seed, s.ID, day.Format("20060102"), i+1), placed)
			}
		}
	}
	ids := make([]string, 0, len(g.customers))
	for id := range g.customers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		g.m.Customers = append(g.m.Customers, *g.customers[id].row)
	}
	g.m.Truth = g.truth.result()
	g.m.Truth.Summary = Summarise(*g.m)
	return *g.m
}

// arrivals are the placing times of a store's orders on one UTC day: a
// non-homogeneous Poisson process (thinning) with the rate of the day's mean
// (the weekday's factor times a gamma-distributed day factor) spread over the
// local hours, times the orders shifts.
func (g *gen) arrivals(s StoreSpec, day time.Time) []time.Time {
	r := stream(g.cfg.Seed, "day", s.ID, day.Format(time.DateOnly))
	zone := g.zones[s.ID]
	mean := s.OrdersPerDay * weekdayFactor[day.Add(12*time.Hour).In(zone).Weekday()] * dayFactor(r, g.cfg.Rates.DailySD)
	dayEnd := day.Add(24 * time.Hour)
	maxFactor := 1.0
	for _, sh := range g.cfg.Shifts {
		if sh.Kind == KindOrders && (sh.Store == AllStores || sh.Store == s.ID) && sh.From.Before(dayEnd) && sh.To.After(day) {
			maxFactor *= math.Max(1, sh.Factor)
		}
	}
	perHour := func(t time.Time, shifted bool) float64 {
		rate := mean * hourProfile[t.In(zone).Hour()]
		if shifted {
			rate *= factor(g.cfg.Shifts, s.ID, KindOrders, t)
		}
		return rate
	}
	maxRate := mean * slices.Max(hourProfile) * maxFactor
	if maxRate <= 0 {
		return nil
	}
	g.truth.expectOrders(s.ID, day, dayEnd, perHour)
	var out []time.Time
	t := day
	for {
		t = t.Add(time.Duration(r.ExpFloat64() / maxRate * float64(time.Hour)))
		if !t.Before(dayEnd) {
			break
		}
		if r.Float64()*maxRate < perHour(t, true) {
			t = t.Truncate(time.Second)
			out = append(out, t)
			g.truth.orderPlaced(s.ID, t)
		}
	}
	return out
}

// customerFor picks a returning customer of the store (one order in five) or
// a new one.
func (g *gen) customerFor(s StoreSpec, d *draws) *customer {
	pool := g.pools[s.ID]
	if len(pool) > 0 && d.u(uCustomerNew) < 0.2 {
		return g.customers[pool[int(d.u(uCustomerPick)*float64(len(pool)))]]
	}
	id := fmt.Sprintf("jg%x-c-%s-%d", g.cfg.Seed, s.ID, len(pool)+1)
	r := stream(g.cfg.Seed, "customer", id)
	rt := g.cfg.Rates
	first, last := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
	row := &CustomerRow{
		CustomerID: id, Email: strings.ToLower(first+"."+last) + fmt.Sprintf("%d@example.com", r.IntN(1000)),
		Locale: "de-DE", TimeZone: s.TimeZone, Channels: []string{"email", "sms", "push"},
	}
	if r.Float64() < 0.15 {
		row.Locale = "en"
	}
	row.MarketingConsent = r.Float64() < rt.Consent
	if r.Float64() < rt.Phone {
		row.Phone = fmt.Sprintf("+4915%09d", r.IntN(1_000_000_000))
	}
	if r.Float64() < rt.App {
		row.PushToken = "fcm-" + hexID(r, 32)
	}
	c := &customer{name: first + " " + last, row: row}
	g.customers[id] = c
	g.pools[s.ID] = append(pool, id)
	return c
}

// lines are the order's lines: one to three articles of the demo catalogue,
// mostly one piece each.
func (g *gen) lines(d *draws) []domain.Line {
	n := 1
	switch u := d.u(uLines); {
	case u > 0.93:
		n = 3
	case u > 0.72:
		n = 2
	}
	first := int(d.u(uLineSKU) * float64(len(g.catalogue)))
	out := make([]domain.Line, n)
	for i := range out {
		c := g.catalogue[(first+i)%len(g.catalogue)]
		q := 1
		if i == 0 && d.u(uLineQty) < 0.1 {
			q = 2
		}
		out[i] = domain.Line{SKU: c.SKU, Name: c.Name, Quantity: q, UnitPrice: c.UnitPrice}
	}
	return out
}

// promise is when a ship-to-store order is promised ready: lead after placing
// within the store's hours (its own stock), or lead after opening on the
// transferDays-th opening day after the order's day (a transfer); the rule of
// activities.PromiseReady, with the generated stores' hours.
func (g *gen) promise(store string, placed time.Time, transferDays int) time.Time {
	zone, lead := g.zones[store], g.cfg.Rates.StoreReadyLead
	local := placed.In(zone)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, zone)
	openOn := func(d time.Time) (time.Time, time.Time, bool) {
		if d.Weekday() == time.Sunday {
			return time.Time{}, time.Time{}, false
		}
		return time.Date(d.Year(), d.Month(), d.Day(), storeOpen, 0, 0, 0, zone),
			time.Date(d.Year(), d.Month(), d.Day(), storeClose, 0, 0, 0, zone), true
	}
	if transferDays == 0 {
		if open, shut, ok := openOn(day); ok {
			start := local
			if start.Before(open) {
				start = open
			}
			if ready := start.Add(lead); !ready.After(shut) {
				return ready.UTC()
			}
		}
		transferDays = 1
	}
	for n := 0; ; {
		day = day.AddDate(0, 0, 1)
		if open, _, ok := openOn(day); ok {
			n++
			if n == transferDays {
				return open.Add(lead).UTC()
			}
		}
	}
}

// storeHours are the generated stores' opening hours, as stored in stores.hours.
func storeHours() map[string]string {
	h := fmt.Sprintf("%02d:00-%02d:00", storeOpen, storeClose)
	return map[string]string{"mon": h, "tue": h, "wed": h, "thu": h, "fri": h, "sat": h}
}

// storeName is a display name from the ID: "berlin-mitte" → "Berlin Mitte".
func storeName(id string) string {
	parts := strings.Split(id, "-")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, " ")
}

// staff is a staff token's subject at a location (four people each).
func staff(location string, u float64) string {
	return fmt.Sprintf("staff-%s-%d", location, 1+int(u*4))
}

// seconds is a few seconds' delay, from u.
func seconds(u float64, upTo int) time.Duration {
	return time.Duration(1+int(u*float64(upTo))) * time.Second
}

var (
	firstNames = []string{"Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hannah", "Jonas", "Lea", "Lukas", "Mia", "Noah", "Paul", "Sophie", "Tim"}
	lastNames  = []string{"Becker", "Fischer", "Hoffmann", "Koch", "Meyer", "Müller", "Richter", "Schmidt", "Schneider", "Schulz", "Wagner", "Weber"}
)
