package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/jackc/pgx/v5"
)

// OrderFilter selects orders from the projection for support's order list. Empty
// strings and a nil NeedsAttention match every order.
type OrderFilter struct {
	Stage string
	// StoreID matches orders picked up at the store or fulfilled from it (store_id
	// or location_id): the orders a staff token of that store may read.
	StoreID        string
	CustomerID     string
	NeedsAttention *bool
	// After continues a list after this order (exclusive); nil starts with the newest.
	After *OrderCursor
	// Limit is the most rows returned; the caller bounds it.
	Limit int
}

// OrderCursor is a position in the order list: the sort key of the last order of
// a page.
type OrderCursor struct {
	PlacedAt time.Time `json:"placed_at"`
	OrderID  string    `json:"order_id"`
}

// ListOrders returns the projection's orders matching f, newest first by
// (placed_at, order_id), at most f.Limit of them. Paging is by keyset (rows after
// f.After), so a page costs the same however deep it is and orders placed
// meanwhile never shift later pages. Each filter has an index (migration 006).
func (s *Store) ListOrders(ctx context.Context, f OrderFilter) ([]OrderRow, error) {
	// The conditions are built per request, not "($1 = '' or stage = $1)": a
	// generic plan of such a statement could not choose the filter's index.
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.Stage != "" {
		where = append(where, "stage = "+arg(f.Stage))
	}
	if f.StoreID != "" {
		p := arg(f.StoreID)
		where = append(where, "(store_id = "+p+" or location_id = "+p+")")
	}
	if f.CustomerID != "" {
		where = append(where, "customer_id = "+arg(f.CustomerID))
	}
	if f.NeedsAttention != nil {
		if *f.NeedsAttention {
			where = append(where, "needs_attention") // the partial index's predicate
		} else {
			where = append(where, "not needs_attention")
		}
	}
	if f.After != nil {
		where = append(where, "(placed_at, order_id) < ("+arg(f.After.PlacedAt)+", "+arg(f.After.OrderID)+")")
	}
	query := `select order_id, customer_id, method, store_id, location_id, total, currency, placed_at,
			stage, needs_attention, attention_reason, updated_at
		from orders`
	if len(where) > 0 {
		query += " where " + strings.Join(where, " and ")
	}
	query += " order by placed_at desc, order_id desc limit " + arg(f.Limit)

	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (OrderRow, error) {
		var r OrderRow
		var method string
		err := row.Scan(&r.OrderID, &r.CustomerID, &method, &r.StoreID, &r.LocationID, &r.Total, &r.Currency, &r.PlacedAt,
			&r.Stage, &r.NeedsAttention, &r.AttentionReason, &r.UpdatedAt)
		r.Method = activities.Method(method)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	return list, nil
}
