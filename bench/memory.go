package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/internal/testbed"
)

// memoryPoint is the worker's memory with a number of orders waiting to be
// picked (after picks: some of them picked since).
type memoryPoint struct {
	open, picked int
	rss          int64
	// admin is what the worker's admin address told (memstats after a forced
	// collection, goroutines); known is false when it does not serve them.
	admin workerMemory
	known bool
}

// what names the point in the table: "5000 open orders" or "5000 open orders
// after 400 picks".
func (p memoryPoint) what() string {
	if p.picked > 0 {
		return fmt.Sprintf("%d open orders after %d picks", p.open, p.picked)
	}
	return fmt.Sprintf("%d open orders", p.open)
}

// pickTiming is how fast staff picked a set of open orders: the newest (still
// in the worker's workflow cache) or the oldest (evicted long before unless the
// cache holds every order, so each pick first replays the order's history).
type pickTiming struct {
	which       string // "newest" or "oldest"
	n, c        int
	took        time.Duration
	placedFirst int // the open orders when the picks began
}

// memoryStage is the memory stage's result.
type memoryStage struct {
	points []memoryPoint
	picks  []pickTiming
	// peakRSS is the worker's VmHWM at the end of the stage.
	peakRSS int64
	// dir holds the heap profiles (heap-<open>.pb.gz and `go tool pprof -top`
	// as heap-<open>.top).
	dir string
}

// memoryConcurrency is how many orders are placed (and picked) at a time.
const memoryConcurrency = 20

// measureMemory reads the worker's memory with no open order and then with each
// of cfg.openOrders ship-to-store orders waiting to be picked, placing them 20 at
// a time; at each count it saves a heap profile into dir. Then staff pick the
// cfg.memoryPicks newest and the as many oldest orders (at most half of them
// each), timed, and the memory is read once more. The worker gets an admin
// address; its heap, stacks and goroutines are "n/a" when it does not serve
// /debug/vars and /debug/pprof there.
func (b *bench) measureMemory(ctx context.Context, dir string) (memoryStage, error) {
	res := memoryStage{dir: dir}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return res, fmt.Errorf("profiles directory: %w", err)
	}
	ports, err := testbed.FreePorts(1)
	if err != nil {
		return res, err
	}
	admin := fmt.Sprintf("127.0.0.1:%d", ports[0])
	sv, err := b.services(ctx, "memory", "FULFILMENT_ADMIN_ADDR="+admin)
	if err != nil {
		return res, err
	}
	defer sv.stop(b.logger)
	pid := sv.Worker.Pid()
	id := func(i int) string { return fmt.Sprintf("MEM-%d", i) }
	sample := func(open, picked int, began time.Time) error {
		// Let the worker finish what the last checkouts or picks started.
		if err := testbed.Sleep(ctx, 2*time.Second); err != nil {
			return fmt.Errorf("memory at %d open orders: %w", open, err)
		}
		p := memoryPoint{open: open, picked: picked}
		name := fmt.Sprintf("heap-%d", open)
		if picked > 0 {
			name = fmt.Sprintf("heap-%d-after-%d-picks", open, picked)
		}
		p.admin, p.known = readWorkerMemory(ctx, b.metrics, admin, filepath.Join(dir, name+".pb.gz"))
		if p.known {
			if err := pprofTop(ctx, filepath.Join(dir, name+".pb.gz"), filepath.Join(dir, name+".top")); err != nil {
				b.logger.Warn("heap profile as text", "error", err)
			}
		}
		var err error
		if p.rss, err = rssBytes(pid); err != nil {
			return err
		}
		b.logger.Info("worker memory", "what", p.what(), "rss_mib", p.rss>>20, "known", p.known,
			"heap_mib", p.admin.heapAlloc>>20, "stack_mib", p.admin.stackInuse>>20, "goroutines", p.admin.goroutines,
			"took", time.Since(began).Round(time.Second))
		res.points = append(res.points, p)
		return nil
	}
	placed := 0
	for _, target := range append([]int{0}, b.cfg.openOrders...) {
		began := time.Now()
		if _, err := runCalls(ctx, memoryConcurrency, placed, target-placed, func(ctx context.Context, i int) error {
			if err := sv.shop.place(ctx, id(i), domain.MethodShipToStore); err != nil {
				return err
			}
			return sv.shop.waitStage(ctx, id(i), domain.StagePicking)
		}); err != nil {
			return res, fmt.Errorf("open orders up to %d: %w", target, err)
		}
		if target > placed {
			b.logger.Info("orders placed", "from", placed, "to", target,
				"per_second", fmt.Sprintf("%.1f", perSecond(target-placed, time.Since(began))))
		}
		placed = target
		if err := sample(target, 0, began); err != nil {
			return res, err
		}
	}
	if n := min(b.cfg.memoryPicks, placed/2); n > 0 {
		began := time.Now()
		// The newest first: they are in the cache, and picking them does not
		// bring the oldest back into it.
		for _, set := range []struct {
			which string
			first int
		}{{"newest", placed - n}, {"oldest", 0}} {
			// Let the work the previous picks started (messages, stage writes)
			// finish, so that it does not slow the next set.
			if err := testbed.Sleep(ctx, 5*time.Second); err != nil {
				return res, fmt.Errorf("picks: %w", err)
			}
			start := time.Now()
			if _, err := runCalls(ctx, memoryConcurrency, set.first, n, func(ctx context.Context, i int) error {
				return sv.shop.pickAll(ctx, id(i), "berlin-mitte", "STAFF_TOKEN_BERLIN_MITTE")
			}); err != nil {
				return res, fmt.Errorf("picks of the %d %s open orders: %w", n, set.which, err)
			}
			t := pickTiming{which: set.which, n: n, c: memoryConcurrency, took: time.Since(start), placedFirst: placed}
			b.logger.Info("picks", "which", t.which, "n", n, "per_second", fmt.Sprintf("%.1f", perSecond(n, t.took)))
			res.picks = append(res.picks, t)
		}
		if err := sample(placed, 2*n, began); err != nil {
			return res, err
		}
	}
	if hwm, err := procStatusBytes(pid, "VmHWM:"); err == nil {
		res.peakRSS = hwm
	}
	b.logger.Info("heap profiles", "dir", dir)
	return res, nil
}

// pprofTop writes `go tool pprof -top` of the profile in src (in-use space) to dst.
func pprofTop(ctx context.Context, src, dst string) error {
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount=40", "-sample_index=inuse_space", src)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go tool pprof -top %s: %w: %s", src, err, strings.TrimSpace(errb.String()))
	}
	if err := os.WriteFile(dst, out.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", dst, err)
	}
	return nil
}
