package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/everywherecommerce/fulfilment/activities"
)

// recordPickupFacts keeps the projection's view of a handover in step with the
// workflow, their one owner: the (extended) deadline and the count of wrong codes
// the work list turns into attempts left and a lock. A deadline only moves later,
// so an entry retried after a later extension cannot move it back.
func recordPickupFacts(ctx context.Context, tx pgx.Tx, orderID string, p activities.PickupFacts) error {
	if !p.Deadline.IsZero() {
		if _, err := tx.Exec(ctx, `
			update orders set pickup_deadline = $2
			where order_id = $1 and (pickup_deadline is null or pickup_deadline < $2)`, orderID, p.Deadline); err != nil {
			return fmt.Errorf("record pickup deadline: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, `
		insert into pickup_attempts (order_id, failed) values ($1, $2)
		on conflict (order_id) do update set failed = excluded.failed, updated_at = now()`, orderID, p.WrongCodes); err != nil {
		return fmt.Errorf("record wrong pickup codes: %w", err)
	}
	return nil
}

// FailedPickups returns the number of wrong codes the order's workflow has
// recorded since the order was ready or last unlocked.
func (s *Store) FailedPickups(ctx context.Context, orderID string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `select coalesce((select failed from pickup_attempts where order_id = $1), 0)`, orderID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("read failed pickups of order %s: %w", orderID, err)
	}
	return n, nil
}
