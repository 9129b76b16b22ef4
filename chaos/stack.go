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
// "default", all on free ports of 127.0.0.1 and with their files in dir.
type stack struct {
	cfg    config
	dir    string
	logger *slog.Logger

	tb                        *testbed.Testbed
	svc                       *testbed.Services
	pg                        *testbed.PGCluster
	temporal, worker, starter *testbed.Process
	starterPort               int
	starterURL                string
	tokens                    map[string]string // KEY=value from `starter demo seed`
	pool                      *pgxpool.Pool     // the suite's own connections: seeding, invariants
	store                     *postgres.Store
	tc                        client.Client // decodes the workflows' encrypted payloads
	http                      *http.Client
	initialStock              map[stockKey]int // stock after seeding, before the first order
}

// startStack builds the binaries and starts everything; on error whatever was
// started is stopped again.
func startStack(ctx context.Context, cfg config, logger *slog.Logger) (st *stack, err error) {
	tb, err := testbed.Start(ctx, testbed.Options{Repo: cfg.repo, TemporalCLI: cfg.temporalCLI, Name: "chaos", Logger: logger})
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
	ports, err := testbed.FreePorts(1)
	if err != nil {
		return st, err
	}
	st.starterPort = ports[0]
	st.starterURL = fmt.Sprintf("http://127.0.0.1:%d", st.starterPort)
	if st.tokens, err = tb.MigrateAndSeed(ctx, st.serviceEnv()); err != nil {
		return st, err
	}
	st.svc, err = tb.StartServices(ctx, "", st.starterPort, st.serviceEnv())
	if st.svc != nil {
		st.worker, st.starter = st.svc.Worker, st.svc.Starter
	}
	return st, err
}

// serviceEnv is the environment of the worker and the starter: sandbox providers
// failing cfg.faultRate of their calls and the shortened policy.
func (st *stack) serviceEnv() []string {
	c := st.cfg
	return append(st.tb.ServiceEnv("default", st.starterPort),
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
	for _, p := range []*testbed.Process{st.temporal, st.worker, st.starter} {
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
