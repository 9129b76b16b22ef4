package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/jackc/pgx/v5"
)

// Stages the store console lists. They mirror workflows.Stage values, which this
// package does not import (adapters sit below workflows).
const (
	stagePicking          = "picking"
	stageInTransitToStore = "in_transit_to_store"
	stageReadyForPickup   = "ready_for_pickup"
)

// OrderRow is an order's row in the orders projection: what lists, the store
// console and support read without asking Temporal.
type OrderRow struct {
	activities.OrderSummary
	Stage          string    `json:"stage"`
	NeedsAttention bool      `json:"needs_attention"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// OrderRow returns the order's projection row, or an error wrapping ErrNotFound.
func (s *Store) OrderRow(ctx context.Context, orderID string) (OrderRow, error) {
	var r OrderRow
	var method string
	err := s.pool.QueryRow(ctx, `
		select order_id, customer_id, method, store_id, location_id, total, currency, placed_at,
			stage, needs_attention, updated_at
		from orders where order_id = $1`, orderID,
	).Scan(&r.OrderID, &r.CustomerID, &method, &r.StoreID, &r.LocationID, &r.Total, &r.Currency, &r.PlacedAt,
		&r.Stage, &r.NeedsAttention, &r.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return OrderRow{}, fmt.Errorf("order %s: %w", orderID, activities.ErrNotFound)
	}
	if err != nil {
		return OrderRow{}, fmt.Errorf("read order %s: %w", orderID, err)
	}
	r.Method = activities.Method(method)
	return r, nil
}

// SetNeedsAttention flags (or clears) an order for support, as a missed picking
// SLA or a delivery exception does. It is idempotent; an order without a
// projection row is an error wrapping ErrNotFound.
func (s *Store) SetNeedsAttention(ctx context.Context, orderID string, needs bool) error {
	tag, err := s.pool.Exec(ctx, `update orders set needs_attention = $2 where order_id = $1`, orderID, needs)
	if err != nil {
		return fmt.Errorf("set needs attention of order %s: %w", orderID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("order %s: %w", orderID, activities.ErrNotFound)
	}
	return nil
}

// StoreWork is a store's work list for the store console: orders to pick there,
// parcels on their way to it, and orders waiting for their customer.
type StoreWork struct {
	StoreID        string      `json:"store_id"`
	Picking        []WorkOrder `json:"picking"`
	Arriving       []WorkOrder `json:"arriving"`
	ReadyForPickup []WorkOrder `json:"ready_for_pickup"`
}

// WorkOrder is one order on a store's work list. It carries no customer data: the
// console shows what to pick and hand over, and the pickup code proves the customer.
type WorkOrder struct {
	OrderID string            `json:"order_id"`
	Stage   string            `json:"stage"`
	Method  activities.Method `json:"method"`
	Lines   []activities.Line `json:"lines"`
	// DueAt is when picking should be done; nil when the order has no pick task.
	DueAt *time.Time `json:"due_at,omitempty"`
	// TrackingCode is the store-transfer parcel's, so staff can match a scan.
	TrackingCode   string    `json:"tracking_code,omitempty"`
	NeedsAttention bool      `json:"needs_attention"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// StoreWork returns the store's work list: orders at stage picking whose pick task
// is at the store, and ship-to-store orders for the store that are in transit or
// ready for pickup, oldest first. An unknown store is an error wrapping
// ErrUnknownLocation.
func (s *Store) StoreWork(ctx context.Context, storeID string) (StoreWork, error) {
	if _, err := s.Location(ctx, storeID); err != nil {
		return StoreWork{}, fmt.Errorf("store work of %s: %w", storeID, err)
	}
	rows, err := s.pool.Query(ctx, `
		select o.order_id, o.stage, o.method, coalesce(p.lines, '[]'::jsonb), p.due_at,
			coalesce(sh.tracking_code, ''), o.needs_attention, o.updated_at
		from orders o
		left join pick_tasks p on p.order_id = o.order_id
		left join shipments sh on sh.order_id = o.order_id and sh.purpose = $2
		where (o.stage = $3 and p.location_id = $1)
			or (o.stage in ($4, $5) and o.store_id = $1)
		order by coalesce(p.due_at, o.updated_at), o.order_id`,
		storeID, activities.PurposeStoreTransfer, stagePicking, stageInTransitToStore, stageReadyForPickup)
	if err != nil {
		return StoreWork{}, fmt.Errorf("store work of %s: %w", storeID, err)
	}
	orders, err := pgx.CollectRows(rows, pgx.RowToStructByPos[WorkOrder])
	if err != nil {
		return StoreWork{}, fmt.Errorf("store work of %s: %w", storeID, err)
	}
	w := StoreWork{StoreID: storeID, Picking: []WorkOrder{}, Arriving: []WorkOrder{}, ReadyForPickup: []WorkOrder{}}
	for _, o := range orders {
		switch o.Stage {
		case stagePicking:
			w.Picking = append(w.Picking, o)
		case stageInTransitToStore:
			w.Arriving = append(w.Arriving, o)
		case stageReadyForPickup:
			w.ReadyForPickup = append(w.ReadyForPickup, o)
		}
	}
	return w, nil
}
