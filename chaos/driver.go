package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/everywherecommerce/fulfilment/internal/testbed"
)

// driver plays everyone who touches the orders: it places them at a steady pace
// and runs each order's journey (staff, customer, support) in a goroutine of its
// own, while the injector breaks the stack underneath.
type driver struct {
	cfg    config
	st     *stack
	api    *apiClient
	board  *board
	mail   *mailbox
	orders []*orderRun
	logger *slog.Logger
}

// orderRun is one order of the run: its plan, what happened to it, and the
// expectation as the answers it got revised it.
type orderRun struct {
	plan *orderPlan

	mu           sync.Mutex
	expect       expectation
	pickLocation string   // where staff saw it on the pick list
	steps        []string // what happened, with the time since the checkout
	problems     []string // answers the scenario did not expect
	started      time.Time
	took         time.Duration // the journey, from the checkout to the last step
}

// note records a step of the journey.
func (o *orderRun) note(format string, args ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.steps = append(o.steps, fmt.Sprintf("+%.1fs ", time.Since(o.started).Seconds())+fmt.Sprintf(format, args...))
}

// problem records an answer the scenario did not expect.
func (o *orderRun) problem(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	o.note("PROBLEM: %s", msg)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.problems = append(o.problems, msg)
}

// revise replaces the expectation after an answer changed the story.
func (o *orderRun) revise(e expectation, why string) {
	o.note("expectation now %s: %s", e.Stage, why)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.expect = e
}

// snapshot returns the expectation and the record, safe to read after the run.
func (o *orderRun) snapshot() (expectation, string, []string, []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.expect, o.pickLocation, append([]string(nil), o.steps...), append([]string(nil), o.problems...)
}

// Bounds of the suite's loops besides their deadlines: polls of a poller, wakes of
// a waiting journey, checks of a wait for a part of the stack.
const (
	maxPolls  = 100_000 // a poller at 250 ms runs for hours before this
	maxWakes  = 1_000_000
	maxChecks = 10_000
)

// timings are the measured phases of a run.
type timings struct {
	setup                       time.Duration // builds, PostgreSQL, dev server, migrations, services
	placement, journeys, settle time.Duration
	stillOpen                   int           // workflows still running when the wait ended
	total                       time.Duration // from the start to the report (without stopping the stack)
}

func newDriver(cfg config, st *stack, plans []*orderPlan, logger *slog.Logger) (*driver, error) {
	d := &driver{cfg: cfg, st: st, api: newAPIClient(st.starterURLs, cfg.patience), board: newBoard(),
		mail: newMailbox(), logger: logger}
	for _, p := range plans {
		d.orders = append(d.orders, &orderRun{plan: p, expect: p.Expect})
	}
	for _, key := range []string{"CHECKOUT_TOKEN", "SUPPORT_TOKEN"} {
		if st.tokens[key] == "" {
			return nil, fmt.Errorf("token %s missing", key)
		}
	}
	return d, nil
}

// staffTokenKeys are the staff tokens `starter demo seed` creates, per location.
func staffTokenKeys() map[string]string {
	return map[string]string{locBerlin: "STAFF_TOKEN_BERLIN_MITTE", locHamburg: "STAFF_TOKEN_HAMBURG_ALTONA", locDC: "STAFF_TOKEN_DC_ERFURT"}
}

// run places every order while the faults are injected, waits for every journey
// to end and for every workflow to close, and returns the phases' times and the
// faults as injected.
func (d *driver) run(ctx context.Context) (timings, []faultRecord, error) {
	var t timings
	pctx, stopPolling := context.WithCancel(ctx)
	defer stopPolling()
	var pollers sync.WaitGroup
	for loc, key := range staffTokenKeys() {
		pollers.Go(func() { d.board.poll(pctx, d.api, loc, d.st.tokens[key], 700*time.Millisecond) })
	}
	pollers.Go(func() { d.mail.poll(pctx, d.api, 250*time.Millisecond) })
	defer pollers.Wait()

	start := time.Now()
	inj := newInjector(d.cfg, d.st, d.logger)
	faultsDone := make(chan []faultRecord, 1)
	go func() { faultsDone <- inj.run(ctx, start) }()

	// Journeys end by themselves (waitOn bounds every wait); the deadline is a
	// backstop for a run that went badly wrong.
	jctx, cancel := context.WithTimeout(ctx, d.cfg.placement()+4*d.cfg.patience+d.cfg.pickupWindow)
	defer cancel()
	var journeys sync.WaitGroup
	active := make(chan struct{}, d.cfg.maxActive)
	d.logger.Info("placing orders", "orders", len(d.orders), "over", d.cfg.placement().Round(time.Second), "seed", d.cfg.seed)
	for i, o := range d.orders {
		if err := testbed.Sleep(ctx, time.Until(start.Add(time.Duration(i)*d.cfg.interval))); err != nil {
			return t, nil, err
		}
		select {
		case active <- struct{}{}:
		case <-ctx.Done():
			return t, nil, ctx.Err()
		}
		o.started = time.Now()
		journeys.Go(func() {
			defer func() { <-active }()
			d.journey(jctx, o)
			o.mu.Lock()
			o.took = time.Since(o.started)
			o.mu.Unlock()
		})
		if (i+1)%50 == 0 {
			d.logger.Info("orders placed", "placed", i+1, "of", len(d.orders), "client_retries", d.api.retries.Load())
		}
	}
	t.placement = time.Since(start)
	faults := <-faultsDone
	journeys.Wait()
	t.journeys = time.Since(start)
	d.logger.Info("every journey ended; waiting for the workflows to close", "after", t.journeys.Round(time.Second))
	stopPolling()
	open, err := awaitClosed(ctx, d.st, d.cfg.finishWithin)
	if err != nil {
		return t, faults, err
	}
	t.settle, t.stillOpen = time.Since(start)-t.journeys, open
	return t, faults, nil
}
