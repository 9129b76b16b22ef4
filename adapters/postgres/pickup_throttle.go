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
	// One round trip: the batch runs as one implicit transaction, which holds the
	// advisory lock until it ends; the statements see each other's effects in turn.
	micros := window.Microseconds()
	var n int
	var oldest float64 // seconds until the oldest claim leaves the window
	var claimed *int64
	b := &pgx.Batch{}
	b.Queue(`select pg_advisory_xact_lock(hashtextextended('pickup-token:' || $1, 0))`, tokenHash)
	b.Queue(`
		delete from pickup_token_attempts
		where token_hash = $1 and at <= clock_timestamp() - $2::bigint * interval '1 microsecond'`,
		tokenHash, micros)
	b.Queue(`
		with held as (
			select count(*) as n, coalesce(extract(epoch from min(at) + $2::bigint * interval '1 microsecond' - clock_timestamp()), 0) as oldest
			from pickup_token_attempts where token_hash = $1),
		claim as (
			insert into pickup_token_attempts (token_hash, order_id, at)
			select $1, $3, clock_timestamp() from held where held.n < $4
			returning id)
		select held.n, held.oldest, (select id from claim) from held`,
		tokenHash, micros, orderID, limit).
		QueryRow(func(row pgx.Row) error { return row.Scan(&n, &oldest, &claimed) })
	err := s.pool.SendBatch(ctx, b).Close()
	if err == nil {
		if claimed != nil {
			id = *claimed
		} else {
			wait = time.Duration(math.Max(oldest, 0) * float64(time.Second))
		}
	}
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
