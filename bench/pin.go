package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/everywherecommerce/fulfilment/internal/testbed"
)

// cpuSplit gives the engine (the dev server) CPUs of its own and every other
// process of the run (PostgreSQL, the worker, the starter, the bench) the rest,
// as when Temporal runs on other machines: the system's processes then no
// longer take CPU from the engine, and the engine none from them.
type cpuSplit struct {
	engine, rest unix.CPUSet
	engineList   string // as given, for the table's first line
}

// parseCPUSplit reads a list of CPU numbers ("0" or "0,2") for the engine; the
// others of this machine are the rest. At least one CPU must be left.
func parseCPUSplit(list string, ncpu int) (*cpuSplit, error) {
	s := &cpuSplit{engineList: list}
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 || n >= ncpu {
			return nil, fmt.Errorf("engine CPUs %q: want CPU numbers from 0 to %d, comma-separated", list, ncpu-1)
		}
		s.engine.Set(n)
	}
	for n := range ncpu {
		if !s.engine.IsSet(n) {
			s.rest.Set(n)
		}
	}
	if s.rest.Count() == 0 {
		return nil, fmt.Errorf("engine CPUs %q: leave at least one of the %d CPUs for the rest", list, ncpu)
	}
	return s, nil
}

// pin sets the CPU affinity of every thread of the processes; threads and
// processes they start later inherit it (PostgreSQL's backends are forked by
// the postmaster).
func pin(set *unix.CPUSet, pids ...int) error {
	for _, pid := range pids {
		tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
		if err != nil || len(tasks) == 0 {
			return fmt.Errorf("threads of pid %d: %v", pid, err)
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(filepath.Base(t))
			if err != nil {
				continue
			}
			if err := unix.SchedSetaffinity(tid, set); err != nil && err != unix.ESRCH { // a thread may end meanwhile
				return fmt.Errorf("pin thread %d of pid %d: %w", tid, pid, err)
			}
		}
	}
	return nil
}

// pinEngine pins the dev server to the engine's CPUs and PostgreSQL and this
// process to the rest; no split, nothing.
func (b *bench) pinEngine() error {
	if b.cfg.engineCPUs == nil {
		return nil
	}
	if err := pin(&b.cfg.engineCPUs.engine, b.tb.Temporal.Pid()); err != nil {
		return err
	}
	pg, err := b.tb.PG.PIDs() // the postmaster first, then its children
	if err != nil {
		return err
	}
	if err := pin(&b.cfg.engineCPUs.rest, pg[0], os.Getpid()); err != nil {
		return err
	}
	for _, pid := range pg[1:] {
		_ = pin(&b.cfg.engineCPUs.rest, pid) // a backend may end between listing and pinning
	}
	return nil
}

// pinServices pins a stage's worker and starter to the rest.
func (b *bench) pinServices(sv *testbed.Services) error {
	if b.cfg.engineCPUs == nil {
		return nil
	}
	return pin(&b.cfg.engineCPUs.rest, sv.Worker.Pid(), sv.Starter.Pid())
}

// note is the table's word on the split ("" without one).
func (s *cpuSplit) note() string {
	if s == nil {
		return ""
	}
	return fmt.Sprintf("; the dev server alone on CPU %s, every other process on the other %d", s.engineList, s.rest.Count())
}
