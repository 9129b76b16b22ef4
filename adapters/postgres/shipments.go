package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
	"github.com/jackc/pgx/v5"
)

// SaveShipment records a bought label, once per (order, purpose). A repeat replaces
// the label details (the carrier returns the same label for the same idempotency
// key) but keeps the row's creation time and tracking progress.
func (s *Store) SaveShipment(ctx context.Context, sh activities.Shipment) error {
	l := sh.Label
	_, err := s.pool.Exec(ctx, `
		insert into shipments (order_id, purpose, provider, shipment_id, carrier, service, tracking_code, tracking_url, label_url)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		on conflict (order_id, purpose) do update set provider = excluded.provider,
			shipment_id = excluded.shipment_id, carrier = excluded.carrier, service = excluded.service,
			tracking_code = excluded.tracking_code, tracking_url = excluded.tracking_url, label_url = excluded.label_url`,
		sh.OrderID, sh.Purpose, sh.Provider, l.ShipmentID, l.Carrier, l.Service, l.TrackingCode, l.TrackingURL, l.LabelURL)
	if err != nil {
		return fmt.Errorf("save shipment %s of order %s: %w", sh.Purpose, sh.OrderID, err)
	}
	return nil
}

// Shipment returns the label bought for an order and purpose, or an error wrapping
// ErrNotFound.
func (s *Store) Shipment(ctx context.Context, orderID, purpose string) (activities.Shipment, error) {
	sh := activities.Shipment{OrderID: orderID, Purpose: purpose}
	l := &sh.Label
	err := s.pool.QueryRow(ctx, `
		select provider, shipment_id, carrier, service, tracking_code, tracking_url, label_url
		from shipments where order_id = $1 and purpose = $2`, orderID, purpose,
	).Scan(&sh.Provider, &l.ShipmentID, &l.Carrier, &l.Service, &l.TrackingCode, &l.TrackingURL, &l.LabelURL)
	if errors.Is(err, pgx.ErrNoRows) {
		return activities.Shipment{}, fmt.Errorf("shipment %s of order %s: %w", purpose, orderID, activities.ErrNotFound)
	}
	if err != nil {
		return activities.Shipment{}, fmt.Errorf("read shipment %s of order %s: %w", purpose, orderID, err)
	}
	return sh, nil
}

// ShipmentProgress is a shipment the sandbox carrier still has to move along: its
// simulated tracking advances from CreatedAt and LastEvent.
type ShipmentProgress struct {
	OrderID      string    `json:"order_id"`
	Purpose      string    `json:"purpose"`
	TrackingCode string    `json:"tracking_code"`
	CreatedAt    time.Time `json:"created_at"`
	LastEvent    string    `json:"last_event"`
}

// ActiveShipments lists the provider's shipments not yet delivered, oldest first.
func (s *Store) ActiveShipments(ctx context.Context, provider string) ([]ShipmentProgress, error) {
	rows, err := s.pool.Query(ctx, `
		select order_id, purpose, tracking_code, created_at, last_event from shipments
		where provider = $1 and last_event <> 'delivered'
		order by created_at, order_id, purpose`, provider)
	if err != nil {
		return nil, fmt.Errorf("list active shipments of %s: %w", provider, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[ShipmentProgress])
	if err != nil {
		return nil, fmt.Errorf("list active shipments of %s: %w", provider, err)
	}
	return out, nil
}

// MarkTrackingEvent records the latest carrier status of a shipment. Events arrive
// at least once and out of order, so an event older than the one recorded changes
// nothing. An unknown shipment is an error wrapping ErrNotFound.
func (s *Store) MarkTrackingEvent(ctx context.Context, orderID, purpose, status string, at time.Time) error {
	var found bool
	err := s.pool.QueryRow(ctx, `
		with marked as (
			update shipments set last_event = $3, last_event_at = $4
			where order_id = $1 and purpose = $2 and (last_event_at is null or last_event_at <= $4)
			returning 1
		)
		select exists (select 1 from marked) or exists (select 1 from shipments where order_id = $1 and purpose = $2)`,
		orderID, purpose, status, at).Scan(&found)
	if err != nil {
		return fmt.Errorf("mark tracking event %s of shipment %s of order %s: %w", status, purpose, orderID, err)
	}
	if !found {
		return fmt.Errorf("shipment %s of order %s: %w", purpose, orderID, activities.ErrNotFound)
	}
	return nil
}

// Tracking looks a parcel up by its tracking code, or returns an error wrapping
// ErrNotFound.
func (s *Store) Tracking(ctx context.Context, code string) (records.TrackingView, error) {
	v := records.TrackingView{TrackingCode: code}
	err := s.pool.QueryRow(ctx, `
		select carrier, service, coalesce(nullif(last_event, ''), 'label_created'), last_event_at
		from shipments where tracking_code = $1`, code,
	).Scan(&v.Carrier, &v.Service, &v.Status, &v.StatusAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return records.TrackingView{}, fmt.Errorf("tracking %s: %w", code, activities.ErrNotFound)
	}
	if err != nil {
		return records.TrackingView{}, fmt.Errorf("read tracking %s: %w", code, err)
	}
	return v, nil
}
