package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/everywherecommerce/fulfilment/domain"
)

// latencyCell is one concurrency's checkout latencies, ours and the bare
// Update-with-Start's.
type latencyCell struct {
	concurrency int
	n           int
	ours, bare  percentiles
	// CPU per timed call of ours and of the bare workflow, by part (cpuParts);
	// ours includes what each order does in the background after its
	// checkout (its first stage, the confirmation) while the cell runs.
	cpuOurs, cpuBare map[string]time.Duration
}

// percentiles of a sample of durations.
type percentiles struct{ p50, p95, p99 time.Duration }

// measureLatency times checkouts (POST /v1/orders to the real starter, which
// does Update-with-Start of OrderFulfilmentV2 and answers once the payment is
// captured) and bare Update-with-Starts on the same server, at concurrency 1
// and 10, each after an untimed warm-up (timeSideBySide).
func (b *bench) measureLatency(ctx context.Context) ([]latencyCell, error) {
	sv, err := b.services(ctx, "checkout")
	if err != nil {
		return nil, err
	}
	defer sv.stop(b.logger)
	stopBaseline, err := startBaselineWorker(sv.client, &ceilingActivities{reached: map[string]string{}})
	if err != nil {
		return nil, err
	}
	defer stopBaseline()
	var cells []latencyCell
	for _, cell := range []struct{ c, n int }{{1, b.cfg.checkouts1}, {10, b.cfg.checkouts10}} {
		ours := func(ctx context.Context, i int) error {
			return sv.shop.place(ctx, fmt.Sprintf("LAT-C%d-%d", cell.c, i), domain.MethodShipToStore)
		}
		bare := func(ctx context.Context, i int) error {
			return bareCheckout(ctx, sv.client, fmt.Sprintf("C%d-%d", cell.c, i))
		}
		res, err := b.timeSideBySide(ctx, sv, cell.c, cell.n, ours, bare)
		if err != nil {
			return nil, fmt.Errorf("checkouts at c=%d: %w", cell.c, err)
		}
		cells = append(cells, res)
		b.logger.Info("checkout latency", "concurrency", cell.c, "n", cell.n, "ours_p50", res.ours.p50, "bare_p50", res.bare.p50)
	}
	return cells, nil
}

// timeSideBySide runs b.cfg.warmup untimed calls of ours and of bare, then n
// timed calls of each, c at a time, in turn (inTurn), and returns their
// percentiles and the CPU per timed call of every part. Calls of each are
// numbered 0..warmup+n-1.
func (b *bench) timeSideBySide(ctx context.Context, sv *stagedServices, c, n int, ours, bare func(context.Context, int) error) (latencyCell, error) {
	cell := latencyCell{concurrency: c, n: n}
	for _, call := range []func(context.Context, int) error{ours, bare} {
		if _, err := runCalls(ctx, c, 0, b.cfg.warmup, call); err != nil {
			return cell, fmt.Errorf("warm-up: %w", err)
		}
	}
	var tookOurs, tookBare []time.Duration
	cpuOurs, cpuBare, err := b.inTurn(sv, n, func(baseline bool, first, k int) error {
		call, took := ours, &tookOurs
		if baseline {
			call, took = bare, &tookBare
		}
		d, err := runCalls(ctx, c, b.cfg.warmup+first, k, call)
		*took = append(*took, d...)
		return err
	})
	if err != nil {
		return cell, err
	}
	cell.ours, cell.bare = percentilesOf(tookOurs), percentilesOf(tookBare)
	cell.cpuOurs, cell.cpuBare = cpuOurs, cpuBare
	return cell, nil
}

// inTurn calls run for ours and for the baseline in the order ours, baseline,
// baseline, ours, each time with half of calls 0..n-1 (first and count), and
// returns the CPU per call each side spent, by part (cpuPer). The dev server
// slows as its database fills (measured: 78, 82, 89 and 104 ms of its CPU per
// order over four throughput runs one after the other), which would favour
// whichever side ran first.
func (b *bench) inTurn(sv *stagedServices, n int, run func(baseline bool, first, count int) error) (ours, baseline map[string]time.Duration, err error) {
	spent := map[bool]map[string]time.Duration{false: {}, true: {}}
	half := n / 2
	for _, seg := range []struct {
		baseline     bool
		first, count int
	}{{false, 0, half}, {true, 0, half}, {true, half, n - half}, {false, half, n - half}} {
		if seg.count == 0 {
			continue
		}
		before, err := b.cpu(sv)
		if err != nil {
			return nil, nil, err
		}
		if err := run(seg.baseline, seg.first, seg.count); err != nil {
			return nil, nil, err
		}
		after, err := b.cpu(sv)
		if err != nil {
			return nil, nil, err
		}
		for part, d := range after {
			spent[seg.baseline][part] += d - before[part]
		}
	}
	return cpuPer(spent[false], n), cpuPer(spent[true], n), nil
}

// runCalls makes calls first..first+n-1, c at a time, and returns each one's time.
func runCalls(ctx context.Context, c, first, n int, call func(context.Context, int) error) ([]time.Duration, error) {
	next := make(chan int)
	var mu sync.Mutex
	took := make([]time.Duration, 0, n)
	g, gctx := errgroup.WithContext(ctx)
	for range c {
		g.Go(func() error {
			for i := range next {
				start := time.Now()
				if err := call(gctx, i); err != nil {
					return err
				}
				d := time.Since(start)
				mu.Lock()
				took = append(took, d)
				mu.Unlock()
			}
			return nil
		})
	}
	g.Go(func() error {
		defer close(next)
		for i := first; i < first+n; i++ {
			select {
			case next <- i:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("calls: %w", err)
	}
	return took, nil
}

// percentilesOf returns the nearest-rank percentiles of a sample.
func percentilesOf(sample []time.Duration) percentiles {
	if len(sample) == 0 {
		return percentiles{}
	}
	s := slices.Clone(sample)
	slices.Sort(s)
	at := func(p float64) time.Duration {
		i := int(p*float64(len(s))+0.999999) - 1 // nearest rank
		return s[max(0, min(i, len(s)-1))]
	}
	return percentiles{p50: at(0.50), p95: at(0.95), p99: at(0.99)}
}
