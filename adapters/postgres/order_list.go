package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
	"github.com/jackc/pgx/v5"
)

// ListOrders returns the projection's orders matching f, newest first by
// (placed_at, order_id), at most f.Limit of them. Paging is by keyset (rows after
// f.After), so a page costs the same however deep it is and orders placed
// meanwhile never shift later pages. Each filter has an index (migration 006).
func (s *Store) ListOrders(ctx context.Context, f records.OrderFilter) ([]records.OrderRow, error) {
	// The conditions are built per request, not "($1 = '' or stage = $1)": a
	// generic plan of such a statement could not choose the filter's index.
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.Stage != "" {
		where = append(where, "stage = "+arg(string(f.Stage)))
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
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (records.OrderRow, error) {
		var r records.OrderRow
		var method string
		err := row.Scan(&r.OrderID, &r.CustomerID, &method, &r.StoreID, &r.LocationID, &r.Total, &r.Currency, &r.PlacedAt,
			&r.Stage, &r.NeedsAttention, &r.AttentionReason, &r.UpdatedAt)
		r.Method = domain.Method(method)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	return list, nil
}
