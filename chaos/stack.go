package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"

	"github.com/everywherecommerce/fulfilment/adapters/postgres"
	"github.com/everywherecommerce/fulfilment/internal/testbed"
)

// stack is the run's own system, independent of make run's .dev/: the testbed's
// PostgreSQL and dev server, and one worker and one starter on namespace
// "default", all on free ports of 127.0.0.1 and with their files in dir. Attached
// to a running platform (cfg.attached: make cluster's Temporal server and
// PostgreSQL), it has no PostgreSQL or dev server of its own but two pairs of
// worker and starter, and later a third worker (scale-out).
type stack struct {
	cfg    config
	dir    string
	logger *slog.Logger

	tb                        *testbed.Testbed
	svc                       *testbed.Services
	pg                        *testbed.PGCluster
	temporal, worker, starter *testbed.Process
	// pairs are every worker and starter pair (svc is the first); joined are the
	// workers that joined during the run (scale-out).
	pairs       []*testbed.Services
	joined      []*testbed.Process
	starterURLs []string          // every starter; the clients take turns
	tokens      map[string]string // KEY=value from `starter demo seed`
	pool        *pgxpool.Pool     // the suite's own connections: seeding, invariants
	store       *postgres.Store
	tc          client.Client // decodes the workflows' encrypted payloads
	http        *http.Client
	// initialStock is the stock after seeding, before the first order.
	initialStock map[stockKey]int
}

// startStack builds the binaries and starts everything; on error whatever was
// started is stopped again.
func startStack(ctx context.Context, cfg config, logger *slog.Logger) (st *stack, err error) {
	var tb *testbed.Testbed
	if cfg.attached() {
		tb, err = testbed.Attach(ctx, testbed.AttachOptions{Repo: cfg.repo, Name: "scaleout", Logger: logger,
			TemporalAddr: cfg.temporalAddr, DatabaseURL: cfg.databaseURL})
	} else {
		tb, err = testbed.Start(ctx, testbed.Options{Repo: cfg.repo, TemporalCLI: cfg.temporalCLI, Name: "chaos", Logger: logger})
	}
	if err != nil {
		return nil, err
	}
	st = &stack{cfg: cfg, dir: tb.Dir, logger: logger, tb: tb, pg: tb.PG, temporal: tb.Temporal,
		pool: tb.Pool, store: tb.Store, tc: tb.Client, http: &http.Client{Timeout: 5 * time.Second}}
	defer func() {
		if err != nil {
			st.showLogs(os.Stderr)
			if serr := st.stop(false); serr != nil {
				logger.Warn("stop the partly started stack", "error", serr)
			}
		}
	}()
	pairs := 1
	if cfg.attached() {
		pairs = 2
	}
	ports, err := testbed.FreePorts(pairs)
	if err != nil {
		return st, err
	}
	for i, port := range ports {
		st.starterURLs = append(st.starterURLs, fmt.Sprintf("http://127.0.0.1:%d", port))
		if i == 0 {
			if st.tokens, err = tb.MigrateAndSeed(ctx, st.serviceEnv(port)); err != nil {
				return st, err
			}
		}
		name := ""
		if pairs > 1 {
			name = string(rune('a' + i))
		}
		svc, err := tb.StartServices(ctx, name, port, st.serviceEnv(port))
		if svc != nil {
			st.pairs = append(st.pairs, svc)
		}
		if err != nil {
			return st, err
		}
	}
	st.svc, st.worker, st.starter = st.pairs[0], st.pairs[0].Worker, st.pairs[0].Starter
	return st, nil
}

// serviceEnv is the environment of a worker and starter pair (the starter on
// starterPort): sandbox providers failing cfg.faultRate of their calls and the
// shortened policy; attached, the workers' grace period after a SIGTERM too.
func (st *stack) serviceEnv(starterPort int) []string {
	c := st.cfg
	env := st.tb.ServiceEnv("default", starterPort)
	if c.attached() {
		// Messages take a second to send, so a worker stopped while orders flow has
		// activities running that its grace period must let finish.
		env = append(env, "FULFILMENT_WORKER_STOP_TIMEOUT="+c.workerStopTimeout.String(),
			"FULFILMENT_SANDBOX_MESSAGE_DELAY="+c.messageDelay.String())
	}
	return append(env,
		fmt.Sprintf("FULFILMENT_SANDBOX_FAULT_RATE=%g", c.faultRate),
		"FULFILMENT_SANDBOX_CARRIER_STEP="+c.carrierStep.String(),
		"FULFILMENT_PICKUP_WINDOW="+c.pickupWindow.String(),
		"FULFILMENT_REVIEW_DELAY="+c.reviewDelay.String(),
		"FULFILMENT_PICKING_SLA="+c.pickingSLA.String(),
		"FULFILMENT_TRANSFER_TIMEOUT="+c.transferTimeout.String(),
		"FULFILMENT_DELIVERY_TIMEOUT="+c.deliveryTimeout.String(),
	)
}

// stop stops the services, the dev server and PostgreSQL, and removes dir unless
// keep is set.
func (st *stack) stop(keep bool) error {
	return st.tb.Stop(keep)
}

// unexpectedExits are the exits of the stack's programs the suite did not cause.
func (st *stack) unexpectedExits() map[string][]testbed.ExitRecord {
	out := map[string][]testbed.ExitRecord{}
	procs := []*testbed.Process{st.temporal}
	for _, s := range st.pairs {
		procs = append(procs, s.Worker, s.Starter)
	}
	for _, p := range append(procs, st.joined...) {
		if p == nil {
			continue
		}
		if c := p.Crashes(); len(c) > 0 {
			out[p.Name] = c
		}
	}
	return out
}

// showLogs writes the last lines of every log, for a run that broke down.
func (st *stack) showLogs(w io.Writer) {
	st.tb.ShowLogs(w)
}
