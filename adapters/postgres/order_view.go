package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// The order's view in the projection (migration 012): what GET /v1/orders/{id}
// shows, written by the order's own activities with each stage and journey entry,
// so that reading an order costs no Temporal Action.

// queueStageView queues the update of the view's fields that go with a stage
// (money, lines, the parcel's label, the pickup code sent) when the stage change
// at is the row's latest. It runs after the upsert of RecordStage, which moved updated_at to at
// unless the change is older than the row (a stale retry): then nothing changes.
func queueStageView(b *pgx.Batch, orderID string, at time.Time, v activities.OrderView) {
	lines := v.Lines
	if lines == nil {
		lines = []activities.LineView{} // never null: null means "no view yet"
	}
	var sh activities.ShipmentView
	if v.Shipment != nil {
		sh = *v.Shipment
	}
	b.Queue(`
		update orders set captured = $3, refunded = $4, lines = $5, shipment_carrier = $6, shipment_service = $7,
			shipment_tracking_code = $8, shipment_tracking_url = $9, pickup_code_issued = $10
		where order_id = $1 and updated_at <= $2`,
		orderID, at, v.Captured, v.Refunded, lines, sh.Carrier, sh.Service, sh.TrackingCode, sh.TrackingURL, v.PickupCodeIssued)
}

// queueLiveView queues the update of the view's live fields (attention, problem,
// handover lock, carrier status) unless the row holds a newer snapshot (a higher view_seq).
func queueLiveView(b *pgx.Batch, orderID string, v activities.OrderView) {
	var problem any // SQL null while no step gave up
	if v.Problem != nil {
		problem = v.Problem
	}
	status := ""
	if v.Shipment != nil {
		status = v.Shipment.Status
	}
	b.Queue(`
		update orders set needs_attention = $3, attention_reason = $4, problem = $5, pickup_locked = $6,
			shipment_status = $7, view_seq = $2
		where order_id = $1 and view_seq <= $2`,
		orderID, v.Seq, v.NeedsAttention, v.AttentionReason, problem, v.PickupLocked, status)
}

// OrderDetail returns everything the projection holds about an order, read in one
// snapshot: its row with the view (View nil when no stage has written one since
// migration 012), the wrong pickup codes counted, and its journey with each
// entry's stage. An unknown order is an error wrapping ErrNotFound.
func (s *Store) OrderDetail(ctx context.Context, orderID string) (records.OrderDetail, error) {
	var d records.OrderDetail
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := scanOrderDetail(tx.QueryRow(ctx, `
			select o.order_id, o.customer_id, o.method, o.store_id, o.location_id, o.total, o.currency, o.placed_at,
				o.stage, o.needs_attention, o.attention_reason, o.updated_at, o.promised_ready_at, o.pickup_deadline,
				o.captured, o.refunded, o.lines, o.shipment_carrier, o.shipment_service, o.shipment_tracking_code,
				o.shipment_tracking_url, o.shipment_status, o.pickup_code_issued, o.pickup_locked, o.problem, o.view_seq,
				coalesce(a.failed, 0)
			from orders o left join pickup_attempts a on a.order_id = o.order_id
			where o.order_id = $1`, orderID), &d); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			select order_id, kind, entry_key, stage, detail, actor, at from order_journey
			where order_id = $1 order by at, id`, orderID)
		if err != nil {
			return err
		}
		d.Journey, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (activities.JourneyEntry, error) {
			var e activities.JourneyEntry
			var stage string
			err := row.Scan(&e.OrderID, &e.Kind, &e.Key, &stage, &e.Detail, &e.Actor, &e.At)
			e.Stage = domain.Stage(stage)
			return e, err
		})
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return records.OrderDetail{}, fmt.Errorf("order %s: %w", orderID, activities.ErrNotFound)
	}
	if err != nil {
		return records.OrderDetail{}, fmt.Errorf("read order %s: %w", orderID, err)
	}
	return d, nil
}

// scanOrderDetail reads the row of OrderDetail's query into d.
func scanOrderDetail(row pgx.Row, d *records.OrderDetail) error {
	var method, stage string
	var lines []activities.LineView
	var v activities.OrderView
	var sh activities.ShipmentView
	err := row.Scan(&d.OrderID, &d.CustomerID, &method, &d.StoreID, &d.LocationID, &d.Total, &d.Currency, &d.PlacedAt,
		&stage, &d.NeedsAttention, &d.AttentionReason, &d.UpdatedAt, &d.PromisedReadyAt, &d.PickupDeadline,
		&v.Captured, &v.Refunded, &lines, &sh.Carrier, &sh.Service, &sh.TrackingCode,
		&sh.TrackingURL, &sh.Status, &v.PickupCodeIssued, &v.PickupLocked, &v.Problem, &v.Seq,
		&d.WrongPickupCodes)
	if err != nil {
		return err
	}
	d.Method, d.Stage = domain.Method(method), domain.Stage(stage)
	if lines == nil {
		return nil // no stage has written a view yet
	}
	v.Lines, v.NeedsAttention, v.AttentionReason = lines, d.NeedsAttention, d.AttentionReason
	if sh.Carrier != "" || sh.TrackingCode != "" {
		v.Shipment = &sh
	}
	d.View = &v
	return nil
}
