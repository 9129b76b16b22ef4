package main

import (
	"context"
	"fmt"
	"time"

	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/internal/testbed"
)

// memoryPoint is the worker's memory with a number of orders waiting to be picked.
type memoryPoint struct {
	open      int
	rss       int64
	heap      int64
	heapKnown bool
}

// measureMemory reads the worker's RSS and live heap with no open order and then
// with each of cfg.openOrders orders waiting to be picked, placing them 20 at a
// time. The worker gets an admin address; its live heap is "n/a" when it does
// not serve /debug/vars there.
func (b *bench) measureMemory(ctx context.Context) ([]memoryPoint, error) {
	ports, err := testbed.FreePorts(1)
	if err != nil {
		return nil, err
	}
	admin := fmt.Sprintf("127.0.0.1:%d", ports[0])
	sv, err := b.services(ctx, "memory", "FULFILMENT_ADMIN_ADDR="+admin)
	if err != nil {
		return nil, err
	}
	defer sv.stop(b.logger)
	var points []memoryPoint
	placed := 0
	for _, target := range append([]int{0}, b.cfg.openOrders...) {
		began := time.Now()
		if _, err := runCalls(ctx, 20, placed, target-placed, func(ctx context.Context, i int) error {
			id := fmt.Sprintf("MEM-%d", i)
			if err := sv.shop.place(ctx, id, domain.MethodShipToStore); err != nil {
				return err
			}
			return sv.shop.waitStage(ctx, id, domain.StagePicking)
		}); err != nil {
			return nil, fmt.Errorf("open orders up to %d: %w", target, err)
		}
		placed = target
		// Let the worker finish what the last checkouts started.
		if err := testbed.Sleep(ctx, 2*time.Second); err != nil {
			return nil, fmt.Errorf("memory at %d open orders: %w", target, err)
		}
		p := memoryPoint{open: target}
		if p.rss, err = rssBytes(sv.Worker.Pid()); err != nil {
			return nil, err
		}
		p.heap, p.heapKnown = liveHeap(ctx, b.metrics, admin)
		b.logger.Info("worker memory", "open_orders", target, "rss_mib", p.rss>>20, "heap_known", p.heapKnown,
			"heap_mib", p.heap>>20, "placing_took", time.Since(began).Round(time.Second))
		points = append(points, p)
	}
	return points, nil
}
