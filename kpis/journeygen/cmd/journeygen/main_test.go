package main

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/adapters/postgres/pgtest"
	"github.com/everywherecommerce/fulfilment/kpis/journeygen"
)

func fixedNow() time.Time { return time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC) }

func noEnv(string) string { return "" }

func TestEveryBadFlagIsNamedAtOnce(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	err := run(t.Context(), []string{"-start", "1 May", "-days", "0", "-stores", "a:many",
		"-shift", "store=nowhere,kind=expiry,from=2026-11-01T00:00:00Z,to=2026-11-02T00:00:00Z,factor=2"}, noEnv, fixedNow, &out, &errOut)
	if err == nil {
		t.Fatal("bad flags accepted")
	}
	for _, want := range []string{"-start", "days 0", "-stores", "-database-url", `unknown store "nowhere"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	err = run(t.Context(), []string{"-shift", "store=a,kind=expiry"}, noEnv, fixedNow, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "missing from, to, factor") {
		t.Errorf("incomplete -shift: %v", err)
	}
}

func TestDryRunWritesTheTruth(t *testing.T) {
	t.Parallel()
	truth := filepath.Join(t.TempDir(), "truth.json")
	var out bytes.Buffer
	err := run(t.Context(), []string{"-dry-run", "-days", "3", "-warmup", "0", "-stores", "a:50,b:20:0.9", "-truth", truth,
		"-shift", "store=b,kind=declines,from=2026-10-31T00:00:00Z,to=2026-11-02T00:00:00Z,factor=3"}, noEnv, fixedNow, &out, &out)
	if err != nil {
		t.Fatal(err, out.String())
	}
	// The default start is 30 days before today's midnight.
	if !strings.Contains(out.String(), "generated 2026-11-01 to 2026-11-04") {
		t.Errorf("output %q", out.String())
	}
	b, err := os.ReadFile(truth)
	if err != nil {
		t.Fatal(err)
	}
	var tr journeygen.Truth
	if err := json.Unmarshal(b, &tr); err != nil || len(tr.Shifts) != 1 || tr.Shifts[0].Effects[0].Store != "b" || tr.Summary.Orders == 0 {
		t.Fatalf("truth %s: %v", b, err)
	}
}

// databaseURL is DATABASE_URL pointing at the pool's own test database.
func databaseURL(t *testing.T, database string) string {
	t.Helper()
	u, err := url.Parse(os.Getenv("DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + database
	return u.String()
}

func TestRefusesADatabaseWithOrdersUnlessAppending(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	dbURL := databaseURL(t, pool.Config().ConnConfig.Database)
	args := []string{"-database-url", dbURL, "-start", "2026-11-01", "-days", "2", "-warmup", "1", "-stores", "a:40,b:10"}
	var out bytes.Buffer
	if err := run(t.Context(), append(args, "-seed", "1"), noEnv, fixedNow, &out, &out); err != nil {
		t.Fatal(err, out.String())
	}
	err := run(t.Context(), append(args, "-seed", "2"), noEnv, fixedNow, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "already has orders") || !strings.Contains(err.Error(), "-append") {
		t.Fatalf("second load without -append: %v", err)
	}
	if err := run(t.Context(), append(args, "-seed", "2", "-append"), noEnv, fixedNow, &out, &out); err != nil {
		t.Fatal(err, out.String())
	}
	var seeds int
	if err := pool.QueryRow(t.Context(), `select count(distinct split_part(order_id, '-', 1)) from orders`).Scan(&seeds); err != nil || seeds != 2 {
		t.Fatalf("orders of %d seeds (%v); want 2", seeds, err)
	}
}
