package postgres

import (
	"context"
	"fmt"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// CheckoutFacts answers a checkout's lookups in one query, so that a checkout
// makes one round trip before it writes: the pickup store (when q.StoreID is
// set), the SKUs no location has ever stocked (no stock row anywhere, not even
// with quantity 0; in the order given), and the order's stage in the projection
// if it was placed before. The checkout refuses unknown SKUs with a 400 before it
// starts a workflow: an order for an article that does not exist is the caller's
// mistake, while a known article that is out of stock is a business outcome (the
// order is rejected and its ID used up).
func (s *Store) CheckoutFacts(ctx context.Context, q records.CheckoutLookup) (records.CheckoutFacts, error) {
	var kind, name, stage *string
	var facts records.CheckoutFacts
	skus := q.SKUs
	if skus == nil {
		skus = []string{}
	}
	err := s.pool.QueryRow(ctx, `
		select s.kind, s.name,
			array(select q.sku from unnest($2::text[]) with ordinality as q(sku, n)
				where not exists (select 1 from stock where stock.sku = q.sku)
				order by q.n),
			(select o.stage from orders o where o.order_id = $3)
		from (values (1)) as one (x) left join stores s on s.id = $1`,
		q.StoreID, skus, q.OrderID,
	).Scan(&kind, &name, &facts.UnknownSKUs, &stage)
	if err != nil {
		return records.CheckoutFacts{}, fmt.Errorf("look up checkout of order %s (store %q, %d SKUs): %w", q.OrderID, q.StoreID, len(q.SKUs), err)
	}
	if kind != nil {
		facts.Store = &activities.Location{ID: q.StoreID, Kind: activities.LocationKind(*kind), Name: *name}
	}
	if len(facts.UnknownSKUs) == 0 {
		facts.UnknownSKUs = nil
	}
	if stage != nil {
		facts.PlacedStage = domain.Stage(*stage)
	}
	return facts, nil
}
