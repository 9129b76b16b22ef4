package postgres_test

import (
	"testing"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/adapters/postgres"
	"github.com/everywherecommerce/fulfilment/adapters/postgres/pgtest"
	"github.com/jackc/pgx/v5/pgxpool"
)

// newStore returns a Store on a fresh database with two stores (s1, s2) and a
// distribution centre (dc).
func newStore(t *testing.T) (*postgres.Store, *pgxpool.Pool) {
	t.Helper()
	pool := pgtest.New(t)
	st := postgres.NewStore(pool)
	for _, loc := range []activities.Location{
		{ID: "s1", Kind: activities.KindStore, Name: "Store 1", TimeZone: "Europe/Berlin"},
		{ID: "s2", Kind: activities.KindStore, Name: "Store 2", TimeZone: "Europe/Berlin"},
		{ID: "dc", Kind: activities.KindDistributionCentre, Name: "DC", TimeZone: "Europe/Berlin"},
	} {
		if err := st.AddLocation(t.Context(), loc); err != nil {
			t.Fatal(err)
		}
	}
	return st, pool
}

// setStock sets stock or fails the test.
func setStock(t *testing.T, st *postgres.Store, loc, sku string, qty int) {
	t.Helper()
	if err := st.SetStock(t.Context(), loc, sku, qty); err != nil {
		t.Fatal(err)
	}
}

// stockOf reads stock or fails the test.
func stockOf(t *testing.T, st *postgres.Store, loc, sku string) int {
	t.Helper()
	q, err := st.StockQuantity(t.Context(), loc, sku)
	if err != nil {
		t.Fatal(err)
	}
	return q
}
