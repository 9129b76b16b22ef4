package main

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"
)

// throughputCell is one concurrency's complete lifecycles per second and the CPU
// each part of the system spent per order meanwhile.
type throughputCell struct {
	concurrency, orders int
	elapsed             time.Duration
	cpuPerOrder         map[string]time.Duration // by part: worker, starter, dev server, PostgreSQL
}

// cpuParts are the parts whose CPU the table shows, in its order.
func cpuParts() []string { return []string{"worker", "starter", "dev server", "PostgreSQL"} }

// perSecond is completed orders per second.
func (c throughputCell) perSecond() float64 { return float64(c.orders) / c.elapsed.Seconds() }

// measureThroughput runs cfg.throughputOrders full ship-to-store lifecycles
// (checkout, pick at the store, handover, review request a second later, the
// workflow closed) with 10 and then 20 customers and staff at a time, and
// divides them by the time from the first checkout to the last closed workflow.
func (b *bench) measureThroughput(ctx context.Context) ([]throughputCell, error) {
	sv, err := b.services(ctx, "throughput")
	if err != nil {
		return nil, err
	}
	defer sv.stop(b.logger)
	var cells []throughputCell
	for _, c := range []int{10, 20} {
		before, err := b.cpu(sv)
		if err != nil {
			return nil, err
		}
		start := time.Now()
		closed, gctx := errgroup.WithContext(ctx)
		_, err = runCalls(ctx, c, 0, b.cfg.throughputOrders, func(ctx context.Context, i int) error {
			id := fmt.Sprintf("TP-C%d-%d", c, i)
			if err := shipToStore(ctx, sv.shop, id); err != nil {
				return err
			}
			closed.Go(func() error { return awaitClosed(gctx, sv.client, id, b.cfg.patience) })
			return nil
		})
		if werr := closed.Wait(); err == nil {
			err = werr
		}
		if err != nil {
			return nil, fmt.Errorf("lifecycles at c=%d: %w", c, err)
		}
		cell := throughputCell{concurrency: c, orders: b.cfg.throughputOrders, elapsed: time.Since(start), cpuPerOrder: map[string]time.Duration{}}
		after, err := b.cpu(sv)
		if err != nil {
			return nil, err
		}
		for _, part := range cpuParts() {
			cell.cpuPerOrder[part] = (after[part] - before[part]) / time.Duration(cell.orders)
		}
		b.logger.Info("throughput", "concurrency", c, "orders", cell.orders, "per_second", cell.perSecond(), "cpu_per_order", cell.cpuPerOrder)
		cells = append(cells, cell)
	}
	return cells, nil
}

// cpu is the CPU time each part has used so far (PostgreSQL: the postmaster and
// every server process, including the connections' backends).
func (b *bench) cpu(sv *stagedServices) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	pg, err := b.tb.PG.PIDs()
	if err != nil {
		return nil, err
	}
	for part, pids := range map[string][]int{"worker": {sv.Worker.Pid()}, "starter": {sv.Starter.Pid()},
		"dev server": {b.tb.Temporal.Pid()}, "PostgreSQL": pg} {
		for _, pid := range pids {
			t, err := cpuTime(pid)
			if err != nil && part != "PostgreSQL" { // a backend may end between listing and reading
				return nil, err
			}
			out[part] += t
		}
	}
	return out, nil
}
