package main

import (
	"context"
	"encoding/json"
	"fmt"
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
func rssBytes(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("status of pid %d: %w", pid, err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmRSS of pid %d: %w", pid, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
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

// liveHeap asks the worker's admin address (FULFILMENT_ADMIN_ADDR) to collect
// garbage (/debug/pprof/heap?gc=1) and then reads memstats.HeapAlloc from expvar
// (/debug/vars): the heap the open orders keep alive. ok is false when the
// worker does not serve those endpoints.
func liveHeap(ctx context.Context, hc *http.Client, addr string) (int64, bool) {
	get := func(path string) (*http.Response, bool) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
		if err != nil {
			return nil, false
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, false
		}
		if resp.StatusCode != http.StatusOK {
			_ = resp.Body.Close() // only the status matters
			return nil, false
		}
		return resp, true
	}
	gc, ok := get("/debug/pprof/heap?gc=1")
	if !ok {
		return 0, false
	}
	_ = gc.Body.Close() // the profile is not needed, only the collection before it
	resp, ok := get("/debug/vars")
	if !ok {
		return 0, false
	}
	defer resp.Body.Close()
	var vars struct {
		Memstats struct {
			HeapAlloc int64 `json:"HeapAlloc"`
		} `json:"memstats"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&vars); err != nil || vars.Memstats.HeapAlloc == 0 {
		return 0, false
	}
	return vars.Memstats.HeapAlloc, true
}
