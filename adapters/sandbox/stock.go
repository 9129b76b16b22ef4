package sandbox

// Store as an activities.StockStore: stock reserved, released and consumed per
// order with the rules of postgres.Store (idempotent per order, never below zero,
// short lines from the best single location).

import (
	"context"
	"fmt"
	"sort"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

var _ activities.StockStore = (*Store)(nil)

type storeStockKey struct{ location, sku string }

type storeReservation struct {
	location, sku                string
	quantity, released, consumed int
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
func (s *Store) Release(_ context.Context, orderID string, lines []domain.PickedLine) error {
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
