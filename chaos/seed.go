package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/everywherecommerce/fulfilment/adapters/postgres"
)

// stockKey is a SKU at a location.
type stockKey struct{ location, sku string }

// chaosStock is the stock the run starts with, over the demo's (which is sized for
// a handful of orders): plenty everywhere, none of skuNotInHamburg in Hamburg (so
// Hamburg orders with it are store transfers) and one piece of skuLimited at the
// distribution centre (so an order of two is short).
func chaosStock() map[stockKey]int {
	out := map[stockKey]int{}
	for _, d := range postgres.DemoSKUs() {
		out[stockKey{locBerlin, d.SKU}] = 1000
		out[stockKey{locHamburg, d.SKU}] = 1000
		out[stockKey{locDC, d.SKU}] = 5000
	}
	out[stockKey{locHamburg, skuNotInHamburg}] = 0
	out[stockKey{locDC, skuLimited}] = 1
	return out
}

// seedPlan sets the run's stock (through the store's own SetStock, as an inventory
// feed would), creates the counter staff tokens the plan needs and takes the
// snapshot of the stock that the stock invariant starts from.
func (st *stack) seedPlan(ctx context.Context, plans []*orderPlan) error {
	for k, qty := range chaosStock() {
		if err := st.store.SetStock(ctx, k.location, k.sku, qty); err != nil {
			return fmt.Errorf("seed stock: %w", err)
		}
	}
	created := map[string]bool{}
	for _, p := range plans {
		if p.CounterToken == "" || created[p.CounterToken] {
			continue
		}
		subject := strings.ToLower(strings.ReplaceAll(p.CounterToken, "_", "-"))
		token, err := st.store.CreateToken(ctx, subject, "staff", p.StoreID)
		if err != nil {
			return fmt.Errorf("create token %s: %w", subject, err)
		}
		st.tokens[p.CounterToken] = token
		created[p.CounterToken] = true
	}
	snap, err := readStock(ctx, st.pool)
	if err != nil {
		return err
	}
	st.initialStock = snap
	return nil
}

// readStock reads the stock table.
func readStock(ctx context.Context, q querier) (map[stockKey]int, error) {
	rows, err := q.Query(ctx, `select location_id, sku, quantity from stock`)
	if err != nil {
		return nil, fmt.Errorf("read stock: %w", err)
	}
	out := map[stockKey]int{}
	var k stockKey
	var qty int
	_, err = pgx.ForEachRow(rows, []any{&k.location, &k.sku, &qty}, func() error {
		out[k] = qty
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read stock: %w", err)
	}
	return out, nil
}

// querier is what the suite reads PostgreSQL with (a pool).
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}
