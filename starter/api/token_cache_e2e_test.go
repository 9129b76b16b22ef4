package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// TestRevokedTokenRefusedAtOnce: the starter caches admitted tokens (here for
// an hour), yet a token revoked in PostgreSQL (as `starter token revoke` does) is
// refused with 401 at once: the revocation is announced (NOTIFY) and every
// starter listening forgets the token. (Without the announcement it would be
// admitted for the whole TTL: token_cache_test covers that bound.)
func TestRevokedTokenRefusedAtOnce(t *testing.T) {
	t.Parallel()
	const ttl = time.Hour
	s := newSystem(t, fastPolicy(), func(st *systemSettings) { st.api.TokenCacheTTL = ttl })
	ctx := context.Background()
	token, err := s.store.CreateToken(ctx, "e2e-revoke-"+s.suffix, "support", "")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if st, b := s.do(http.MethodGet, "/v1/me", token, nil); st != http.StatusOK {
			t.Fatalf("GET /v1/me with a live token: %d %v", st, b) // now cached
		}
	}
	// The starter listens from its start; wait until its LISTEN is in place.
	for deadline := time.Now().Add(10 * time.Second); ; {
		var n int
		if err := s.db.QueryRow(ctx, `select count(*) from pg_stat_activity where datname = current_database() and query ilike 'listen %'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the starter is not listening for revocations")
		}
		time.Sleep(20 * time.Millisecond)
	}
	revoked := time.Now()
	if n, err := s.store.RevokeToken(ctx, "e2e-revoke-"+s.suffix); err != nil || n != 1 {
		t.Fatalf("revoke: %d, %v", n, err)
	}
	for {
		st, _ := s.do(http.MethodGet, "/v1/me", token, nil)
		if st == http.StatusUnauthorized {
			break
		}
		if st != http.StatusOK {
			t.Fatalf("GET /v1/me after revocation: %d, want 200 (not yet announced) or 401", st)
		}
		// The notification's delivery, with slack for a loaded machine: far below the TTL.
		if time.Since(revoked) > 3*time.Second {
			t.Fatalf("revoked token still admitted %s after revocation (TTL %s): the revocation was not applied", time.Since(revoked), ttl)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("refused %s after the revocation", time.Since(revoked).Round(time.Millisecond))
	if st, _ := s.do(http.MethodGet, "/v1/me", token, nil); st != http.StatusUnauthorized {
		t.Fatalf("revoked token admitted again: %d", st)
	}
}
