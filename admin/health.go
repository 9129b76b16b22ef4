package admin

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// Check is one dependency /readyz asks: PostgreSQL, Temporal.
type Check struct {
	Name string
	Func func(ctx context.Context) error
}

// checkTimeout bounds each check of a /readyz request: probes come every few
// seconds and must not pile up behind a hung dependency.
const checkTimeout = 2 * time.Second

// Health answers a worker's probes. /healthz is 200 while the process runs
// (a liveness probe restarts a hung process, not a busy one, so it checks
// nothing else). /readyz is 200 once Started was called and every check
// passes, and 503 before that, when a check fails, and from Stopping on: a
// worker that is draining its activities is still alive but no longer ready.
type Health struct {
	checks []Check
	state  atomic.Int32
}

const (
	stateStarting int32 = iota
	stateStarted
	stateStopping
)

// NewHealth returns a Health that is not yet ready.
func NewHealth(checks ...Check) *Health { return &Health{checks: checks} }

// Started marks the worker as polling its task queue.
func (h *Health) Started() { h.state.CompareAndSwap(stateStarting, stateStarted) }

// Stopping marks the worker as draining: /readyz answers 503 from now on.
func (h *Health) Stopping() { h.state.Store(stateStopping) }

func (h *Health) live(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

func (h *Health) ready(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	switch h.state.Load() {
	case stateStarting:
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "starting")
		return
	case stateStopping:
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "stopping")
		return
	}
	var failed []string
	for _, c := range h.checks {
		ctx, cancel := context.WithTimeout(r.Context(), checkTimeout)
		err := c.Func(ctx)
		cancel()
		if err != nil {
			failed = append(failed, c.Name)
		}
	}
	if len(failed) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "unavailable: "+strings.Join(failed, ", "))
		return
	}
	fmt.Fprintln(w, "ready")
}
