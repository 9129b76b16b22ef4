package postgres

import (
	"context"
	"fmt"
)

// RecordFailedPickup counts one more wrong pickup code for the order and returns
// the count so far.
func (s *Store) RecordFailedPickup(ctx context.Context, orderID string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `
		insert into pickup_attempts (order_id, failed) values ($1, 1)
		on conflict (order_id) do update set failed = pickup_attempts.failed + 1, updated_at = now()
		returning failed`, orderID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count failed pickup of order %s: %w", orderID, err)
	}
	return n, nil
}

// FailedPickups returns the number of wrong codes counted for the order.
func (s *Store) FailedPickups(ctx context.Context, orderID string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `select coalesce((select failed from pickup_attempts where order_id = $1), 0)`, orderID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("read failed pickups of order %s: %w", orderID, err)
	}
	return n, nil
}

// ResetFailedPickups clears the count when support unlocks the handover.
func (s *Store) ResetFailedPickups(ctx context.Context, orderID string) error {
	if _, err := s.pool.Exec(ctx, `delete from pickup_attempts where order_id = $1`, orderID); err != nil {
		return fmt.Errorf("reset failed pickups of order %s: %w", orderID, err)
	}
	return nil
}
