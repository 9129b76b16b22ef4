package sandbox

// Store as an activities.JourneyStore: each order's stage and the journey of
// entries that staff and support read.

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
)

var _ activities.JourneyStore = (*Store)(nil)

type storeOrder struct {
	summary        activities.OrderSummary
	stage          string
	updatedAt      time.Time
	needsAttention bool
}

// RecordStage keeps the order's stage and adds the journey entry "stage:<stage>"
// once. Like postgres.Store, a change older than the last one recorded does not
// move the stage, but still appears in the journey.
func (s *Store) RecordStage(_ context.Context, c activities.StageChange) error {
	if c.Order.OrderID == "" || c.Stage == "" {
		return fmt.Errorf("record stage %q of order %q: %w", c.Stage, c.Order.OrderID, activities.ErrInvalidRequest)
	}
	at := storeTime(c.At)
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[c.Order.OrderID]
	switch {
	case !ok:
		s.orders[c.Order.OrderID] = &storeOrder{summary: c.Order, stage: string(c.Stage), updatedAt: at}
	case !at.Before(o.updatedAt):
		summary := c.Order
		if summary.StoreID == "" {
			summary.StoreID = o.summary.StoreID
		}
		if summary.LocationID == "" {
			summary.LocationID = o.summary.LocationID
		}
		o.summary, o.stage, o.updatedAt = summary, string(c.Stage), at
	}
	s.addEntry(activities.JourneyEntry{OrderID: c.Order.OrderID, Kind: activities.EntryStage,
		Key: "stage:" + string(c.Stage), Detail: c.Note, Actor: c.Actor, At: at})
	return nil
}

// RecordEntry adds a journey entry once per (order, key). An attention entry also
// flags the order as needing attention.
func (s *Store) RecordEntry(_ context.Context, e activities.JourneyEntry) error {
	if e.OrderID == "" || e.Key == "" || e.Kind == "" {
		return fmt.Errorf("record journey %q of order %q: %w", e.Key, e.OrderID, activities.ErrInvalidRequest)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e.At = storeTime(e.At)
	s.addEntry(e)
	if o, ok := s.orders[e.OrderID]; ok {
		switch e.Kind {
		case activities.EntryAttention:
			o.needsAttention = true
		case activities.EntryAttentionResolved:
			o.needsAttention = false
		}
	}
	return nil
}

// addEntry appends e unless its key is recorded; the caller holds s.mu.
func (s *Store) addEntry(e activities.JourneyEntry) {
	for _, old := range s.journey[e.OrderID] {
		if old.Key == e.Key {
			return
		}
	}
	s.journey[e.OrderID] = append(s.journey[e.OrderID], e)
}

// Journey returns the order's entries by time, then in the order they were added,
// like postgres.Store.Journey.
func (s *Store) Journey(orderID string) []activities.JourneyEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]activities.JourneyEntry(nil), s.journey[orderID]...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

// Stage returns the order's current stage, "" for an order never recorded.
func (s *Store) Stage(orderID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o, ok := s.orders[orderID]; ok {
		return o.stage
	}
	return ""
}

// NeedsAttention reports whether an attention entry flagged the order.
func (s *Store) NeedsAttention(orderID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[orderID]
	return ok && o.needsAttention
}
