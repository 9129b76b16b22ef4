// Package admin serves a process's operator endpoints: Go's profiles
// (/debug/pprof/*, net/http/pprof), its published variables (/debug/vars,
// expvar, with the runtime's memstats) and, for the worker, which has no other
// listener, its probes (/healthz and /readyz, see Health). They live on a listener of their own,
// never on the public API's mux: profiles show internals and a CPU profile costs
// CPU, so the address is off by default and meant for loopback or a private
// network (docs/configuration.md).
package admin

import (
	"context"
	"errors"
	"expvar"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// Handler is the admin mux: /debug/pprof/ (index and named profiles such as
// heap, goroutine and allocs), the CPU profile and execution trace, and
// /debug/vars (expvar: memstats.HeapAlloc, cmdline, anything published); with
// health, GET /healthz and GET /readyz too; with metrics, GET /metrics
// (Prometheus text, docs/observability.md).
func Handler(health *Health, metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}
	if health != nil {
		mux.HandleFunc("GET /healthz", health.live)
		mux.HandleFunc("GET /readyz", health.ready)
	}
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/debug/vars", expvar.Handler())
	return mux
}

// writeTimeout bounds a response; it exceeds pprof's longest sensible CPU
// profile or trace (?seconds=60), which pprof refuses when it would not fit.
const writeTimeout = 90 * time.Second

// Serve listens on addr and serves Handler(health, metrics) until ctx ends; an empty
// addr means the endpoints are off, and Serve just waits for ctx. The listener
// is opened before Serve logs the address, so a caller can rely on it once
// logged.
func Serve(ctx context.Context, addr string, health *Health, metrics http.Handler, logger *slog.Logger) error {
	if addr == "" {
		<-ctx.Done()
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("admin: listen on %s: %w", addr, err)
	}
	hs := &http.Server{
		Handler:           Handler(health, metrics),
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       90 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	paths := "/debug/pprof/ /debug/vars"
	if health != nil {
		paths += " /healthz /readyz"
	}
	if metrics != nil {
		paths += " /metrics"
	}
	logger.Info("admin endpoints listening", "addr", ln.Addr().String(), "paths", paths)
	select {
	case err := <-errc:
		return fmt.Errorf("admin: serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("admin: shut down: %w", err)
	}
	return nil
}
