package postgres

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
)

// ClaimPickupAttempt claims one try of a pickup code for an API token (by its
// hash) before the starter asks the workflow. It counts the token's claims of the
// last window: below limit it records one for orderID and returns its ID; at the limit it
// records nothing and returns 0 and how long until the oldest claim leaves the
// window. A transaction-scoped advisory lock on the token makes concurrent tries of
// one token, on any starter instance, take turns, so that the limit holds under load.
// Claims that left the window are deleted on the way.
func (s *Store) ClaimPickupAttempt(ctx context.Context, tokenHash, orderID string, limit int, window time.Duration) (int64, time.Duration, error) {
	var id int64
	var wait time.Duration
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		micros := window.Microseconds()
		if _, err := tx.Exec(ctx, `select pg_advisory_xact_lock(hashtextextended('pickup-token:' || $1, 0))`, tokenHash); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			delete from pickup_token_attempts
			where token_hash = $1 and at <= clock_timestamp() - $2::bigint * interval '1 microsecond'`,
			tokenHash, micros); err != nil {
			return fmt.Errorf("forget old attempts: %w", err)
		}
		var n int
		var oldest float64 // seconds until the oldest claim leaves the window
		if err := tx.QueryRow(ctx, `
			select count(*), coalesce(extract(epoch from min(at) + $2::bigint * interval '1 microsecond' - clock_timestamp()), 0)
			from pickup_token_attempts where token_hash = $1`,
			tokenHash, micros).Scan(&n, &oldest); err != nil {
			return fmt.Errorf("count attempts: %w", err)
		}
		if n >= limit {
			wait = time.Duration(math.Max(oldest, 0) * float64(time.Second))
			return nil
		}
		return tx.QueryRow(ctx, `
			insert into pickup_token_attempts (token_hash, order_id, at) values ($1, $2, clock_timestamp())
			returning id`, tokenHash, orderID).Scan(&id)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("claim pickup attempt on order %s: %w", orderID, err)
	}
	return id, wait, nil
}

// ReleasePickupAttempt gives a claim back: the code was right, or it was never
// tried (the order was locked, Temporal did not answer). Only wrong codes keep
// their claim until it leaves the window. Releasing twice is harmless.
func (s *Store) ReleasePickupAttempt(ctx context.Context, id int64) error {
	if _, err := s.pool.Exec(ctx, `delete from pickup_token_attempts where id = $1`, id); err != nil {
		return fmt.Errorf("release pickup attempt %d: %w", id, err)
	}
	return nil
}
