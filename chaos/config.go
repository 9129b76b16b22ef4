package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/everywherecommerce/fulfilment/internal/testbed"
)

// config is one chaos run: its size, its randomness and the shortened policy that
// lets every order reach its final stage within minutes.
type config struct {
	// orders is how many orders the run places; seed makes the run's plan (kinds,
	// customers, faults' jitter) the same on every run with that seed.
	orders int
	seed   uint64
	// faultRate is FULFILMENT_SANDBOX_FAULT_RATE of the worker: the share of
	// sandbox provider calls that fail with a retryable error.
	faultRate float64
	// interval is the time between two orders' checkouts; maxActive bounds the
	// orders whose journeys run at once (a busy shop's staff, not a load test).
	interval  time.Duration
	maxActive int
	// faults are the faults injected, in order, spread over the placement.
	faults []faultKind
	// Policy given to the starter and worker (docs/configuration.md).
	pickupWindow, reviewDelay, pickingSLA time.Duration
	transferTimeout, deliveryTimeout      time.Duration
	carrierStep                           time.Duration
	// patience bounds each wait of a customer or staff step (an order to appear on
	// a pick list, a message to arrive) while the order's workflow makes no
	// progress; a wait goes on for up to three patiences while the workflow keeps
	// retrying (waitOn). finishWithin bounds the wait for every order's workflow
	// to close after the last journey ended.
	patience     time.Duration
	finishWithin time.Duration
	// keep leaves the temporary directory (logs, PostgreSQL data, SQLite file);
	// keepOnFailure does so only when an invariant is violated.
	keep, keepOnFailure bool
	// repo is the repository root (built from); temporalCLI the dev server binary.
	repo        string
	temporalCLI string
	// temporalAddr and databaseURL, when set, are a platform started by someone
	// else (make cluster's, by deploy/cluster/test.sh): the run attaches to it and
	// scales its own workers and starters out and in (scaleOutFaults) instead of
	// starting a stack of its own.
	temporalAddr, databaseURL string
	// workerStopTimeout is the workers' FULFILMENT_WORKER_STOP_TIMEOUT, the grace
	// period after a SIGTERM (scale-out runs).
	workerStopTimeout time.Duration
	// messageDelay is the sandbox's FULFILMENT_SANDBOX_MESSAGE_DELAY in
	// scale-out runs: how long each message takes to send.
	messageDelay time.Duration
}

// attached reports whether the run attaches to a running platform.
func (c config) attached() bool { return c.temporalAddr != "" }

// defaultConfig is `make chaos`: a few hundred orders, every fault, about ten
// minutes on a two-core machine.
func defaultConfig() config {
	return config{
		orders:          300,
		seed:            uint64(time.Now().UnixNano() % 1_000_000),
		faultRate:       0.2,
		interval:        400 * time.Millisecond,
		maxActive:       120,
		faults:          []faultKind{faultKillWorker, faultRestartPostgres, faultKillWorker, faultRestartTemporal, faultKillStarter, faultKillWorker},
		pickupWindow:    75 * time.Second,
		reviewDelay:     15 * time.Second,
		pickingSLA:      20 * time.Minute,
		transferTimeout: 20 * time.Minute,
		deliveryTimeout: 20 * time.Minute,
		carrierStep:     2 * time.Second,
		patience:        3 * time.Minute,
		finishWithin:    6 * time.Minute,
		keepOnFailure:   true,
		// Ten seconds of grace after a SIGTERM: long enough for the sandbox's
		// activities (milliseconds to a few seconds), short enough for the run.
		workerStopTimeout: 10 * time.Second,
		messageDelay:      time.Second,
	}
}

// smallConfig is the run inside `make test`: tens of orders, one of each fault,
// about three minutes.
func smallConfig() config {
	c := defaultConfig()
	c.orders = 32
	c.seed = 1
	c.interval = 1200 * time.Millisecond
	c.faults = []faultKind{faultKillWorker, faultRestartPostgres, faultRestartTemporal, faultKillStarter}
	c.pickupWindow = 40 * time.Second
	c.reviewDelay = 5 * time.Second
	c.carrierStep = time.Second
	c.patience = 90 * time.Second
	c.finishWithin = 2 * time.Minute
	c.keepOnFailure = false
	return c
}

// loadConfig reads the flags and the CHAOS_* environment (flags win) over the
// defaults of `make chaos`.
func loadConfig(args []string, getenv func(string) string) (config, error) {
	c := defaultConfig()
	if err := c.fromEnv(getenv); err != nil {
		return c, err
	}
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	fs.IntVar(&c.orders, "orders", c.orders, "orders to place (CHAOS_ORDERS)")
	fs.Uint64Var(&c.seed, "seed", c.seed, "seed of the run's randomness; the same seed places the same orders (CHAOS_SEED)")
	fs.Float64Var(&c.faultRate, "fault-rate", c.faultRate, "share of sandbox provider calls that fail (CHAOS_FAULT_RATE)")
	fs.DurationVar(&c.interval, "interval", c.interval, "time between two checkouts")
	fs.BoolVar(&c.keep, "keep", c.keep, "keep the temporary directory with logs and data (CHAOS_KEEP=1)")
	fs.StringVar(&c.temporalAddr, "temporal-address", c.temporalAddr,
		"host:port of a running Temporal frontend: attach to it and scale out (CHAOS_TEMPORAL_ADDRESS; needs -database-url)")
	fs.StringVar(&c.databaseURL, "database-url", c.databaseURL, "the running platform's app database (CHAOS_DATABASE_URL)")
	if err := fs.Parse(args); err != nil {
		return c, fmt.Errorf("parse flags: %w", err)
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if c.attached() {
		c.faults = scaleOutFaults()
	}
	return c, c.complete(getenv)
}

// fromEnv applies CHAOS_ORDERS, CHAOS_SEED, CHAOS_FAULT_RATE and CHAOS_KEEP.
func (c *config) fromEnv(getenv func(string) string) error {
	var problems []error
	if v := getenv("CHAOS_ORDERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			problems = append(problems, fmt.Errorf("CHAOS_ORDERS=%q: %w", v, err))
		}
		c.orders = n
	}
	if v := getenv("CHAOS_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			problems = append(problems, fmt.Errorf("CHAOS_SEED=%q: %w", v, err))
		}
		c.seed = n
	}
	if v := getenv("CHAOS_FAULT_RATE"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil {
			problems = append(problems, fmt.Errorf("CHAOS_FAULT_RATE=%q: %w", v, err))
		}
		c.faultRate = r
	}
	if v := getenv("CHAOS_KEEP"); v != "" {
		c.keep = v == "1" || v == "true"
	}
	c.temporalAddr = cmp.Or(getenv("CHAOS_TEMPORAL_ADDRESS"), c.temporalAddr)
	c.databaseURL = cmp.Or(getenv("CHAOS_DATABASE_URL"), c.databaseURL)
	return errors.Join(problems...)
}

// complete checks the values and finds the repository and the Temporal CLI.
func (c *config) complete(getenv func(string) string) error {
	var problems []error
	if c.orders < 1 || c.orders > 5000 {
		problems = append(problems, fmt.Errorf("orders=%d: want 1 to 5000", c.orders))
	}
	if c.faultRate < 0 || c.faultRate >= 1 {
		problems = append(problems, fmt.Errorf("fault rate %v: want 0 up to (not including) 1", c.faultRate))
	}
	if c.interval <= 0 {
		problems = append(problems, fmt.Errorf("interval %s: want a positive duration", c.interval))
	}
	if c.attached() != (c.databaseURL != "") {
		problems = append(problems, errors.New("a running platform needs both -temporal-address and -database-url (CHAOS_TEMPORAL_ADDRESS, CHAOS_DATABASE_URL)"))
	}
	if c.attached() {
		// The platform is running already: no dev server to start, no CLI needed.
		repo, err := testbed.FindRepo()
		if err != nil {
			problems = append(problems, err)
		}
		c.repo = repo
		return errors.Join(problems...)
	}
	repo, cli, err := testbed.Locate(getenv)
	if err != nil {
		problems = append(problems, err)
	}
	c.repo, c.temporalCLI = repo, cli
	return errors.Join(problems...)
}

// placement is how long placing every order takes; faults are spread over it.
func (c config) placement() time.Duration {
	return time.Duration(c.orders) * c.interval
}
