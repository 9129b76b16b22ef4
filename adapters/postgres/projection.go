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
			stage, needs_attention, attention_reason, updated_at
		from orders where order_id = $1`, orderID,
	).Scan(&r.OrderID, &r.CustomerID, &method, &r.StoreID, &r.LocationID, &r.Total, &r.Currency, &r.PlacedAt,
		&r.Stage, &r.NeedsAttention, &r.AttentionReason, &r.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return OrderRow{}, fmt.Errorf("order %s: %w", orderID, activities.ErrNotFound)
	}
	if err != nil {
		return OrderRow{}, fmt.Errorf("read order %s: %w", orderID, err)
	}
	r.Method = activities.Method(method)
	return r, nil
}

// StoreWork is a store's work list for the store console: orders to pick there,
// parcels on their way to it, orders waiting for their customer, and those among
// them whose pickup deadline has passed (Overdue: the order is about to go back,
// so it is not in ReadyForPickup too).
type StoreWork struct {
	StoreID        string      `json:"store_id"`
	Picking        []WorkOrder `json:"picking"`
	Arriving       []WorkOrder `json:"arriving"`
	ReadyForPickup []WorkOrder `json:"ready_for_pickup"`
	Overdue        []WorkOrder `json:"overdue"`
	// AsOf is the database's time the list was read at; Overdue is judged by it.
	AsOf time.Time `json:"as_of"`
}

// WorkOrder is one order on a store's work list. Only orders waiting for their
// customer carry the customer's name: staff search by it at the counter, and the
// pickup code proves the customer.
type WorkOrder struct {
	OrderID string            `json:"order_id"`
	Stage   string            `json:"stage"`
	Method  activities.Method `json:"method"`
	// Lines are the ordered lines; for an order waiting for its customer, what was
	// picked (a short pick hands over less).
	Lines []activities.Line `json:"lines"`
	// DueAt is when picking should be done; nil when the order has no pick task.
	DueAt *time.Time `json:"due_at,omitempty"`
	// ExpectedAt is when a parcel on its way is expected: the ready time promised
	// at checkout.
	ExpectedAt *time.Time `json:"expected_at,omitempty"`
	// PickStartedBy and PickStartedAt say who started an open pick (start-pick).
	PickStartedBy string     `json:"pick_started_by,omitempty"`
	PickStartedAt *time.Time `json:"pick_started_at,omitempty"`
	// TrackingCode is the store-transfer parcel's, so staff can match a scan.
	TrackingCode   string    `json:"tracking_code,omitempty"`
	NeedsAttention bool      `json:"needs_attention"`
	UpdatedAt      time.Time `json:"updated_at"`

	// CustomerName, PickupDeadline and FailedPickups are set for orders waiting
	// for their customer only.
	CustomerName   string     `json:"customer_name,omitempty"`
	PickupDeadline *time.Time `json:"pickup_deadline,omitempty"`
	// FailedPickups is the count of wrong pickup codes; the API turns it into the
	// attempts left, as it owns the limit.
	FailedPickups int `json:"-"`
	// AttemptsLeft and Locked are filled by the API from FailedPickups.
	AttemptsLeft *int  `json:"attempts_left,omitempty"`
	Locked       *bool `json:"locked,omitempty"`
}

// StoreWork returns the store's work list: orders at stage picking whose pick task
// is at the store, and ship-to-store orders for the store that are in transit or
// ready for pickup; each list in the order staff work it (pick by, expected,
// pickup deadline). An unknown store is an error wrapping ErrUnknownLocation.
func (s *Store) StoreWork(ctx context.Context, storeID string) (StoreWork, error) {
	if _, err := s.Location(ctx, storeID); err != nil {
		return StoreWork{}, fmt.Errorf("store work of %s: %w", storeID, err)
	}
	w := StoreWork{StoreID: storeID, Picking: []WorkOrder{}, Arriving: []WorkOrder{}, ReadyForPickup: []WorkOrder{}, Overdue: []WorkOrder{}}
	if err := s.pool.QueryRow(ctx, `select now()`).Scan(&w.AsOf); err != nil {
		return StoreWork{}, fmt.Errorf("store work of %s: %w", storeID, err)
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
		storeID, activities.PurposeStoreTransfer, stagePicking, stageInTransitToStore, stageReadyForPickup)
	if err != nil {
		return StoreWork{}, fmt.Errorf("store work of %s: %w", storeID, err)
	}
	orders, err := pgx.CollectRows(rows, scanWorkOrder)
	if err != nil {
		return StoreWork{}, fmt.Errorf("store work of %s: %w", storeID, err)
	}
	for _, o := range orders {
		switch o.Stage {
		case stagePicking:
			w.Picking = append(w.Picking, o)
		case stageInTransitToStore:
			w.Arriving = append(w.Arriving, o)
		case stageReadyForPickup:
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
func scanWorkOrder(row pgx.CollectableRow) (WorkOrder, error) {
	var o WorkOrder
	var method string
	var picked []activities.PickedLine
	err := row.Scan(&o.OrderID, &o.Stage, &method, &o.Lines, &picked, &o.DueAt, &o.ExpectedAt,
		&o.TrackingCode, &o.NeedsAttention, &o.UpdatedAt, &o.CustomerName, &o.PickupDeadline, &o.FailedPickups,
		&o.PickStartedBy, &o.PickStartedAt)
	if err != nil {
		return WorkOrder{}, err
	}
	o.Method = activities.Method(method)
	switch o.Stage {
	case stagePicking:
		o.ExpectedAt = nil
	case stageInTransitToStore:
		o.DueAt = nil
	}
	if o.Stage != stagePicking {
		o.PickStartedBy, o.PickStartedAt = "", nil
	}
	if o.Stage != stageReadyForPickup {
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
func pickedLines(ordered []activities.Line, picked []activities.PickedLine) []activities.Line {
	qty := make(map[string]int, len(picked))
	for _, p := range picked {
		qty[p.SKU] += p.Quantity
	}
	out := make([]activities.Line, 0, len(ordered))
	for _, l := range ordered {
		if n := min(qty[l.SKU], l.Quantity); n > 0 {
			l.Quantity = n
			out = append(out, l)
		}
	}
	return out
}
