package journeygen

import (
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
)

// TestPromiseIsTheSystemsRule checks the generator's promise against the
// system's own activities.PromiseReady for the generated stores' hours, over
// every quarter hour of two weeks, in both time zones used.
func TestPromiseIsTheSystemsRule(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig(time.Date(2026, 3, 23, 0, 0, 0, 0, time.UTC), 1) // the week of the switch to summer time
	g := &gen{cfg: cfg, zones: map[string]*time.Location{}}
	for _, s := range cfg.Stores {
		g.zones[s.ID], _ = time.LoadLocation(s.TimeZone)
	}
	for _, s := range []StoreSpec{cfg.Stores[0], cfg.Stores[4]} {
		loc := activities.Location{ID: s.ID, TimeZone: s.TimeZone, Hours: storeHours()}
		for at := cfg.Start; at.Before(cfg.Start.AddDate(0, 0, 14)); at = at.Add(15 * time.Minute) {
			for _, days := range []int{0, cfg.Rates.TransferDays} {
				want := activities.PromiseReady(loc, at, cfg.Rates.StoreReadyLead, days)
				if got := g.promise(s.ID, at, days); !got.Equal(want) {
					t.Fatalf("%s placed %s, transfer days %d: promise %s; the system promises %s", s.ID, at, days, got, want)
				}
			}
		}
	}
}
