package api

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// tokenTable is a token store whose tokens can be revoked, counting lookups.
type tokenTable struct {
	live    map[string]records.Principal
	lookups int
	fail    error
}

func (tt *tokenTable) Authenticate(_ context.Context, token string) (records.Principal, error) {
	tt.lookups++
	if tt.fail != nil {
		return records.Principal{}, tt.fail
	}
	p, ok := tt.live[token]
	if !ok {
		return records.Principal{}, fmt.Errorf("authenticate: %w", activities.ErrNotFound)
	}
	return p, nil
}

func TestTokenCache(t *testing.T) {
	const ttl = 5 * time.Second
	setup := func(ttl time.Duration) (*tokenCache, *tokenTable, *time.Time) {
		now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		tt := &tokenTable{live: map[string]records.Principal{"ef_a": {Subject: "anna", Role: records.RoleSupport}}}
		return newTokenCache(ttl, func() time.Time { return now }), tt, &now
	}
	auth := func(t *testing.T, c *tokenCache, tt *tokenTable, token string) error {
		t.Helper()
		_, err := c.authenticate(context.Background(), token, tt.Authenticate)
		return err
	}

	t.Run("revocation takes effect within the TTL", func(t *testing.T) {
		c, tt, now := setup(ttl)
		if err := auth(t, c, tt, "ef_a"); err != nil {
			t.Fatal(err)
		}
		delete(tt.live, "ef_a") // revoked in PostgreSQL
		*now = now.Add(ttl - time.Millisecond)
		if err := auth(t, c, tt, "ef_a"); err != nil {
			t.Fatalf("within the TTL: %v, want the cached principal", err)
		}
		*now = now.Add(time.Millisecond)
		if err := auth(t, c, tt, "ef_a"); !errors.Is(err, activities.ErrNotFound) {
			t.Fatalf("at the TTL: %v, want ErrNotFound (revoked)", err)
		}
		if err := auth(t, c, tt, "ef_a"); !errors.Is(err, activities.ErrNotFound) {
			t.Fatalf("after revocation: %v, want ErrNotFound", err)
		}
	})
	t.Run("an announced revocation takes effect at once", func(t *testing.T) {
		c, tt, _ := setup(ttl)
		if err := auth(t, c, tt, "ef_a"); err != nil {
			t.Fatal(err)
		}
		delete(tt.live, "ef_a")
		c.forget(records.HashToken("ef_a"))
		if err := auth(t, c, tt, "ef_a"); !errors.Is(err, activities.ErrNotFound) {
			t.Fatalf("after forget: %v, want ErrNotFound", err)
		}
	})
	t.Run("a reset forgets every token", func(t *testing.T) {
		c, tt, _ := setup(ttl)
		if err := auth(t, c, tt, "ef_a"); err != nil {
			t.Fatal(err)
		}
		c.reset()
		if err := auth(t, c, tt, "ef_a"); err != nil || tt.lookups != 2 {
			t.Fatalf("after reset: %v, %d lookups, want a second lookup", err, tt.lookups)
		}
	})
	t.Run("one lookup per TTL for a busy caller", func(t *testing.T) {
		c, tt, now := setup(ttl)
		for range 100 {
			if err := auth(t, c, tt, "ef_a"); err != nil {
				t.Fatal(err)
			}
			*now = now.Add(100 * time.Millisecond)
		}
		if tt.lookups != 2 { // 100 requests over 10 s
			t.Errorf("lookups = %d, want 2", tt.lookups)
		}
	})
	t.Run("unknown tokens are not cached", func(t *testing.T) {
		c, tt, _ := setup(ttl)
		if err := auth(t, c, tt, "ef_new"); !errors.Is(err, activities.ErrNotFound) {
			t.Fatalf("unknown token: %v", err)
		}
		tt.live["ef_new"] = records.Principal{Subject: "new", Role: records.RoleCheckout}
		if err := auth(t, c, tt, "ef_new"); err != nil {
			t.Fatalf("token created since: %v, want it admitted at once", err)
		}
	})
	t.Run("a failed lookup drops the entry and is not cached", func(t *testing.T) {
		c, tt, now := setup(ttl)
		if err := auth(t, c, tt, "ef_a"); err != nil {
			t.Fatal(err)
		}
		*now = now.Add(ttl)
		tt.fail = errors.New("connection refused")
		if err := auth(t, c, tt, "ef_a"); err == nil {
			t.Fatal("database down after the TTL: admitted from a stale entry")
		}
	})
	t.Run("TTL 0 or less looks every request up", func(t *testing.T) {
		c, tt, _ := setup(-1)
		for range 3 {
			if err := auth(t, c, tt, "ef_a"); err != nil {
				t.Fatal(err)
			}
		}
		if tt.lookups != 3 {
			t.Errorf("lookups = %d, want 3", tt.lookups)
		}
	})
}
