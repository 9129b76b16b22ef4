package postgres

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
	"github.com/jackc/pgx/v5"
)

// tokenPrefix marks our tokens, so secret scanners and people recognise a leaked one.
const tokenPrefix = "ef_"

// CreateToken issues a token for subject with role and returns it; only its hash is
// stored, so this is the one time it can be seen. Staff tokens need the store they
// work in. An unknown role or a missing store is an error wrapping
// ErrInvalidRequest; a store that does not exist wraps ErrUnknownLocation.
func (s *Store) CreateToken(ctx context.Context, subject, role, storeID string) (string, error) {
	switch {
	case subject == "":
		return "", fmt.Errorf("create token: subject is required: %w", activities.ErrInvalidRequest)
	case role != records.RoleCheckout && role != records.RoleStaff && role != records.RoleSupport:
		return "", fmt.Errorf("create token for %s: role %q: %w", subject, role, activities.ErrInvalidRequest)
	case role == records.RoleStaff && storeID == "":
		return "", fmt.Errorf("create token for %s: staff tokens need a store: %w", subject, activities.ErrInvalidRequest)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("create token for %s: %w", subject, err)
	}
	token := tokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	var store *string
	if storeID != "" {
		store = &storeID
	}
	_, err := s.pool.Exec(ctx, `insert into api_tokens (token_hash, subject, role, store_id) values ($1, $2, $3, $4)`,
		records.HashToken(token), subject, role, store)
	if isForeignKeyViolation(err) {
		return "", fmt.Errorf("create token for %s: store %q: %w", subject, storeID, activities.ErrUnknownLocation)
	}
	if err != nil {
		return "", fmt.Errorf("create token for %s: %w", subject, err)
	}
	return token, nil
}

// Authenticate returns the principal of a live token. An unknown or revoked token
// is an error wrapping ErrNotFound (the starter answers 401).
func (s *Store) Authenticate(ctx context.Context, token string) (records.Principal, error) {
	var p records.Principal
	var store *string
	err := s.pool.QueryRow(ctx, `select subject, role, store_id from api_tokens where token_hash = $1 and revoked_at is null`,
		records.HashToken(token)).Scan(&p.Subject, &p.Role, &store)
	if errors.Is(err, pgx.ErrNoRows) {
		return records.Principal{}, fmt.Errorf("authenticate: token: %w", activities.ErrNotFound)
	}
	if err != nil {
		return records.Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	if store != nil {
		p.StoreID = *store
	}
	return p, nil
}

// RevokeToken revokes every live token of subject and returns how many there were.
// Each revoked token's hash is announced on TokenRevocationChannel in the same
// transaction (PostgreSQL delivers it on commit), so starters drop it from their
// token caches at once (ListenTokenRevocations).
func (s *Store) RevokeToken(ctx context.Context, subject string) (int64, error) {
	var n int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `update api_tokens set revoked_at = now() where subject = $1 and revoked_at is null returning token_hash`, subject)
		if err != nil {
			return err
		}
		hashes, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, h := range hashes {
			if _, err := tx.Exec(ctx, `select pg_notify($1, $2)`, TokenRevocationChannel, h); err != nil {
				return err
			}
		}
		n = int64(len(hashes))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("revoke tokens of %s: %w", subject, err)
	}
	return n, nil
}

// TokenRevocationChannel is the PostgreSQL notification channel on which
// RevokeToken announces the hash of each token it revoked.
const TokenRevocationChannel = "fulfilment_token_revoked"

// ListenTokenRevocations calls revoked with the hash of every token revoked from
// now on, until ctx ends (then it returns nil). It holds one connection of the
// pool for LISTEN. When that connection fails, notifications may have been
// missed: it calls missed with the error (forget every cached token) and listens
// again after a pause (0.5 s, doubling up to 10 s).
func (s *Store) ListenTokenRevocations(ctx context.Context, revoked func(hash string), missed func(error)) error {
	pause := 500 * time.Millisecond
	for {
		err := s.listenRevocations(ctx, revoked, &pause)
		if ctx.Err() != nil {
			return nil
		}
		missed(err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(pause):
		}
		pause = min(2*pause, 10*time.Second)
	}
}

func (s *Store) listenRevocations(ctx context.Context, revoked func(hash string), pause *time.Duration) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire a connection: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "listen "+TokenRevocationChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	*pause = 500 * time.Millisecond
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() == nil {
				conn.Conn().PgConn().Close(context.Background()) //nolint:errcheck // broken: never back into the pool
			}
			return fmt.Errorf("wait for a notification: %w", err)
		}
		revoked(n.Payload)
	}
}

// HasTokens reports whether any live token exists, so the starter can tell a fresh
// installation (print a first token) from a configured one.
func (s *Store) HasTokens(ctx context.Context) (bool, error) {
	var ok bool
	if err := s.pool.QueryRow(ctx, `select exists (select 1 from api_tokens where revoked_at is null)`).Scan(&ok); err != nil {
		return false, fmt.Errorf("look for tokens: %w", err)
	}
	return ok, nil
}
