package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/jackc/pgx/v5"
)

// Purchase returns the carrier shipment recorded for a label's idempotency key, so
// that the EasyPost adapter resumes that shipment instead of creating and buying
// another. found is false when nothing was recorded for the key.
func (s *Store) Purchase(ctx context.Context, key string) (shipmentID string, found bool, err error) {
	err = s.pool.QueryRow(ctx,
		`select shipment_id from carrier_purchases where idempotency_key = $1`, key,
	).Scan(&shipmentID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read carrier purchase %s: %w", key, err)
	}
	return shipmentID, true, nil
}

// RecordPurchase records the shipment created for an idempotency key before it is
// bought. It is idempotent and keeps the first shipment recorded for the key: a
// second shipment (from an attempt racing the first, or one that crashed before
// recording) is never bought, because the adapter buys only what Purchase returns.
func (s *Store) RecordPurchase(ctx context.Context, key, shipmentID string) error {
	if key == "" || shipmentID == "" {
		return fmt.Errorf("record carrier purchase %q -> %q: %w", key, shipmentID, activities.ErrInvalidRequest)
	}
	_, err := s.pool.Exec(ctx, `
		insert into carrier_purchases (idempotency_key, shipment_id) values ($1, $2)
		on conflict (idempotency_key) do nothing`, key, shipmentID)
	if err != nil {
		return fmt.Errorf("record carrier purchase %s: %w", key, err)
	}
	return nil
}
