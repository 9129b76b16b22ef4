package main

import (
	"context"
	"expvar"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestBenchTiny runs the whole bench with tiny counts (2 orders per path, 10
// checkouts per cell, 20 open orders with 10 of them picked, 10 lifecycles per
// concurrency) against a testbed of its own and checks that the table has every
// row, each with a figure that is a positive number (the worker's heap, stacks
// and goroutines may be n/a while it has no admin address; a part's CPU per
// checkout may be 0), the CPU rows with their baseline's, and that the memory
// stage saved a heap profile per count. It needs the Temporal CLI (TEMPORAL_CLI, exported by
// make test, or bin/temporal) and PostgreSQL's server binaries.
func TestBenchTiny(t *testing.T) {
	if testing.Short() {
		t.Skip("the bench starts a system of its own")
	}
	cfg := defaultConfig()
	cfg.pathOrders, cfg.checkouts1, cfg.checkouts10, cfg.warmup = 2, 10, 10, 2
	cfg.openOrders, cfg.throughputOrders, cfg.out, cfg.readme, cfg.memoryDir = []int{20}, 10, "-", "-", t.TempDir()
	if err := cfg.complete(os.Getenv); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	rep, err := run(ctx, cfg, slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + rep.markdown())
	want := map[string]int{"Actions per order, ": 6, "History events per order, ": 6, "History KiB per order, ": 6,
		"PostgreSQL rows per order, ": 6, "PostgreSQL row KiB per order, ": 6, "Checkout latency ": 6,
		"Worker RSS at ": 3, "Worker live heap at ": 3, "Worker stack in use at ": 3, "Worker goroutines at ": 3,
		"Worker peak RSS": 1, "Picks per second of the 10 ": 2, "Completed ship-to-store orders per second": 2, "CPU per order ": 12, "CPU per checkout ": 12, "Actions per order of the throughput run": 1}
	got := map[string]int{}
	for _, r := range rep.rows() {
		for prefix := range want {
			if strings.HasPrefix(r.figure, prefix) {
				got[prefix]++
			}
		}
		if r.ours == "n/a" && (strings.HasPrefix(r.figure, "Worker live heap") || strings.HasPrefix(r.figure, "Worker stack") ||
			strings.HasPrefix(r.figure, "Worker goroutines")) {
			continue
		}
		// A part may spend less than a clock tick (10 ms) on ten checkouts.
		if strings.HasPrefix(r.figure, "CPU per checkout ") && !strings.HasSuffix(r.figure, partsTotal+", ms") {
			if v, err := strconv.ParseFloat(r.ours, 64); err != nil || v < 0 {
				t.Errorf("%s: %q, want a number", r.figure, r.ours)
			}
		} else if v, err := strconv.ParseFloat(r.ours, 64); err != nil || v <= 0 {
			t.Errorf("%s: %q, want a positive number", r.figure, r.ours)
		}
		if strings.HasPrefix(r.figure, "CPU per ") {
			if v, err := strconv.ParseFloat(r.baseline, 64); err != nil || v < 0 {
				t.Errorf("%s: baseline %q, want a number", r.figure, r.baseline)
			}
		}
		if strings.HasPrefix(r.figure, "Checkout latency") || strings.HasPrefix(r.figure, "Completed ship-to-store") {
			if v, err := strconv.ParseFloat(r.baseline, 64); err != nil || v <= 0 {
				t.Errorf("%s: baseline %q, want a positive number", r.figure, r.baseline)
			}
		}
	}
	for prefix, n := range want {
		if got[prefix] != n {
			t.Errorf("rows %q…: %d, want %d", prefix, got[prefix], n)
		}
	}
	for _, name := range []string{"heap-0.top", "heap-20.top", "heap-20-after-20-picks.top"} {
		if data, err := os.ReadFile(filepath.Join(cfg.memoryDir, name)); err != nil || !strings.Contains(string(data), "flat%") {
			t.Errorf("%s: %v, want `go tool pprof -top` text", name, err)
		}
	}
	// The ceiling copies an order's footprint: the same Actions, give or take the
	// timer a fast handover saves (started and cancelled in one workflow task).
	if d := rep.throughput.actionsOurs - rep.throughput.actionsCeiling; d < -1.5 || d > 1.5 {
		t.Errorf("Actions per order %.1f, ceiling %.1f: the footprints differ", rep.throughput.actionsOurs, rep.throughput.actionsCeiling)
	}
	// A happy path costs more than a cancellation, and every path has Actions.
	costs := map[string]float64{}
	for _, p := range rep.paths {
		costs[p.name] = p.actionsPerOrder
	}
	if costs["in-store pick"] <= costs["cancel while picking"] {
		t.Errorf("in-store pick %.1f Actions, cancel %.1f: a full lifecycle must cost more", costs["in-store pick"], costs["cancel while picking"])
	}
}

// TestWorkerMemoryReadsExpvarAfterGC: with an admin address serving pprof and
// expvar, the live heap is memstats.HeapAlloc after one forced collection, the
// stacks memstats.StackInuse, the goroutines the goroutine profile's total, and
// the heap profile is saved; without one nothing is known.
func TestWorkerMemoryReadsExpvarAfterGC(t *testing.T) {
	mux := http.NewServeMux()
	var gcs atomic.Int32
	mux.HandleFunc("/debug/pprof/heap", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("gc") == "1" {
			gcs.Add(1)
		}
		pprof.Handler("heap").ServeHTTP(w, r)
	})
	mux.Handle("/debug/pprof/goroutine", pprof.Handler("goroutine"))
	mux.Handle("/debug/vars", expvar.Handler())
	srv := httptest.NewServer(mux)
	defer srv.Close()
	profile := filepath.Join(t.TempDir(), "heap.pb.gz")
	m, ok := readWorkerMemory(context.Background(), srv.Client(), strings.TrimPrefix(srv.URL, "http://"), profile)
	if !ok || m.heapAlloc <= 0 || m.stackInuse <= 0 || m.goroutines <= 0 || gcs.Load() != 1 {
		t.Errorf("readWorkerMemory = %+v, %v after %d forced GCs; want positive figures after one", m, ok, gcs.Load())
	}
	if fi, err := os.Stat(profile); err != nil || fi.Size() == 0 {
		t.Errorf("heap profile: %v, %v", fi, err)
	}
	if _, ok := readWorkerMemory(context.Background(), srv.Client(), "127.0.0.1:1", ""); ok {
		t.Error("readWorkerMemory of an address nobody serves: want not ok")
	}
}

// TestOwnProcessFigures: RSS and CPU time of this test process are positive.
func TestOwnProcessFigures(t *testing.T) {
	rss, err := rssBytes(os.Getpid())
	if err != nil || rss <= 0 {
		t.Errorf("rssBytes = %d, %v", rss, err)
	}
	for start := time.Now(); time.Since(start) < 30*time.Millisecond; { // burn a little CPU
	}
	cpu, err := cpuTime(os.Getpid())
	if err != nil || cpu <= 0 {
		t.Errorf("cpuTime = %s, %v", cpu, err)
	}
}

func TestPercentilesAndDaytime(t *testing.T) {
	var sample []time.Duration
	for i := 100; i >= 1; i-- {
		sample = append(sample, time.Duration(i)*time.Millisecond)
	}
	if p := percentilesOf(sample); p.p50 != 50*time.Millisecond || p.p95 != 95*time.Millisecond || p.p99 != 99*time.Millisecond {
		t.Errorf("percentiles of 1..100 ms = %+v", p)
	}
	for h := range 24 {
		now := time.Date(2026, 12, 1, h, 30, 0, 0, time.UTC)
		loc, err := time.LoadLocation(daytimeZone(now))
		if err != nil {
			t.Fatal(err)
		}
		if local := now.In(loc).Hour(); local != 13 {
			t.Errorf("%02d:30 UTC in %s is %02d h, want 13", h, daytimeZone(now), local)
		}
	}
}

// TestCPUSplit: the engine gets the CPUs named, the rest every other; a list
// that names no CPU of this machine, or all of them, is refused.
func TestCPUSplit(t *testing.T) {
	s, err := parseCPUSplit("0", 4)
	if err != nil || !s.engine.IsSet(0) || s.engine.Count() != 1 || s.rest.Count() != 3 || s.rest.IsSet(0) {
		t.Errorf("parseCPUSplit(0 of 4) = %+v, %v", s, err)
	}
	if !strings.Contains(s.note(), "CPU 0, every other process on the other 3") {
		t.Errorf("note = %q", s.note())
	}
	for _, bad := range []string{"", "x", "4", "-1", "0,1,2,3"} {
		if _, err := parseCPUSplit(bad, 4); err == nil {
			t.Errorf("parseCPUSplit(%q of 4): want an error", bad)
		}
	}
	var none *cpuSplit
	if none.note() != "" {
		t.Error("no split: want no note")
	}
}

// TestConfigSplitAndPGSettings: BENCH_ENGINE_CPUS and BENCH_PG_SETTINGS (or
// their flags) reach the run's configuration and its table's first line, and
// bad ones are named.
func TestConfigSplitAndPGSettings(t *testing.T) {
	env := map[string]string{"BENCH_ENGINE_CPUS": "0", "BENCH_PG_SETTINGS": "synchronous_commit=off  work_mem=8MB"}
	c, err := loadConfig(nil, func(k string) string { return env[k] })
	if err != nil && (strings.Contains(err.Error(), "engine CPUs") || strings.Contains(err.Error(), "PostgreSQL setting")) {
		t.Fatalf("loadConfig: %v", err)
	}
	if runtime.NumCPU() > 1 && (c.engineCPUs == nil || !c.engineCPUs.engine.IsSet(0)) {
		t.Errorf("engine CPUs = %+v, want CPU 0", c.engineCPUs)
	}
	if got := strings.Join(c.pgSettings, " "); got != "synchronous_commit=off work_mem=8MB" {
		t.Errorf("PostgreSQL settings = %q", got)
	}
	if note := pgSettingsNote(c.pgSettings); note != "; PostgreSQL with synchronous_commit=off work_mem=8MB" {
		t.Errorf("note = %q", note)
	}
	_, err = loadConfig([]string{"-pg-settings", "fsync", "-engine-cpus", "99"}, func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), `PostgreSQL setting "fsync"`) || !strings.Contains(err.Error(), `engine CPUs "99"`) {
		t.Errorf("bad settings: %v, want both named", err)
	}
}
