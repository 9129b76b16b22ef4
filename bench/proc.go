package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat: 100
// on every Linux architecture Go supports.
const clockTicks = 100

// rssBytes is VmRSS of /proc/<pid>/status: the process's resident memory.
func rssBytes(pid int) (int64, error) { return procStatusBytes(pid, "VmRSS:") }

// procStatusBytes is a "kB" field of /proc/<pid>/status (VmRSS:, VmHWM:) in bytes.
func procStatusBytes(pid int, field string) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("status of pid %d: %w", pid, err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%s of pid %d: %w", field, pid, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("no %s for pid %d", field, pid)
}

// cpuTime is utime+stime of /proc/<pid>/stat: the CPU the process has used.
func cpuTime(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("stat of pid %d: %w", pid, err)
	}
	// The command name (field 2) may hold spaces; the fields after its ")" are fixed.
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("stat of pid %d: %d fields", pid, len(fields))
	}
	var ticks int64
	for _, f := range fields[11:13] { // utime, stime: fields 14 and 15 of stat
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("stat of pid %d: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// workerMemory is what the worker's admin address tells about its memory.
type workerMemory struct {
	heapAlloc  int64 // memstats.HeapAlloc after a forced collection: live heap
	stackInuse int64 // memstats.StackInuse: goroutine stacks
	sys        int64 // memstats.Sys: everything the runtime got from the OS
	released   int64 // memstats.HeapReleased: returned to the OS
	goroutines int
}

// readWorkerMemory asks the worker's admin address (FULFILMENT_ADMIN_ADDR) for
// a heap profile after a forced collection (/debug/pprof/heap?gc=1), saved to
// profile ("" for none), then reads memstats from expvar (/debug/vars) and the
// goroutine count (/debug/pprof/goroutine?debug=1). ok is false when the
// worker does not serve those endpoints.
func readWorkerMemory(ctx context.Context, hc *http.Client, addr, profile string) (workerMemory, bool) {
	var m workerMemory
	get := func(path string) ([]byte, bool) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
		if err != nil {
			return nil, false
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, false
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return body, err == nil && resp.StatusCode == http.StatusOK
	}
	heap, ok := get("/debug/pprof/heap?gc=1")
	if !ok {
		return m, false
	}
	if profile != "" {
		if err := os.WriteFile(profile, heap, 0o644); err != nil {
			return m, false
		}
	}
	vars, ok := get("/debug/vars")
	if !ok {
		return m, false
	}
	var v struct {
		Memstats struct {
			HeapAlloc, StackInuse, Sys, HeapReleased int64
		} `json:"memstats"`
	}
	if err := json.Unmarshal(vars, &v); err != nil || v.Memstats.HeapAlloc == 0 {
		return m, false
	}
	m.heapAlloc, m.stackInuse, m.sys, m.released = v.Memstats.HeapAlloc, v.Memstats.StackInuse, v.Memstats.Sys, v.Memstats.HeapReleased
	goroutines, ok := get("/debug/pprof/goroutine?debug=1")
	if !ok {
		return m, false
	}
	first, _, _ := strings.Cut(string(goroutines), "\n")
	n, err := strconv.Atoi(strings.TrimPrefix(first, "goroutine profile: total "))
	if err != nil {
		return m, false
	}
	m.goroutines = n
	return m, true
}
