package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
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

// The faults and changes of a scale-out run (attached to a running cluster with
// two workers and two starters): a worker and a starter lost for good (the others
// carry the load), a third worker joining, and a worker taken away gracefully
// (SIGTERM: it stops polling and finishes or hands back its running activities,
// then exits 0 within its grace period).
const (
	faultLoseWorker    faultKind = "SIGKILL worker a, not restarted"
	faultLoseStarter   faultKind = "SIGKILL starter b, not restarted"
	faultJoinWorker    faultKind = "worker c joins"
	faultRetireWorker  faultKind = "SIGTERM worker b (graceful stop)"
	retiredWorkerIndex           = 1 // pair b's worker
)

// scaleOutFaults are the changes of a scale-out run, in order: after them worker c
// and starter a serve every order.
func scaleOutFaults() []faultKind {
	return []faultKind{faultLoseWorker, faultLoseStarter, faultJoinWorker, faultRetireWorker}
}

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
		struck := time.Since(start)
		rec := in.inject(ctx, kind)
		rec.at = struck
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
	case faultLoseWorker:
		rec.pid, err = in.st.pairs[0].Worker.KillForGood()
	case faultLoseStarter:
		rec.pid, err = in.st.pairs[1].Starter.KillForGood()
	case faultJoinWorker:
		var p *testbed.Process
		p, err = in.st.tb.StartWorker(ctx, "c-worker", in.st.serviceEnv(in.st.pairs[0].Port))
		in.st.joined = append(in.st.joined, p)
		rec.pid = p.Pid()
	case faultRetireWorker:
		rec.pid, err = in.retire(in.st.pairs[retiredWorkerIndex].Worker)
	}
	rec.recovered = time.Since(began)
	if err != nil {
		rec.err = err.Error()
	}
	return rec
}

// retire stops a worker with SIGTERM while orders flow, as an orchestrator takes a
// pod away: it must exit with status 0 within its grace period (the workers'
// FULFILMENT_WORKER_STOP_TIMEOUT) plus a few seconds to close its connections.
func (in *injector) retire(w *testbed.Process) (int, error) {
	grace := in.cfg.workerStopTimeout + 5*time.Second
	began := time.Now()
	pid, exit, err := w.Terminate(grace + 30*time.Second)
	took := time.Since(began)
	switch {
	case err != nil:
		return pid, err
	case exit.Err != "":
		return pid, fmt.Errorf("%s exited with %s after SIGTERM, want status 0", w.Name, exit.Err)
	case took > grace:
		return pid, fmt.Errorf("%s took %s to stop after SIGTERM, want at most %s", w.Name, took.Round(100*time.Millisecond), grace)
	}
	st, err := readStop(w.LogPath)
	if err != nil {
		return pid, fmt.Errorf("%s: %w", w.Name, err)
	}
	in.logger.Info("worker stopped gracefully", "worker", w.Name, "pid", pid, "took", took.Round(time.Millisecond),
		"running_at_sigterm", st.running, "finished", st.finished, "cancelled", st.cancelled)
	switch {
	case st.running == 0:
		return pid, fmt.Errorf("%s had no activity running at SIGTERM: the graceful stop was not exercised", w.Name)
	case st.cancelled > 0 || st.stillRunning > 0:
		return pid, fmt.Errorf("%s: of %d activities running at SIGTERM, %d were cancelled and %d still ran at exit, want all finished within the %s grace",
			w.Name, st.running, st.cancelled, st.stillRunning, in.cfg.workerStopTimeout)
	}
	return pid, nil
}

// stopCounts is what a worker's log says of its graceful stop: the activities
// running when it got SIGTERM, and how they ended.
type stopCounts struct {
	running, finished, cancelled, stillRunning int
}

// readStop reads the last graceful stop from a worker's log (the "worker
// stopping" and "worker stopped" lines of worker/main.go's stopWorker).
func readStop(logPath string) (stopCounts, error) {
	var c stopCounts
	data, err := os.ReadFile(logPath)
	if err != nil {
		return c, fmt.Errorf("read the worker's log: %w", err)
	}
	var stopping, stopped string
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case strings.Contains(line, `msg="worker stopping`):
			stopping, stopped = line, ""
		case strings.Contains(line, `msg="worker stopped"`):
			stopped = line
		}
	}
	if stopping == "" || stopped == "" {
		return c, fmt.Errorf("no graceful stop in %s (want the lines \"worker stopping\" and \"worker stopped\")", logPath)
	}
	for _, f := range []struct {
		line, key string
		to        *int
	}{{stopping, "running_activities", &c.running}, {stopped, "activities_finished", &c.finished},
		{stopped, "activities_cancelled", &c.cancelled}, {stopped, "activities_still_running", &c.stillRunning}} {
		v, ok := logValue(f.line, f.key)
		if !ok {
			return c, fmt.Errorf("no %s in %q", f.key, f.line)
		}
		if *f.to, err = strconv.Atoi(v); err != nil {
			return c, fmt.Errorf("%s=%q in the worker's log: %w", f.key, v, err)
		}
	}
	return c, nil
}

// logValue is key's value in a slog text line.
func logValue(line, key string) (string, bool) {
	for _, field := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(field, key+"="); ok {
			return v, true
		}
	}
	return "", false
}

// checkFaults: every fault and change of a scale-out run happened as planned (a
// process that would not die, a worker that would not join, a graceful stop that
// failed or overran its grace period are violations).
func checkFaults(faults []faultRecord, planned int) result {
	r := result{name: "scale-out steps as planned (kills, join, graceful stop)", checked: len(faults)}
	if len(faults) != planned {
		r.violate("%d of %d planned steps happened", len(faults), planned)
	}
	for _, f := range faults {
		if f.err != "" {
			r.violate("%s: %s", f.kind, f.err)
		}
	}
	return r
}
