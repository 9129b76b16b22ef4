package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
	"github.com/jackc/pgx/v5"
)

// OrderRow returns the order's projection row, or an error wrapping ErrNotFound.
func (s *Store) OrderRow(ctx context.Context, orderID string) (records.OrderRow, error) {
	var r records.OrderRow
	var method string
	err := s.pool.QueryRow(ctx, `
		select order_id, customer_id, method, store_id, location_id, total, currency, placed_at,
			stage, needs_attention, attention_reason, updated_at
		from orders where order_id = $1`, orderID,
	).Scan(&r.OrderID, &r.CustomerID, &method, &r.StoreID, &r.LocationID, &r.Total, &r.Currency, &r.PlacedAt,
		&r.Stage, &r.NeedsAttention, &r.AttentionReason, &r.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return records.OrderRow{}, fmt.Errorf("order %s: %w", orderID, activities.ErrNotFound)
	}
	if err != nil {
		return records.OrderRow{}, fmt.Errorf("read order %s: %w", orderID, err)
	}
	r.Method = domain.Method(method)
	return r, nil
}

// StoreWork returns the store's work list: orders at stage picking whose pick task
// is at the store, and ship-to-store orders for the store that are in transit or
// ready for pickup; each list in the order staff work it (pick by, expected,
// pickup deadline). An unknown store is an error wrapping ErrUnknownLocation.
func (s *Store) StoreWork(ctx context.Context, storeID string) (records.StoreWork, error) {
	if _, err := s.Location(ctx, storeID); err != nil {
		return records.StoreWork{}, fmt.Errorf("store work of %s: %w", storeID, err)
	}
	w := records.StoreWork{StoreID: storeID, Picking: []records.WorkOrder{}, Arriving: []records.WorkOrder{}, ReadyForPickup: []records.WorkOrder{}, Overdue: []records.WorkOrder{}}
	if err := s.pool.QueryRow(ctx, `select now()`).Scan(&w.AsOf); err != nil {
		return records.StoreWork{}, fmt.Errorf("store work of %s: %w", storeID, err)
	}
	rows, err := s.pool.Query(ctx, `
		select o.order_id, o.stage, o.method, coalesce(p.lines, '[]'::jsonb), p.picked, p.due_at, o.promised_ready_at,
			coalesce(sh.tracking_code, ''), o.needs_attention, o.updated_at,
			o.customer_name, o.pickup_deadline, coalesce(a.failed, 0), coalesce(p.started_by, ''), p.started_at
		from orders o
		left join pick_tasks p on p.order_id = o.order_id
		left join shipments sh on sh.order_id = o.order_id and sh.purpose = $2
		left join pickup_attempts a on a.order_id = o.order_id and o.stage = $5
		where (o.stage = $3 and p.location_id = $1)
			or (o.stage in ($4, $5) and o.store_id = $1)
		order by case o.stage when $3 then p.due_at when $4 then o.promised_ready_at else o.pickup_deadline end nulls last,
			o.updated_at, o.order_id`,
		storeID, activities.PurposeStoreTransfer, domain.StagePicking, domain.StageInTransitToStore, domain.StageReadyForPickup)
	if err != nil {
		return records.StoreWork{}, fmt.Errorf("store work of %s: %w", storeID, err)
	}
	orders, err := pgx.CollectRows(rows, scanWorkOrder)
	if err != nil {
		return records.StoreWork{}, fmt.Errorf("store work of %s: %w", storeID, err)
	}
	for _, o := range orders {
		switch o.Stage {
		case domain.StagePicking:
			w.Picking = append(w.Picking, o)
		case domain.StageInTransitToStore:
			w.Arriving = append(w.Arriving, o)
		case domain.StageReadyForPickup:
			if o.PickupDeadline != nil && !o.PickupDeadline.After(w.AsOf) {
				w.Overdue = append(w.Overdue, o)
			} else {
				w.ReadyForPickup = append(w.ReadyForPickup, o)
			}
		}
	}
	return w, nil
}

// scanWorkOrder reads one row of the StoreWork query. Only orders waiting for
// their customer keep the customer's name and pickup state, and their lines say
// what was picked.
func scanWorkOrder(row pgx.CollectableRow) (records.WorkOrder, error) {
	var o records.WorkOrder
	var method string
	var picked []domain.PickedLine
	err := row.Scan(&o.OrderID, &o.Stage, &method, &o.Lines, &picked, &o.DueAt, &o.ExpectedAt,
		&o.TrackingCode, &o.NeedsAttention, &o.UpdatedAt, &o.CustomerName, &o.PickupDeadline, &o.FailedPickups,
		&o.PickStartedBy, &o.PickStartedAt)
	if err != nil {
		return records.WorkOrder{}, err
	}
	o.Method = domain.Method(method)
	switch o.Stage {
	case domain.StagePicking:
		o.ExpectedAt = nil
	case domain.StageInTransitToStore:
		o.DueAt = nil
	}
	if o.Stage != domain.StagePicking {
		o.PickStartedBy, o.PickStartedAt = "", nil
	}
	if o.Stage != domain.StageReadyForPickup {
		o.CustomerName, o.PickupDeadline, o.FailedPickups = "", nil, 0
		return o, nil
	}
	o.DueAt, o.ExpectedAt = nil, nil
	if picked != nil {
		o.Lines = pickedLines(o.Lines, picked)
	}
	return o, nil
}

// pickedLines is the ordered lines with the picked quantities, without the lines
// of which nothing was picked.
func pickedLines(ordered []domain.Line, picked []domain.PickedLine) []domain.Line {
	qty := make(map[string]int, len(picked))
	for _, p := range picked {
		qty[p.SKU] += p.Quantity
	}
	out := make([]domain.Line, 0, len(ordered))
	for _, l := range ordered {
		if n := min(qty[l.SKU], l.Quantity); n > 0 {
			l.Quantity = n
			out = append(out, l)
		}
	}
	return out
}
