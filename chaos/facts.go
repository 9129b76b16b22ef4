package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/converter"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// facts is what the invariants read after the run: Temporal's view of every
// order, the PostgreSQL tables, and the sandbox providers' ledger.
type facts struct {
	workflows     map[string]workflowFacts // order ID →
	projection    map[string]projectionRow // order ID →
	payments      map[string]paymentRow    // payment ID →
	captures      []captureRow
	refunds       []refundRow
	labels        []labelRow
	voids         map[string]bool // shipment ID → voided
	shipments     []shipmentRow
	purchases     []purchaseRow
	notifications map[string]notificationRow // key →
	outbox        []outboxRow
	reservations  []reservationRow
	pickTasks     []pickTaskRow
	stock         map[stockKey]int
	initialStock  map[stockKey]int
	// ledgerErr says why the sandbox ledger could not be read (its tables are
	// missing before migration 010): the money and label checks then fail.
	ledgerErr error
}

// workflowFacts is Temporal's view of one order: its execution and its status query.
type workflowFacts struct {
	status         enumspb.WorkflowExecutionStatus
	needsAttention *bool  // search attribute NeedsAttention
	stageAttr      string // search attribute OrderStage
	query          *workflows.Status
	describeErr    string
	queryErr       string
}

type projectionRow struct {
	OrderID        string
	Stage          string
	NeedsAttention bool
}

type paymentRow struct {
	PaymentID          string
	Captured, Refunded int64
	Voided             bool
}

type captureRow struct {
	Key, PaymentID string
	Amount         int64
}

type refundRow struct {
	Key, PaymentID string
	Amount         int64
	Reason         string
}

type labelRow struct{ Key, ShipmentID string }

type shipmentRow struct{ OrderID, Purpose, Provider, ShipmentID string }

type purchaseRow struct{ Key, ShipmentID string }

type notificationRow struct {
	Key, OrderID, Touchpoint string
	Channel                  domain.Channel
	Status, Detail           string
	CreatedAt                time.Time
	SentAt                   *time.Time
}

type outboxRow struct {
	ID        int64
	Channel   string
	Key       string
	CreatedAt time.Time
}

type reservationRow struct {
	OrderID, LocationID, SKU     string
	Quantity, Released, Consumed int
}

type pickTaskRow struct{ OrderID, LocationID, Status string }

// gatherFacts reads everything the invariants need.
func gatherFacts(ctx context.Context, st *stack, orders []*orderRun, logger *slog.Logger) (*facts, error) {
	started := time.Now()
	f := &facts{initialStock: st.initialStock, voids: map[string]bool{}, projection: map[string]projectionRow{},
		payments: map[string]paymentRow{}, notifications: map[string]notificationRow{}}
	if err := f.readTables(ctx, st); err != nil {
		return nil, err
	}
	f.workflows = readWorkflows(ctx, st, orders)
	logger.Info("facts gathered", "took", time.Since(started).Round(time.Millisecond))
	return f, nil
}

// readTables reads the tables the invariants compare.
func (f *facts) readTables(ctx context.Context, st *stack) error {
	var err error
	q := st.pool
	proj, err := collect[projectionRow](ctx, q, `select order_id, stage, needs_attention from orders`)
	if err != nil {
		return err
	}
	for _, r := range proj {
		f.projection[r.OrderID] = r
	}
	if f.shipments, err = collect[shipmentRow](ctx, q, `select order_id, purpose, provider, shipment_id from shipments`); err != nil {
		return err
	}
	if f.purchases, err = collect[purchaseRow](ctx, q, `select idempotency_key, shipment_id from carrier_purchases`); err != nil {
		return err
	}
	notes, err := collect[notificationRow](ctx, q, `select key, order_id, touchpoint, channel, status, detail, created_at, sent_at from notifications`)
	if err != nil {
		return err
	}
	for _, n := range notes {
		f.notifications[n.Key] = n
	}
	if f.outbox, err = collect[outboxRow](ctx, q, `select id, channel, notification_key, created_at from sandbox_outbox`); err != nil {
		return err
	}
	if f.reservations, err = collect[reservationRow](ctx, q, `select order_id, location_id, sku, quantity, released, consumed from reservations`); err != nil {
		return err
	}
	if f.pickTasks, err = collect[pickTaskRow](ctx, q, `select order_id, location_id, status from pick_tasks`); err != nil {
		return err
	}
	if f.stock, err = readStock(ctx, q); err != nil {
		return err
	}
	f.ledgerErr = f.readLedger(ctx, st)
	var pgErr *pgconn.PgError
	if f.ledgerErr != nil && !(errors.As(f.ledgerErr, &pgErr) && pgErr.Code == "42P01") {
		return f.ledgerErr // anything but a missing table is the suite's failure
	}
	return nil
}

// readLedger reads the sandbox providers' ledger (migration 010).
func (f *facts) readLedger(ctx context.Context, st *stack) error {
	q := st.pool
	pays, err := collect[paymentRow](ctx, q, `select payment_id, captured, refunded, voided from sandbox_payments`)
	if err != nil {
		return err
	}
	for _, p := range pays {
		f.payments[p.PaymentID] = p
	}
	if f.captures, err = collect[captureRow](ctx, q, `select idempotency_key, payment_id, amount from sandbox_captures`); err != nil {
		return err
	}
	if f.refunds, err = collect[refundRow](ctx, q, `select idempotency_key, payment_id, amount, reason from sandbox_refunds`); err != nil {
		return err
	}
	if f.labels, err = collect[labelRow](ctx, q, `select idempotency_key, shipment_id from sandbox_labels`); err != nil {
		return err
	}
	voids, err := collect[struct{ ShipmentID string }](ctx, q, `select shipment_id from sandbox_label_voids`)
	if err != nil {
		return err
	}
	for _, v := range voids {
		f.voids[v.ShipmentID] = true
	}
	return nil
}

// collect runs a query and scans its rows into T's fields by position.
func collect[T any](ctx context.Context, q querier, sql string) ([]T, error) {
	rows, err := q.Query(ctx, sql)
	if err != nil {
		return nil, fmt.Errorf("query %q: %w", truncate(sql, 60), err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[T])
	if err != nil {
		return nil, fmt.Errorf("read %q: %w", truncate(sql, 60), err)
	}
	return out, nil
}

// readWorkflows describes and queries every order's workflow, a few at a time.
func readWorkflows(ctx context.Context, st *stack, orders []*orderRun) map[string]workflowFacts {
	out := make(map[string]workflowFacts, len(orders))
	var mu sync.Mutex
	var wg sync.WaitGroup
	ids := make(chan string)
	for range 6 {
		wg.Go(func() {
			for id := range ids {
				wf := readWorkflow(ctx, st, id)
				mu.Lock()
				out[id] = wf
				mu.Unlock()
			}
		})
	}
	for _, o := range orders {
		ids <- o.plan.ID
	}
	close(ids)
	wg.Wait()
	return out
}

// readWorkflow describes one order's workflow and asks its status query (which
// replays a closed workflow on the worker).
func readWorkflow(ctx context.Context, st *stack, orderID string) workflowFacts {
	var wf workflowFacts
	dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	resp, err := st.tc.DescribeWorkflowExecution(dctx, workflows.WorkflowID(orderID), "")
	if err != nil {
		wf.describeErr = err.Error()
		return wf
	}
	info := resp.GetWorkflowExecutionInfo()
	wf.status = info.GetStatus()
	dc := converter.GetDefaultDataConverter()
	fields := info.GetSearchAttributes().GetIndexedFields()
	if p, ok := fields[workflows.AttrNeedsAttention]; ok {
		var b bool
		if dc.FromPayload(p, &b) == nil {
			wf.needsAttention = &b
		}
	}
	if p, ok := fields[workflows.AttrOrderStage]; ok {
		_ = dc.FromPayload(p, &wf.stageAttr) // a keyword; left empty if it does not decode
	}
	qctx, qcancel := context.WithTimeout(ctx, 30*time.Second)
	defer qcancel()
	v, err := st.tc.QueryWorkflow(qctx, workflows.WorkflowID(orderID), "", workflows.QueryStatus)
	if err != nil {
		wf.queryErr = err.Error()
		return wf
	}
	var s workflows.Status
	if err := v.Get(&s); err != nil {
		wf.queryErr = err.Error()
		return wf
	}
	wf.query = &s
	return wf
}
