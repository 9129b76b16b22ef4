package activities

import (
	"context"

	"github.com/everywherecommerce/fulfilment/domain"
)

// LocationKind tells a store from a distribution centre.
type LocationKind string

// Location kinds.
const (
	KindStore              LocationKind = "store"
	KindDistributionCentre LocationKind = "distribution_centre"
)

// Location is a store or distribution centre: where stock sits and orders are picked.
type Location struct {
	ID       string         `json:"id"`
	Kind     LocationKind   `json:"kind"`
	Name     string         `json:"name"`
	TimeZone string         `json:"time_zone"`
	Address  domain.Address `json:"address"`
	// Hours are the opening hours per weekday ("mon".."sun") as "10:00-20:00"; an
	// absent day is closed.
	Hours map[string]string `json:"hours,omitempty"`
}

// LocationDirectory looks up stores and distribution centres.
type LocationDirectory interface {
	// Location returns the location or an error wrapping ErrUnknownLocation.
	Location(ctx context.Context, id string) (Location, error)
}
