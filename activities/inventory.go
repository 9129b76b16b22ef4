package activities

import (
	"context"

	"github.com/everywherecommerce/fulfilment/domain"
)

// ReserveRequest asks for stock for every line of an order at the first candidate
// location that has all of it.
type ReserveRequest struct {
	OrderID string `json:"order_id"`
	// Locations are tried in order; the first that can serve every line wins.
	Locations []string      `json:"locations"`
	Lines     []domain.Line `json:"lines"`
}

// ShortLine names a SKU no candidate location could serve in full. Available is the
// best single location's stock.
type ShortLine struct {
	SKU       string `json:"sku"`
	Requested int    `json:"requested"`
	Available int    `json:"available"`
}

// Reservation is the outcome of ReserveStock: a location, or the short lines.
type Reservation struct {
	LocationID string      `json:"location_id,omitempty"`
	Short      []ShortLine `json:"short,omitempty"`
}

// StockStore keeps stock per location and SKU and the reservations made against it.
// Every method is idempotent per order, because activities retry.
type StockStore interface {
	// Reserve takes stock for every line at the first location that has all of it.
	// A second call for the same order returns the first reservation unchanged.
	Reserve(ctx context.Context, req ReserveRequest) (Reservation, error)
	// Release returns stock to its location. Lines give, per SKU, the total quantity
	// that shall be released for the order (an absolute target, so repeating the call
	// changes nothing); nil releases everything not yet consumed.
	Release(ctx context.Context, orderID string, lines []domain.PickedLine) error
	// Consume marks what is still reserved as sold: the goods left the building.
	Consume(ctx context.Context, orderID string) error
}

// ReleaseStockRequest returns stock; see StockStore.Release.
type ReleaseStockRequest struct {
	OrderID string              `json:"order_id"`
	Lines   []domain.PickedLine `json:"lines,omitempty"`
}

// ChooseLocation is the reservation rule, shared by every StockStore: the first candidate with every SKU;
// otherwise the SKUs even the best single candidate lacks; otherwise (each SKU is
// somewhere, but no candidate has all) what the candidate with the fewest gaps lacks.
func ChooseLocation(locations, skus []string, want map[string]int, have func(loc, sku string) int) (string, []ShortLine) {
	for _, loc := range locations {
		ok := true
		for _, sku := range skus {
			if have(loc, sku) < want[sku] {
				ok = false
				break
			}
		}
		if ok {
			return loc, nil
		}
	}
	var short []ShortLine
	for _, sku := range skus {
		best := 0
		for _, loc := range locations {
			best = max(best, have(loc, sku))
		}
		if best < want[sku] {
			short = append(short, ShortLine{SKU: sku, Requested: want[sku], Available: best})
		}
	}
	if len(short) > 0 {
		return "", short
	}
	for _, loc := range locations {
		var gaps []ShortLine
		for _, sku := range skus {
			if q := have(loc, sku); q < want[sku] {
				gaps = append(gaps, ShortLine{SKU: sku, Requested: want[sku], Available: q})
			}
		}
		if short == nil || len(gaps) < len(short) {
			short = gaps
		}
	}
	return "", short
}
