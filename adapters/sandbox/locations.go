package sandbox

// Store as an activities.LocationDirectory: the stores and distribution centres
// an order can be reserved at, picked at or shipped from.

import (
	"context"
	"fmt"

	"github.com/everywherecommerce/fulfilment/activities"
)

var _ activities.LocationDirectory = (*Store)(nil)

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
