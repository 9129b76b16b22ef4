package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

func TestTokens(t *testing.T) {
	t.Parallel()
	st, pool := newStore(t)
	ctx := t.Context()

	if has, err := st.HasTokens(ctx); err != nil || has {
		t.Fatalf("HasTokens on a fresh database = %v, %v; want false", has, err)
	}
	staff, err := st.CreateToken(ctx, "anna", records.RoleStaff, "s1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(staff, "ef_") || len(staff) != len("ef_")+43 {
		t.Errorf("token %q: want ef_ and 43 base64url characters", staff)
	}
	var stored int
	if err := pool.QueryRow(ctx, `select count(*) from api_tokens where token_hash = $1`, records.HashToken(staff)).Scan(&stored); err != nil || stored != 1 {
		t.Fatalf("rows with the token's hash = %d (%v), want 1", stored, err)
	}
	if err := pool.QueryRow(ctx, `select count(*) from api_tokens where token_hash = $1`, staff).Scan(&stored); err != nil || stored != 0 {
		t.Errorf("rows with the plain token = %d (%v), want 0", stored, err)
	}
	p, err := st.Authenticate(ctx, staff)
	if err != nil || p != (records.Principal{Subject: "anna", Role: "staff", StoreID: "s1"}) {
		t.Errorf("Authenticate = %+v, %v", p, err)
	}
	support, err := st.CreateToken(ctx, "sam", records.RoleSupport, "")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := st.Authenticate(ctx, support); err != nil || p.Role != "support" || p.StoreID != "" {
		t.Errorf("Authenticate(support) = %+v, %v", p, err)
	}
	if has, err := st.HasTokens(ctx); err != nil || !has {
		t.Errorf("HasTokens = %v, %v; want true", has, err)
	}

	if n, err := st.RevokeToken(ctx, "anna"); err != nil || n != 1 {
		t.Errorf("RevokeToken = %d, %v; want 1", n, err)
	}
	if n, err := st.RevokeToken(ctx, "anna"); err != nil || n != 0 {
		t.Errorf("second RevokeToken = %d, %v; want 0", n, err)
	}
	if _, err := st.Authenticate(ctx, staff); !errorsIs(err, activities.ErrNotFound) {
		t.Errorf("Authenticate(revoked) err = %v, want ErrNotFound", err)
	}
	if _, err := st.Authenticate(ctx, "ef_made-up"); !errorsIs(err, activities.ErrNotFound) {
		t.Errorf("Authenticate(unknown) err = %v, want ErrNotFound", err)
	}

	invalid := []struct {
		name, role, store string
		want              error
	}{
		{"staff without a store", records.RoleStaff, "", activities.ErrInvalidRequest},
		{"staff of an unknown store", records.RoleStaff, "nowhere", activities.ErrUnknownLocation},
		{"unknown role", "admin", "", activities.ErrInvalidRequest},
	}
	for _, tt := range invalid {
		if _, err := st.CreateToken(ctx, "x", tt.role, tt.store); !errorsIs(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}

// TestRevocationsAreAnnounced: a listener hears the hash of every token revoked,
// once the revoking transaction commits.
func TestRevocationsAreAnnounced(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx, cancel := context.WithCancel(t.Context())
	heard := make(chan string, 4)
	done := make(chan error, 1)
	go func() {
		done <- st.ListenTokenRevocations(ctx, func(h string) { heard <- h }, func(err error) { t.Errorf("listener failed: %v", err) })
	}()
	token, err := st.CreateToken(ctx, "nina", records.RoleSupport, "")
	if err != nil {
		t.Fatal(err)
	}
	// The listener may not be listening yet: revoke until it hears (a revoke of
	// an already revoked subject announces nothing, so make a new token each time).
	deadline := time.After(10 * time.Second)
	for {
		if n, err := st.RevokeToken(ctx, "nina"); err != nil || n != 1 {
			t.Fatalf("revoke: %d, %v", n, err)
		}
		select {
		case h := <-heard:
			if h != records.HashToken(token) {
				t.Fatalf("heard %q, want the revoked token's hash %q", h, records.HashToken(token))
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("listener ended with %v", err)
			}
			return
		case <-time.After(300 * time.Millisecond):
		case <-deadline:
			t.Fatal("no revocation announced within 10 s")
		}
		if token, err = st.CreateToken(ctx, "nina", records.RoleSupport, ""); err != nil {
			t.Fatal(err)
		}
	}
}
