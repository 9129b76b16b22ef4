package main

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/everywherecommerce/fulfilment/internal/testbed"
)

// faultKind is a fault the injector knows how to cause.
type faultKind string

// The faults of a run. Each part comes back the way production would bring it
// back: the supervisor restarts a killed process, PostgreSQL recovers from its
// WAL, the dev server reopens its SQLite file.
const (
	faultKillWorker      faultKind = "SIGKILL worker"
	faultRestartPostgres faultKind = "PostgreSQL immediate restart"
	faultRestartTemporal faultKind = "SIGKILL dev server, restart on its SQLite file"
	faultKillStarter     faultKind = "SIGKILL starter"
)

// faultRecord is one injected fault: when (since the first checkout), what, and
// how long until the part answered again.
type faultRecord struct {
	kind      faultKind
	at        time.Duration
	pid       int
	recovered time.Duration
	err       string
}

// injector causes the run's faults, spread over the placement of the orders.
type injector struct {
	cfg    config
	st     *stack
	logger *slog.Logger
	rng    *rand.Rand
}

func newInjector(cfg config, st *stack, logger *slog.Logger) *injector {
	return &injector{cfg: cfg, st: st, logger: logger, rng: rand.New(rand.NewPCG(cfg.seed, 0xfa017))}
}

// schedule is when each fault strikes: evenly spread over the placement, each
// moved by a seeded jitter of up to a quarter of the gap between two faults.
func (in *injector) schedule() []time.Duration {
	n := len(in.cfg.faults)
	gap := in.cfg.placement() / time.Duration(n+1)
	out := make([]time.Duration, n)
	for i := range out {
		jitter := time.Duration(in.rng.Int64N(int64(gap)/2+1)) - gap/4
		out[i] = gap*time.Duration(i+1) + jitter
	}
	return out
}

// run injects every fault at its time and returns what happened.
func (in *injector) run(ctx context.Context, start time.Time) []faultRecord {
	var out []faultRecord
	for i, at := range in.schedule() {
		if testbed.Sleep(ctx, time.Until(start.Add(at))) != nil {
			return out
		}
		kind := in.cfg.faults[i]
		rec := in.inject(ctx, kind)
		rec.at = time.Since(start)
		in.logger.Info("fault injected", "fault", kind, "pid", rec.pid, "recovered_after", rec.recovered.Round(time.Millisecond), "error", rec.err)
		out = append(out, rec)
	}
	return out
}

// inject causes one fault and waits until the part answers again.
func (in *injector) inject(ctx context.Context, kind faultKind) faultRecord {
	rec := faultRecord{kind: kind}
	began := time.Now()
	var err error
	switch kind {
	case faultKillWorker:
		starts := in.st.worker.StartCount()
		if rec.pid, err = in.st.worker.Kill(); err == nil {
			err = in.st.svc.WaitWorker(ctx, starts, time.Minute)
		}
	case faultRestartPostgres:
		err = in.st.pg.RestartImmediate(ctx)
	case faultRestartTemporal:
		if rec.pid, err = in.st.temporal.Kill(); err == nil {
			err = testbed.WaitTemporal(ctx, in.st.tc, in.st.temporal, 2*time.Minute)
		}
	case faultKillStarter:
		if rec.pid, err = in.st.starter.Kill(); err == nil {
			err = in.st.svc.WaitStarter(ctx, 90*time.Second)
		}
	}
	rec.recovered = time.Since(began)
	if err != nil {
		rec.err = err.Error()
	}
	return rec
}
