package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

// orderTables are the application tables that keep rows per order, each with
// an order_id column. The sandbox providers' own tables are left out (a live
// system has none), and so are the live-only carrier_purchases and
// webhook_events, which the sandbox does not write.
func orderTables() []string {
	return []string{"orders", "order_journey", "notifications", "payment_orders", "pick_tasks",
		"reservations", "shipments", "pickup_attempts", "pickup_token_attempts"}
}

// orderRows counts the rows the orders left in PostgreSQL and their stored size
// (pg_column_size of each row: heap tuples as stored, compressed or TOASTed
// values at their stored size, no indexes).
func orderRows(ctx context.Context, pool *pgxpool.Pool, ids []string) (rows, bytes int64, err error) {
	var parts []string
	for _, t := range orderTables() {
		parts = append(parts, fmt.Sprintf("select count(*) as n, coalesce(sum(pg_column_size(t.*)), 0) as b from %s t where order_id = any($1)", t))
	}
	q := "select coalesce(sum(n), 0)::bigint, coalesce(sum(b), 0)::bigint from (" + strings.Join(parts, " union all ") + ") s"
	if err := pool.QueryRow(ctx, q, ids).Scan(&rows, &bytes); err != nil {
		return 0, 0, fmt.Errorf("count the orders' rows: %w", err)
	}
	return rows, bytes, nil
}
