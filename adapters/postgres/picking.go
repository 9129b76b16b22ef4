package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

// CreatePickTask puts the order on its location's pick list. The order ID is the
// key: a repeated call leaves the first task as it is. A location that does not
// exist is an error wrapping ErrUnknownLocation.
func (s *Store) CreatePickTask(ctx context.Context, task activities.PickTask) error {
	lines := task.Lines
	if lines == nil {
		lines = []domain.Line{}
	}
	_, err := s.pool.Exec(ctx, `
		insert into pick_tasks (order_id, location_id, lines, due_at) values ($1, $2, $3, $4)
		on conflict (order_id) do nothing`, task.OrderID, task.LocationID, lines, task.DueAt)
	if isForeignKeyViolation(err) {
		return fmt.Errorf("pick task for order %s at %q: %w", task.OrderID, task.LocationID, activities.ErrUnknownLocation)
	}
	if err != nil {
		return fmt.Errorf("create pick task for order %s: %w", task.OrderID, err)
	}
	return nil
}

// StartPickTask records who started an open pick; a second start keeps the first.
// A task that does not exist is an error wrapping ErrNotFound.
func (s *Store) StartPickTask(ctx context.Context, orderID, by string, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `
		update pick_tasks set started_by = coalesce(started_by, $2), started_at = coalesce(started_at, $3)
		where order_id = $1`, orderID, by, at)
	if err != nil {
		return fmt.Errorf("start pick task for order %s: %w", orderID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pick task for order %s: %w", orderID, activities.ErrNotFound)
	}
	return nil
}

// CompletePickTask closes the order's pick task with what staff confirmed. The
// first completion wins; a repeat (a retried activity) changes nothing. An order
// without a pick task is an error wrapping ErrNotFound.
func (s *Store) CompletePickTask(ctx context.Context, res activities.PickResult) error {
	picked := res.Picked
	if picked == nil {
		picked = []domain.PickedLine{}
	}
	var exists bool
	err := s.pool.QueryRow(ctx, `
		with done as (
			update pick_tasks set status = 'done', picked = $2, picked_by = $3, picked_at = $4
			where order_id = $1 and status = 'open'
			returning 1
		)
		select exists (select 1 from done) or exists (select 1 from pick_tasks where order_id = $1)`,
		res.OrderID, picked, res.By, res.At).Scan(&exists)
	if err != nil {
		return fmt.Errorf("complete pick task for order %s: %w", res.OrderID, err)
	}
	if !exists {
		return fmt.Errorf("pick task for order %s: %w", res.OrderID, activities.ErrNotFound)
	}
	return nil
}

// CancelPickTask closes the order's open pick task as cancelled. A task already
// done (or cancelled), or no task at all, is left as it is: cancelling is
// idempotent and an order cancelled before picking has none.
func (s *Store) CancelPickTask(ctx context.Context, orderID string) error {
	if _, err := s.pool.Exec(ctx, `update pick_tasks set status = 'cancelled' where order_id = $1 and status = 'open'`, orderID); err != nil {
		return fmt.Errorf("cancel pick task for order %s: %w", orderID, err)
	}
	return nil
}
