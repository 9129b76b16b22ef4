package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/everywherecommerce/fulfilment/activities"
)

// queuePickupFacts queues what keeps the projection's view of a handover in step with the
// workflow, their one owner: the (extended) deadline and the count of wrong codes
// the work list turns into attempts left and a lock. A deadline only moves later,
// so an entry retried after a later extension cannot move it back.
func queuePickupFacts(b *pgx.Batch, orderID string, p activities.PickupFacts) {
	if !p.Deadline.IsZero() {
		b.Queue(`
			update orders set pickup_deadline = $2
			where order_id = $1 and (pickup_deadline is null or pickup_deadline < $2)`, orderID, p.Deadline)
	}
	b.Queue(`
		insert into pickup_attempts (order_id, failed) values ($1, $2)
		on conflict (order_id) do update set failed = excluded.failed, updated_at = now()`, orderID, p.WrongCodes)
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
