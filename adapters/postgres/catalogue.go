package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// UnknownSKUs returns those of skus that no location has ever stocked (no stock
// row anywhere, not even with quantity 0), in the order given, in one query.
// The checkout refuses them with a 400 before it starts a workflow: an order
// for an article that does not exist is the caller's mistake, while a known
// article that is out of stock is a business outcome (the order is rejected
// and its ID used up).
func (s *Store) UnknownSKUs(ctx context.Context, skus []string) ([]string, error) {
	if len(skus) == 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `
		select q.sku from unnest($1::text[]) with ordinality as q(sku, n)
		where not exists (select 1 from stock where stock.sku = q.sku)
		order by q.n`, skus)
	if err != nil {
		return nil, fmt.Errorf("look up %d SKUs: %w", len(skus), err)
	}
	unknown, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("look up %d SKUs: %w", len(skus), err)
	}
	return unknown, nil
}
