package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"go.temporal.io/sdk/client"
	"golang.org/x/sync/errgroup"

	"github.com/everywherecommerce/fulfilment/workflows"
)

// throughputCell is one concurrency's complete lifecycles, ours and the
// ceiling's, and the CPU each part of the system spent per order of ours.
type throughputCell struct {
	concurrency, orders int
	ours, ceiling       time.Duration // first checkout to last closed workflow, both halves
	// CPU per order of ours and of the ceiling, by part (cpuParts).
	cpuPerOrder, cpuPerCeilingOrder map[string]time.Duration
}

// throughput is the stage's result: the cells, and the Actions per order of
// ours and of the ceiling over all of them (they must be equal).
type throughput struct {
	cells                       []throughputCell
	actionsOurs, actionsCeiling float64
}

// cpuParts are the parts whose CPU the table shows, in its order. The bench is
// the driver (the checkout service, staff and the customer) and, for the
// baselines, the bare and ceiling workflows' worker.
func cpuParts() []string { return []string{"worker", "starter", "dev server", "PostgreSQL", "bench"} }

// partsTotal is the name of the sum of every part.
const partsTotal = "all parts"

// cpuPer is the CPU each part spent, per call of n, with the sum of them
// under partsTotal.
func cpuPer(spent map[string]time.Duration, n int) map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, part := range cpuParts() {
		out[part] = spent[part] / time.Duration(n)
		out[partsTotal] += out[part]
	}
	return out
}

// perSecond is completed orders per second in d.
func perSecond(orders int, d time.Duration) float64 { return float64(orders) / d.Seconds() }

// measureThroughput runs cfg.throughputOrders full ship-to-store lifecycles
// (checkout, pick at the store, handover, review request a second later, the
// workflow closed) with 10 and then 20 customers and staff at a time, and as
// many CeilingOrder lifecycles driven with the same client calls, each in a
// namespace of its own, in the order ours, the ceiling, the ceiling, ours (half
// of the orders each time); orders per second is the orders divided by the
// time from the first checkout to the last closed workflow of each half, added.
func (b *bench) measureThroughput(ctx context.Context) (throughput, error) {
	var res throughput
	var extra []string
	var admin adminAddrs
	if b.cfg.profileDir != "" {
		var err error
		if admin, err = newAdminAddrs(); err != nil {
			return res, err
		}
		extra = admin.env()
	}
	sv, err := b.services(ctx, "throughput", extra...)
	if err != nil {
		return res, err
	}
	defer sv.stop(b.logger)
	if err := b.tb.RegisterNamespace(ctx, "ceiling"); err != nil {
		return res, err
	}
	cc, err := b.tb.Dial("ceiling")
	if err != nil {
		return res, err
	}
	defer cc.Close()
	acts := &ceilingActivities{reached: map[string]string{}}
	stopCeiling, err := startBaselineWorker(cc, acts)
	if err != nil {
		return res, err
	}
	defer stopCeiling()
	n := b.cfg.throughputOrders
	for _, c := range []int{10, 20} {
		cell := throughputCell{concurrency: c, orders: n}
		var prof *cellProfile
		if b.cfg.profileDir != "" {
			if prof, err = b.startProfile(ctx, admin, fmt.Sprintf("c%d", c)); err != nil {
				return res, err
			}
		}
		ours := func(ctx context.Context, i int) (string, error) {
			id := fmt.Sprintf("TP-C%d-%d", c, i)
			return workflows.WorkflowID(id), shipToStore(ctx, sv.shop, id)
		}
		ceiling := func(ctx context.Context, i int) (string, error) {
			id := fmt.Sprintf("C%d-%d", c, i)
			return "ceiling:" + id, ceilingLifecycle(ctx, cc, acts, id, b.cfg.patience, b.tb.Store, fmt.Sprintf("TP-C%d-%d", c, i))
		}
		stated := false
		cell.cpuPerOrder, cell.cpuPerCeilingOrder, err = b.inTurn(sv, n, func(baseline bool, first, k int) error {
			cl, drive, took := sv.client, ours, &cell.ours
			if baseline {
				cl, drive, took = cc, ceiling, &cell.ceiling
			}
			d, err := b.lifecycles(ctx, c, first, k, cl, drive)
			if err != nil {
				return fmt.Errorf("lifecycles at c=%d (ceiling: %v): %w", c, baseline, err)
			}
			*took += d
			if prof != nil && !baseline && !stated { // ours alone so far
				stated = true
				return prof.statements(ctx, k)
			}
			return nil
		})
		if err != nil {
			return res, err
		}
		if prof != nil {
			if err := prof.wait(); err != nil {
				return res, err
			}
		}
		b.logger.Info("throughput", "concurrency", c, "orders", n, "ours_per_second", perSecond(n, cell.ours),
			"ceiling_per_second", perSecond(n, cell.ceiling), "cpu_per_order", cell.cpuPerOrder, "cpu_per_ceiling_order", cell.cpuPerCeilingOrder)
		res.cells = append(res.cells, cell)
	}
	for ns, dst := range map[string]*float64{"throughput": &res.actionsOurs, "ceiling": &res.actionsCeiling} {
		a, err := settledActions(ctx, b.metrics, b.tb.MetricsURL, ns)
		if err != nil {
			return res, err
		}
		*dst = float64(a) / float64(2*n)
	}
	if res.actionsOurs != res.actionsCeiling {
		b.logger.Warn("the ceiling's footprint differs from an order's", "actions_ours", res.actionsOurs, "actions_ceiling", res.actionsCeiling)
	}
	return res, nil
}

// lifecycles runs calls first..first+n-1 of drive, c at a time; each returns
// its workflow's ID once the client's part is done, and a waiter per workflow
// notes when it closes. It returns the time from the first call to the last close.
func (b *bench) lifecycles(ctx context.Context, c, first, n int, cl client.Client, drive func(context.Context, int) (string, error)) (time.Duration, error) {
	start := time.Now()
	closed, gctx := errgroup.WithContext(ctx)
	_, err := runCalls(ctx, c, first, n, func(ctx context.Context, i int) error {
		wid, err := drive(ctx, i)
		if err != nil {
			return err
		}
		closed.Go(func() error { return awaitClosed(gctx, cl, wid, b.cfg.patience) })
		return nil
	})
	if werr := closed.Wait(); err == nil {
		err = werr
	}
	return time.Since(start), err
}

// cpu is the CPU time each part has used so far (PostgreSQL: the postmaster and
// every server process, including the connections' backends; the bench: this
// process).
func (b *bench) cpu(sv *stagedServices) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	pg, err := b.tb.PG.PIDs()
	if err != nil {
		return nil, err
	}
	for part, pids := range map[string][]int{"worker": {sv.Worker.Pid()}, "starter": {sv.Starter.Pid()},
		"dev server": {b.tb.Temporal.Pid()}, "PostgreSQL": pg, "bench": {os.Getpid()}} {
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
