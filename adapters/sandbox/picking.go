package sandbox

// Store as an activities.PickStore: the pick list of each location, one task per
// order.

import (
	"context"
	"fmt"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

var _ activities.PickStore = (*Store)(nil)

// StorePickTask is a pick task as the fake keeps it: the task, and once staff
// confirmed it, the first result.
type StorePickTask struct {
	Task      activities.PickTask
	Done      bool
	Cancelled bool
	Result    activities.PickResult
	StartedBy string
	StartedAt time.Time
}

// CreatePickTask puts the order on the location's pick list once; a repeat leaves
// the first task. An unknown location is an error wrapping ErrUnknownLocation.
func (s *Store) CreatePickTask(_ context.Context, task activities.PickTask) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.locations[task.LocationID]; !ok {
		return fmt.Errorf("pick task for order %s at %q: %w", task.OrderID, task.LocationID, activities.ErrUnknownLocation)
	}
	if _, ok := s.pickTasks[task.OrderID]; !ok {
		task.Lines = append([]domain.Line{}, task.Lines...)
		task.DueAt = storeTime(task.DueAt)
		s.pickTasks[task.OrderID] = &StorePickTask{Task: task}
	}
	return nil
}

// StartPickTask records who started the pick; the first start counts.
func (s *Store) StartPickTask(_ context.Context, orderID, by string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	pt, ok := s.pickTasks[orderID]
	if !ok {
		return fmt.Errorf("pick task for order %s: %w", orderID, activities.ErrNotFound)
	}
	if pt.StartedBy == "" {
		pt.StartedBy, pt.StartedAt = by, storeTime(at)
	}
	return nil
}

// CompletePickTask closes the pick task; the first completion wins. An order
// without a pick task is an error wrapping ErrNotFound.
func (s *Store) CompletePickTask(_ context.Context, res activities.PickResult) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	pt, ok := s.pickTasks[res.OrderID]
	if !ok {
		return fmt.Errorf("pick task for order %s: %w", res.OrderID, activities.ErrNotFound)
	}
	if !pt.Done && !pt.Cancelled {
		res.Picked = append([]domain.PickedLine{}, res.Picked...)
		res.At = storeTime(res.At)
		pt.Done, pt.Result = true, res
	}
	return nil
}

// CancelPickTask closes an open pick task as cancelled; a done task, or none, is
// left as it is.
func (s *Store) CancelPickTask(_ context.Context, orderID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pt, ok := s.pickTasks[orderID]; ok && !pt.Done {
		pt.Cancelled = true
	}
	return nil
}

// PickTask returns the order's pick task, for tests to assert on.
func (s *Store) PickTask(orderID string) (StorePickTask, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pt, ok := s.pickTasks[orderID]
	if !ok {
		return StorePickTask{}, false
	}
	return *pt, true
}
