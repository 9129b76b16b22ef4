// Command bench measures what an order costs and how fast the system serves it,
// in one run on a system of its own (internal/testbed: a private PostgreSQL,
// the Temporal dev server with metrics, and the worker and starter as separate
// processes with sandbox providers), driving orders over the public HTTP API as
// the checkout service, staff and support do. It prints one Markdown table
// (Actions and history events per order for every path, checkout latency next
// to a bare Update-with-Start, worker memory by open orders, completed orders
// per second next to the engine's ceiling for the same shape, CPU per order)
// and writes it to a file (bench/last-run.md by default) for
// docs/performance.md.
//
// `make bench` runs it (deploy/local/bench.sh); TestBenchTiny runs it with tiny
// counts inside `make test`.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/everywherecommerce/fulfilment/internal/testbed"
)

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := loadConfig(os.Args[1:], os.Getenv)
	if err != nil {
		logger.Error("bench: bad configuration", "error", err)
		os.Exit(2)
	}
	rep, err := run(ctx, cfg, logger)
	if err != nil {
		logger.Error("bench failed", "error", err)
		os.Exit(1)
	}
	if err := rep.updateCostTable(cfg.readme); err != nil {
		logger.Error("bench: write the cost table", "error", err)
		os.Exit(1)
	}
	if err := rep.publish(os.Stdout, cfg.out); err != nil {
		logger.Error("bench: write the table", "error", err)
		os.Exit(1)
	}
}

// run starts the testbed, measures every stage in turn and returns the report.
// The testbed is stopped before it returns.
func run(ctx context.Context, cfg config, logger *slog.Logger) (rep *report, err error) {
	opts := testbed.Options{Repo: cfg.repo, TemporalCLI: cfg.temporalCLI, Name: "bench", Logger: logger}
	if cfg.profileDir != "" {
		opts.PGSettings = pgProfileSettings()
	}
	opts.PGSettings = append(opts.PGSettings, cfg.pgSettings...)
	tb, err := testbed.Start(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("start the testbed: %w", err)
	}
	defer func() {
		if err != nil {
			tb.ShowLogs(os.Stderr)
		}
		if serr := tb.Stop(cfg.keep); serr != nil {
			logger.Warn("stop the testbed", "error", serr)
		}
	}()
	b := &bench{cfg: cfg, tb: tb, logger: logger, timeZone: daytimeZone(time.Now()),
		metrics: &http.Client{Timeout: 10 * time.Second}}
	if b.tokens, err = tb.MigrateAndSeed(ctx, tb.ServiceEnv("default", 1)); err != nil {
		return nil, err
	}
	if err := b.pinEngine(); err != nil {
		return nil, err
	}
	if err := b.stockUp(ctx); err != nil {
		return nil, err
	}
	rep = newReport(cfg, time.Now())
	for _, p := range paths() {
		if !cfg.stages["paths"] {
			break
		}
		cost, err := b.measurePath(ctx, p)
		if err != nil {
			return nil, err
		}
		rep.paths = append(rep.paths, cost)
	}
	if cfg.stages["latency"] {
		if rep.latency, err = b.measureLatency(ctx); err != nil {
			return nil, err
		}
	}
	if cfg.stages["memory"] {
		dir := cfg.memoryDir
		if dir == "" {
			dir = filepath.Join(tb.Dir, "memory")
		}
		if rep.memory, err = b.measureMemory(ctx, dir); err != nil {
			return nil, err
		}
	}
	if cfg.stages["throughput"] {
		if rep.throughput, err = b.measureThroughput(ctx); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// publish prints the table to w and writes it to path ("" or "-": w only).
func (r *report) publish(w io.Writer, path string) error {
	md := r.markdown()
	if _, err := io.WriteString(w, md); err != nil {
		return fmt.Errorf("print the table: %w", err)
	}
	if path == "" || path == "-" {
		return nil
	}
	if err := os.WriteFile(path, []byte(md), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
