// Command chaos checks the promise "no order is ever lost" under faults. It starts a
// stack of its own in a temporary directory (a private PostgreSQL cluster, the
// Temporal dev server on a SQLite file, the worker and the starter as separate
// processes with sandbox providers failing a share of their calls), places a few
// hundred orders of every kind over HTTP as a checkout service, store staff,
// customers and support would, kills and restarts every part of the stack while
// the orders flow, waits for the orders to finish and then checks invariants
// (final stages, money, labels, messages, stock) from PostgreSQL, the sandbox
// ledger and Temporal. It prints a table of the invariants and the details of
// every violation, and exits 1 when there is one.
//
// `make chaos` runs it (deploy/local/chaos.sh); `TestChaosSmall` runs the same
// suite with tens of orders inside `make test`. See docs/testing.md, "Chaos suite".
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	tadapter "github.com/everywherecommerce/fulfilment/adapters/temporal"
)

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := loadConfig(os.Args[1:], os.Getenv)
	if err != nil {
		logger.Error("chaos: bad configuration", "error", err)
		os.Exit(2)
	}
	rep, err := run(ctx, cfg, logger, os.Stdout)
	if err != nil {
		logger.Error("chaos run failed", "error", err)
		os.Exit(1)
	}
	if rep.violations() > 0 {
		os.Exit(1)
	}
}

// run starts the stack, drives the orders while injecting the faults, checks the
// invariants and prints the report to out. The stack is stopped before it returns.
func run(ctx context.Context, cfg config, logger *slog.Logger, out io.Writer) (*report, error) {
	began := time.Now()
	st, err := startStack(ctx, cfg, logger)
	if err != nil {
		return nil, fmt.Errorf("start the chaos stack: %w", err)
	}
	keep := cfg.keep
	defer func() {
		if err := st.stop(keep); err != nil {
			logger.Warn("stop the chaos stack", "error", err)
		}
	}()
	setup := time.Since(began)
	rep, err := exercise(ctx, cfg, st, logger)
	if err != nil {
		keep = true
		st.showLogs(out)
		return nil, err
	}
	rep.timings.setup, rep.timings.total = setup, time.Since(began)
	rep.print(out)
	if rep.violations() > 0 {
		keep = keep || cfg.keepOnFailure
		if keep {
			fmt.Fprintf(out, "\nlogs and data kept in %s\n", st.dir)
		}
	}
	return rep, nil
}

// exercise is the run on a started stack: orders and faults, the wait for the
// orders to finish, the invariants.
func exercise(ctx context.Context, cfg config, st *stack, logger *slog.Logger) (*report, error) {
	plan := newPlan(cfg, time.Now())
	if err := st.seedPlan(ctx, plan); err != nil {
		return nil, err
	}
	d, err := newDriver(cfg, st, plan, logger)
	if err != nil {
		return nil, err
	}
	timings, faults, err := d.run(ctx)
	if err != nil {
		return nil, err
	}
	facts, err := gatherFacts(ctx, st, d.orders, logger)
	if err != nil {
		return nil, err
	}
	rep := &report{cfg: cfg, orders: d.orders, faults: faults, timings: timings, exits: st.unexpectedExits(),
		retries: d.api.retries.Load(), missed: d.mail.missed.Load()}
	rep.results = checkInvariants(facts, d.orders)
	if cfg.attached() {
		rep.results = append(rep.results, checkFaults(faults, len(cfg.faults)))
	}
	rep.readHistories(ctx, st.tc, tadapter.FailureConverter(st.tb.Codec))
	return rep, nil
}
