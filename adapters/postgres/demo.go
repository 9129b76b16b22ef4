package postgres

import (
	"context"
	"fmt"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/jackc/pgx/v5"
)

// DemoSKU is an article of the demo catalogue: a watch retailer's range.
type DemoSKU struct {
	SKU  string `json:"sku"`
	Name string `json:"name"`
	// UnitPrice is in minor units of Currency.
	UnitPrice int64  `json:"unit_price"`
	Currency  string `json:"currency"`
}

// DemoSKUs is the catalogue SeedDemo stocks, so the demo can build orders that
// reference real stock. The demo locations and quantities are in SeedDemo.
func DemoSKUs() []DemoSKU {
	return []DemoSKU{
		{SKU: "WATCH-001", Name: "Automatic watch, 38 mm", UnitPrice: 24900, Currency: "EUR"},
		{SKU: "STRAP-LEA-20", Name: "Leather strap 20 mm", UnitPrice: 4900, Currency: "EUR"},
		{SKU: "STRAP-STEEL-20", Name: "Steel bracelet 20 mm", UnitPrice: 7900, Currency: "EUR"},
		{SKU: "BATTERY-SR626", Name: "Watch battery SR626", UnitPrice: 490, Currency: "EUR"},
		{SKU: "CLEAN-KIT", Name: "Watch cleaning kit", UnitPrice: 1990, Currency: "EUR"},
	}
}

// demoLocations are the demo's two stores and distribution centre.
func demoLocations() []activities.Location {
	return []activities.Location{
		{
			ID: "berlin-mitte", Kind: activities.KindStore, Name: "Berlin Mitte", TimeZone: "Europe/Berlin",
			Address: domain.Address{Name: "Everywhere Berlin Mitte", Line1: "Rosenthaler Str. 40", PostalCode: "10178", City: "Berlin", Country: "DE"},
			Hours:   weekdays("mon", "sat", "10:00-20:00"),
		},
		{
			ID: "hamburg-altona", Kind: activities.KindStore, Name: "Hamburg Altona", TimeZone: "Europe/Berlin",
			Address: domain.Address{Name: "Everywhere Hamburg Altona", Line1: "Ottenser Hauptstr. 10", PostalCode: "22765", City: "Hamburg", Country: "DE"},
			Hours:   weekdays("mon", "sat", "10:00-19:00"),
		},
		{
			ID: "dc-erfurt", Kind: activities.KindDistributionCentre, Name: "Distribution centre Erfurt", TimeZone: "Europe/Berlin",
			Address: domain.Address{Name: "Everywhere Distribution Centre", Line1: "Am Flughafen 12", PostalCode: "99092", City: "Erfurt", Country: "DE"},
			Hours:   weekdays("mon", "fri", "06:00-22:00"),
		},
	}
}

// demoStock is the demo's stock per location and SKU: plenty in Berlin and the
// distribution centre, a little in Hamburg (no steel bracelets, so ship-to-store
// from the distribution centre can be shown there).
func demoStock() map[string]map[string]int {
	return map[string]map[string]int{
		"berlin-mitte":   {"WATCH-001": 10, "STRAP-LEA-20": 10, "STRAP-STEEL-20": 10, "BATTERY-SR626": 10, "CLEAN-KIT": 10},
		"hamburg-altona": {"WATCH-001": 2, "STRAP-LEA-20": 3, "STRAP-STEEL-20": 0, "BATTERY-SR626": 5, "CLEAN-KIT": 1},
		"dc-erfurt":      {"WATCH-001": 100, "STRAP-LEA-20": 100, "STRAP-STEEL-20": 100, "BATTERY-SR626": 100, "CLEAN-KIT": 100},
	}
}

// weekdays returns opening hours for the days from first to last.
func weekdays(first, last, hours string) map[string]string {
	days := []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	out := map[string]string{}
	in := false
	for _, d := range days {
		in = in || d == first
		if in {
			out[d] = hours
		}
		if d == last {
			break
		}
	}
	return out
}

// SeedDemo writes the demo stores, stock and recommendations. Existing rows are
// left alone (ON CONFLICT DO NOTHING), so running it again keeps the stock that
// demo orders have taken.
func (s *Store) SeedDemo(ctx context.Context) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		for _, loc := range demoLocations() {
			if _, err := tx.Exec(ctx, `
				insert into stores (id, kind, name, time_zone, address, hours) values ($1, $2, $3, $4, $5, $6)
				on conflict (id) do nothing`,
				loc.ID, string(loc.Kind), loc.Name, loc.TimeZone, loc.Address, loc.Hours); err != nil {
				return fmt.Errorf("store %s: %w", loc.ID, err)
			}
		}
		for loc, skus := range demoStock() {
			for sku, qty := range skus {
				if _, err := tx.Exec(ctx, `insert into stock (location_id, sku, quantity) values ($1, $2, $3)
					on conflict (location_id, sku) do nothing`, loc, sku, qty); err != nil {
					return fmt.Errorf("stock of %s at %s: %w", sku, loc, err)
				}
			}
		}
		names := map[string]string{}
		for _, d := range DemoSKUs() {
			names[d.SKU] = d.Name
		}
		recs := []string{"STRAP-LEA-20", "STRAP-STEEL-20", "CLEAN-KIT"}
		for i, rec := range recs {
			if _, err := tx.Exec(ctx, `insert into recommendations (sku, recommended_sku, rank, name) values ($1, $2, $3, $4)
				on conflict (sku, recommended_sku) do update set name = excluded.name`, "WATCH-001", rec, i+1, names[rec]); err != nil {
				return fmt.Errorf("recommendation %s: %w", rec, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("seed demo data: %w", err)
	}
	return nil
}
