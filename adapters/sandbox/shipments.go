package sandbox

// Store as an activities.ShipmentStore: the labels bought for an order, one per
// purpose.

import (
	"context"

	"github.com/everywherecommerce/fulfilment/activities"
)

var _ activities.ShipmentStore = (*Store)(nil)

type storeShipmentKey struct{ orderID, purpose string }

// SaveShipment records a label once per (order, purpose); a repeat replaces the
// label details.
func (s *Store) SaveShipment(_ context.Context, sh activities.Shipment) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shipments[storeShipmentKey{sh.OrderID, sh.Purpose}] = sh
	return nil
}

// Shipment returns the label recorded for an order and purpose.
func (s *Store) Shipment(orderID, purpose string) (activities.Shipment, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh, ok := s.shipments[storeShipmentKey{orderID, purpose}]
	return sh, ok
}
