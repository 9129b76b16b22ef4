package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// TestRevokedTokenRefusedWithinTTL: the starter caches admitted tokens for
// TokenCacheTTL; a token revoked in PostgreSQL (as `starter token revoke` does)
// is refused with 401 at the latest one TTL after the revocation.
func TestRevokedTokenRefusedWithinTTL(t *testing.T) {
	t.Parallel()
	const ttl = 400 * time.Millisecond
	s := newSystem(t, fastPolicy(), func(st *systemSettings) { st.api.TokenCacheTTL = ttl })
	ctx := context.Background()
	token, err := s.store.CreateToken(ctx, "e2e-revoke-"+s.suffix, "support", "")
	if err != nil {
		t.Fatal(err)
	}
	if st, b := s.do(http.MethodGet, "/v1/me", token, nil); st != http.StatusOK {
		t.Fatalf("GET /v1/me with a live token: %d %v", st, b) // now cached
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
			t.Fatalf("GET /v1/me after revocation: %d, want 200 (cached) or 401", st)
		}
		// One TTL, plus slack for a loaded machine between the lookup and the revocation.
		if time.Since(revoked) > ttl+time.Second {
			t.Fatalf("revoked token still admitted %s after revocation (TTL %s)", time.Since(revoked), ttl)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st, _ := s.do(http.MethodGet, "/v1/me", token, nil); st != http.StatusUnauthorized {
		t.Fatalf("revoked token admitted again: %d", st)
	}
}
