package sandbox

// Store's demo data: the locations and stock of postgres.Store.SeedDemo. It is no
// port; workflow tests and the message preview call it directly.

import (
	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

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
			Address: domain.Address{Name: "Everywhere Berlin Mitte", Line1: "Rosenthaler Str. 40", PostalCode: "10178", City: "Berlin", Country: "DE"},
			Hours:   hours("sat", "10:00-20:00")},
		{ID: "hamburg-altona", Kind: activities.KindStore, Name: "Hamburg Altona", TimeZone: "Europe/Berlin",
			Address: domain.Address{Name: "Everywhere Hamburg Altona", Line1: "Ottenser Hauptstr. 10", PostalCode: "22765", City: "Hamburg", Country: "DE"},
			Hours:   hours("sat", "10:00-19:00")},
		{ID: "dc-erfurt", Kind: activities.KindDistributionCentre, Name: "Distribution centre Erfurt", TimeZone: "Europe/Berlin",
			Address: domain.Address{Name: "Everywhere Distribution Centre", Line1: "Am Flughafen 12", PostalCode: "99092", City: "Erfurt", Country: "DE"},
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
