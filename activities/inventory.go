package activities

import (
	"context"
)

// ReserveRequest asks for stock for every line of an order at the first candidate
// location that has all of it.
type ReserveRequest struct {
	OrderID string `json:"order_id"`
	// Locations are tried in order; the first that can serve every line wins.
	Locations []string `json:"locations"`
	Lines     []Line   `json:"lines"`
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
	Release(ctx context.Context, orderID string, lines []PickedLine) error
	// Consume marks what is still reserved as sold: the goods left the building.
	Consume(ctx context.Context, orderID string) error
}

// ReleaseStockRequest returns stock; see StockStore.Release.
type ReleaseStockRequest struct {
	OrderID string       `json:"order_id"`
	Lines   []PickedLine `json:"lines,omitempty"`
}
