package main

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// path is one way an order goes, driven over the API as the people involved
// would; env is the policy its services need on top of the bench's.
type path struct {
	name  string
	ns    string // its own namespace: the action counter is per namespace
	env   []string
	setup func(ctx context.Context, b *bench) error
	run   func(ctx context.Context, s *shop, id string) error
}

// paths are the order's paths whose cost the table shows.
func paths() []path {
	return []path{
		{name: "in-store pick", ns: "pathinstore", run: func(ctx context.Context, s *shop, id string) error {
			return shipToStore(ctx, s, id)
		}},
		{name: "transfer", ns: "pathtransfer",
			setup: func(ctx context.Context, b *bench) error {
				// Not at the store, so the distribution centre picks and ships it there;
				// the sandbox carrier reports the arrival.
				return b.tb.Store.SetStock(ctx, "berlin-mitte", "WATCH-001", 0)
			},
			run: func(ctx context.Context, s *shop, id string) error {
				if err := s.place(ctx, id, domain.MethodShipToStore); err != nil {
					return err
				}
				if err := s.pickAll(ctx, id, "dc-erfurt", "STAFF_TOKEN_DC_ERFURT"); err != nil {
					return err
				}
				return s.handOver(ctx, id)
			}},
		{name: "home delivery", ns: "pathhome", run: func(ctx context.Context, s *shop, id string) error {
			if err := s.place(ctx, id, domain.MethodHomeDelivery); err != nil {
				return err
			}
			return s.pickAll(ctx, id, "dc-erfurt", "STAFF_TOKEN_DC_ERFURT")
		}},
		{name: "short pick", ns: "pathshort", run: func(ctx context.Context, s *shop, id string) error {
			if err := s.place(ctx, id, domain.MethodShipToStore); err != nil {
				return err
			}
			if err := s.pick(ctx, id, "berlin-mitte", "STAFF_TOKEN_BERLIN_MITTE", 1, 1); err != nil {
				return err
			}
			return s.handOver(ctx, id)
		}},
		{name: "cancel while picking", ns: "pathcancel", run: func(ctx context.Context, s *shop, id string) error {
			if err := s.place(ctx, id, domain.MethodShipToStore); err != nil {
				return err
			}
			if err := s.waitStage(ctx, id, domain.StagePicking); err != nil {
				return err
			}
			return s.cancel(ctx, id)
		}},
		{name: "pickup expired", ns: "pathexpiry", env: []string{"FULFILMENT_PICKUP_WINDOW=3s"},
			run: func(ctx context.Context, s *shop, id string) error {
				if err := s.place(ctx, id, domain.MethodShipToStore); err != nil {
					return err
				}
				return s.pickAll(ctx, id, "berlin-mitte", "STAFF_TOKEN_BERLIN_MITTE")
			}},
	}
}

// shipToStore is the happy path from store stock: checkout, pick at the store,
// handover with the customer's code.
func shipToStore(ctx context.Context, s *shop, id string) error {
	if err := s.place(ctx, id, domain.MethodShipToStore); err != nil {
		return err
	}
	if err := s.pickAll(ctx, id, "berlin-mitte", "STAFF_TOKEN_BERLIN_MITTE"); err != nil {
		return err
	}
	return s.handOver(ctx, id)
}

// pathCost is what one path's orders cost on average.
type pathCost struct {
	name            string
	orders          int
	actionsPerOrder float64
	eventsPerOrder  float64
	historyBytes    float64 // per order, the server's HistorySizeBytes
	pgRows, pgBytes float64 // per order, in the application's tables (orderRows)
}

// measurePath runs cfg.pathOrders orders of the path at once on services of its
// own namespace, waits until every workflow has closed, and divides the
// namespace's Actions and the histories' events by the orders.
func (b *bench) measurePath(ctx context.Context, p path) (pathCost, error) {
	cost := pathCost{name: p.name, orders: b.cfg.pathOrders}
	if p.setup != nil {
		if err := p.setup(ctx, b); err != nil {
			return cost, fmt.Errorf("%s: %w", p.name, err)
		}
		defer func() {
			if err := b.stockUp(context.WithoutCancel(ctx)); err != nil {
				b.logger.Warn("restore stock", "error", err)
			}
		}()
	}
	sv, err := b.services(ctx, p.ns, p.env...)
	if err != nil {
		return cost, fmt.Errorf("%s: %w", p.name, err)
	}
	defer sv.stop(b.logger)
	var mu sync.Mutex
	var events, historyBytes int64
	ids := make([]string, b.cfg.pathOrders)
	g, gctx := errgroup.WithContext(ctx)
	for i := range b.cfg.pathOrders {
		id := fmt.Sprintf("%s-%d", strings.ToUpper(p.ns), i+1)
		ids[i] = id
		g.Go(func() error {
			if err := p.run(gctx, sv.shop, id); err != nil {
				return fmt.Errorf("%s: %w", p.name, err)
			}
			if err := awaitClosed(gctx, sv.client, workflows.WorkflowID(id), b.cfg.patience); err != nil {
				return fmt.Errorf("%s: %w", p.name, err)
			}
			n, size, err := historyLength(gctx, sv.client, workflows.WorkflowID(id))
			if err != nil {
				return fmt.Errorf("%s: %w", p.name, err)
			}
			if i == 0 && b.cfg.showShape {
				shape, err := historyShape(gctx, sv.client, workflows.WorkflowID(id))
				if err != nil {
					return err
				}
				b.logger.Info("history", "path", p.name, "events", strings.Join(shape, " "))
			}
			mu.Lock()
			events += n
			historyBytes += size
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return cost, err
	}
	n, err := settledActions(ctx, b.metrics, b.tb.MetricsURL, p.ns)
	if err != nil {
		return cost, fmt.Errorf("%s: %w", p.name, err)
	}
	rows, bytes, err := orderRows(ctx, b.tb.Pool, ids)
	if err != nil {
		return cost, fmt.Errorf("%s: %w", p.name, err)
	}
	orders := float64(b.cfg.pathOrders)
	cost.actionsPerOrder = float64(n) / orders
	cost.eventsPerOrder = float64(events) / orders
	cost.historyBytes = float64(historyBytes) / orders
	cost.pgRows, cost.pgBytes = float64(rows)/orders, float64(bytes)/orders
	b.logger.Info("path measured", "path", p.name, "orders", cost.orders, "actions_per_order", cost.actionsPerOrder,
		"events_per_order", cost.eventsPerOrder, "history_bytes_per_order", cost.historyBytes,
		"pg_rows_per_order", cost.pgRows, "pg_bytes_per_order", cost.pgBytes)
	return cost, nil
}
