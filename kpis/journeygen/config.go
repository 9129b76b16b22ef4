// Package journeygen generates a month (or any number of days) of realistic
// customer journeys — orders, their journey entries, pick tasks, notifications,
// shipments and contact preferences — as the order workflows would have written
// them to PostgreSQL, with behaviour shifts injected on purpose. It is used to
// test the KPI alarm detector on known shifts and on ordinary noise, and to
// replay history into a fresh system (cmd/journeygen, docs/journeygen.md).
//
// Generate is pure and deterministic for a seed; Load bulk-inserts its result.
package journeygen

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// StoreSpec is one generated store: its mean volume, how much of it is home
// delivery, and its time zone (opening hours, the local hour and weekday of the
// seasonality, the promised ready time).
type StoreSpec struct {
	ID string `json:"id"`
	// OrdersPerDay is the mean number of orders a day, before weekday seasonality
	// and the day's random factor.
	OrdersPerDay float64 `json:"orders_per_day"`
	// HomeDeliveryShare is the share of orders delivered home (sold by this store,
	// picked at the distribution centre); the rest is ship to store.
	HomeDeliveryShare float64 `json:"home_delivery_share"`
	// TransferShare is the share of ship-to-store orders the store cannot serve
	// from its own stock: picked at the distribution centre and transferred.
	TransferShare float64 `json:"transfer_share"`
	TimeZone      string  `json:"time_zone"`
}

// DefaultStores are six stores of different sizes: three busy ones, two small
// ones and a small one selling mostly home delivery. berlin-mitte and
// hamburg-altona are the demo's stores (starter demo seed), so a replay into a
// fresh demo system shows them to the demo's staff tokens.
func DefaultStores() []StoreSpec {
	return []StoreSpec{
		{ID: "berlin-mitte", OrdersPerDay: 380, HomeDeliveryShare: 0.15, TransferShare: 0.25, TimeZone: "Europe/Berlin"},
		{ID: "hamburg-altona", OrdersPerDay: 280, HomeDeliveryShare: 0.15, TransferShare: 0.35, TimeZone: "Europe/Berlin"},
		{ID: "muenchen-maxvorstadt", OrdersPerDay: 220, HomeDeliveryShare: 0.12, TransferShare: 0.30, TimeZone: "Europe/Berlin"},
		{ID: "koeln-ehrenfeld", OrdersPerDay: 35, HomeDeliveryShare: 0.10, TransferShare: 0.40, TimeZone: "Europe/Berlin"},
		{ID: "wien-neubau", OrdersPerDay: 25, HomeDeliveryShare: 0.10, TransferShare: 0.45, TimeZone: "Europe/Vienna"},
		{ID: "leipzig-versand", OrdersPerDay: 40, HomeDeliveryShare: 0.75, TransferShare: 0.30, TimeZone: "Europe/Berlin"},
	}
}

// DistributionCentre is where home deliveries and transfers are picked: the
// production policy's (workflows.DefaultPolicy).
const DistributionCentre = "dc-erfurt"

// Config says what to generate.
type Config struct {
	// Start is the first day of the month (UTC midnight); End is Start + Days.
	Start time.Time `json:"start"`
	// Days is how many days from Start (default 30).
	Days int `json:"days"`
	// WarmupDays of orders are generated before Start, so that pickups, expiries
	// (a week after ready) and review requests (a week after handover) in the
	// first days look like any other day's. 0 = none (the first week then shows
	// no expiries); DefaultConfig sets DefaultWarmupDays.
	WarmupDays int `json:"warmup_days"`
	// Stores (default DefaultStores).
	Stores []StoreSpec `json:"stores"`
	Seed   uint64      `json:"seed"`
	Shifts []Shift     `json:"shifts,omitempty"`
	// Rates are the base probabilities and durations (default DefaultRates).
	Rates Rates `json:"rates"`
}

// DefaultWarmupDays covers the pickup window (7 days) and the review delay
// (7 days after handover): a pickup-window's worth plus a review delay.
const DefaultWarmupDays = 14

// DefaultConfig is a month from start with the default stores and rates.
func DefaultConfig(start time.Time, seed uint64) Config {
	return Config{Start: start, Days: 30, WarmupDays: DefaultWarmupDays, Stores: DefaultStores(), Seed: seed, Rates: DefaultRates()}
}

// End is the end of the generated period: nothing happens at or after it.
func (c Config) End() time.Time { return c.Start.AddDate(0, 0, c.Days) }

// withDefaults fills the zero fields a caller may leave out.
func (c Config) withDefaults() Config {
	if c.Days == 0 {
		c.Days = 30
	}
	if c.Stores == nil {
		c.Stores = DefaultStores()
	}
	if c.Rates == (Rates{}) {
		c.Rates = DefaultRates()
	}
	return c
}

// Validate lists every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.Start.IsZero() || !c.Start.Equal(c.Start.UTC().Truncate(24*time.Hour)) {
		bad("start %s must be a UTC midnight", c.Start.Format(time.RFC3339))
	}
	if c.Days < 1 || c.Days > 366 {
		bad("days %d must be 1 to 366", c.Days)
	}
	if c.WarmupDays < 0 || c.WarmupDays > 60 {
		bad("warmup days %d must be 0 to 60", c.WarmupDays)
	}
	if len(c.Stores) == 0 {
		bad("no stores")
	}
	seen := map[string]bool{}
	for _, s := range c.Stores {
		switch {
		case s.ID == "" || strings.ContainsAny(s.ID, " ,:=/"):
			bad("store id %q must be non-empty without spaces, commas, colons, slashes or '='", s.ID)
		case seen[s.ID]:
			bad("store %s given twice", s.ID)
		case s.ID == DistributionCentre:
			bad("store %s is the distribution centre", s.ID)
		}
		seen[s.ID] = true
		if s.OrdersPerDay <= 0 || s.OrdersPerDay > 100000 {
			bad("store %s: orders per day %g must be above 0 and at most 100000", s.ID, s.OrdersPerDay)
		}
		if s.HomeDeliveryShare < 0 || s.HomeDeliveryShare > 1 || s.TransferShare < 0 || s.TransferShare > 1 {
			bad("store %s: shares must be 0 to 1", s.ID)
		}
		if _, err := time.LoadLocation(s.TimeZone); err != nil || s.TimeZone == "" {
			bad("store %s: unknown time zone %q", s.ID, s.TimeZone)
		}
	}
	for i, sh := range c.Shifts {
		if err := sh.validate(seen); err != nil {
			bad("shift %d: %w", i+1, err)
		}
	}
	if err := c.Rates.validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// ParseStores reads the -stores flag: comma-separated
// "id:orders_per_day[:home_delivery_share[:time_zone]]" (transfer share 0.3).
func ParseStores(s string) ([]StoreSpec, error) {
	var out []StoreSpec
	for part := range strings.SplitSeq(s, ",") {
		f := strings.Split(strings.TrimSpace(part), ":")
		if len(f) < 2 || len(f) > 4 {
			return nil, fmt.Errorf("store %q: want id:orders_per_day[:home_delivery_share[:time_zone]]", part)
		}
		spec := StoreSpec{ID: f[0], HomeDeliveryShare: 0.15, TransferShare: 0.3, TimeZone: "Europe/Berlin"}
		var err error
		if spec.OrdersPerDay, err = strconv.ParseFloat(f[1], 64); err != nil {
			return nil, fmt.Errorf("store %q: orders per day: %w", part, err)
		}
		if len(f) > 2 {
			if spec.HomeDeliveryShare, err = strconv.ParseFloat(f[2], 64); err != nil {
				return nil, fmt.Errorf("store %q: home delivery share: %w", part, err)
			}
		}
		if len(f) > 3 {
			spec.TimeZone = f[3]
		}
		out = append(out, spec)
	}
	return out, nil
}
