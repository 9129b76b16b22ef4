// Package postgres implements the fulfilment ports on PostgreSQL (pgx): stock and
// reservations, pick tasks, locations, shipments, the customer journey with the
// orders projection, and the notification log. It also implements the HTTP
// starter's port (api.Store), in the starter's words (starter/api/records): API
// tokens, the store console's work list, the order list, contact preferences, the
// sandbox outbox; and it holds the demo data. The schema lives in migrations/ and
// is applied by Migrate.
//
// Every write is idempotent (natural keys and ON CONFLICT), because activities retry.
package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store is the PostgreSQL adapter of the fulfilment ports. One Store per process
// shares the process's pool; it holds no other state.
type Store struct{ pool *pgxpool.Pool }

// The ports Store implements; the worker wires one Store into every activity struct.
var (
	_ activities.StockStore        = (*Store)(nil)
	_ activities.PickStore         = (*Store)(nil)
	_ activities.LocationDirectory = (*Store)(nil)
	_ activities.ShipmentStore     = (*Store)(nil)
	_ activities.JourneyStore      = (*Store)(nil)
	_ activities.NotificationLog   = (*Store)(nil)
)

// NewStore returns a Store on pool. The pool belongs to the caller, who closes it.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// inTx runs fn in a transaction that commits when fn returns nil and rolls back
// otherwise. A commit failure is returned, never lost.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// Location returns a store or distribution centre, or an error wrapping
// activities.ErrUnknownLocation.
func (s *Store) Location(ctx context.Context, id string) (activities.Location, error) {
	loc := activities.Location{ID: id}
	var kind string
	err := s.pool.QueryRow(ctx,
		`select kind, name, time_zone, address, hours from stores where id = $1`, id,
	).Scan(&kind, &loc.Name, &loc.TimeZone, &loc.Address, &loc.Hours)
	if errors.Is(err, pgx.ErrNoRows) {
		return activities.Location{}, fmt.Errorf("location %q: %w", id, activities.ErrUnknownLocation)
	}
	if err != nil {
		return activities.Location{}, fmt.Errorf("read location %q: %w", id, err)
	}
	loc.Kind = activities.LocationKind(kind)
	if len(loc.Hours) == 0 {
		loc.Hours = nil
	}
	return loc, nil
}

// AddLocation creates or replaces a store or distribution centre. Stores are
// configuration, so the last write wins.
func (s *Store) AddLocation(ctx context.Context, loc activities.Location) error {
	if loc.ID == "" || (loc.Kind != activities.KindStore && loc.Kind != activities.KindDistributionCentre) {
		return fmt.Errorf("add location %q of kind %q: %w", loc.ID, loc.Kind, activities.ErrInvalidRequest)
	}
	hours := loc.Hours
	if hours == nil {
		hours = map[string]string{}
	}
	_, err := s.pool.Exec(ctx, `
		insert into stores (id, kind, name, time_zone, address, hours)
		values ($1, $2, $3, $4, $5, $6)
		on conflict (id) do update set kind = excluded.kind, name = excluded.name,
			time_zone = excluded.time_zone, address = excluded.address, hours = excluded.hours`,
		loc.ID, string(loc.Kind), loc.Name, loc.TimeZone, loc.Address, hours)
	if err != nil {
		return fmt.Errorf("add location %q: %w", loc.ID, err)
	}
	return nil
}

// isForeignKeyViolation reports whether err is PostgreSQL's foreign_key_violation,
// which here always means a location that does not exist.
func isForeignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23503"
}
