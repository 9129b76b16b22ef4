package main

import (
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/everywherecommerce/fulfilment/internal/testbed"
)

// config is one bench run: how many orders each figure is measured over.
type config struct {
	// pathOrders is the number of orders per path whose Actions and history
	// events are averaged.
	pathOrders int
	// checkouts1 and checkouts10 are the checkouts timed at concurrency 1 and 10
	// (each, for ours and for the bare Update-with-Start); warmup is sent first
	// and not timed.
	checkouts1, checkouts10, warmup int
	// openOrders are the open-order counts (besides 0) at which the worker's
	// memory is read, ascending.
	openOrders []int
	// memoryPicks is how many of the newest, and as many of the oldest, open
	// orders staff pick (timed) after the last count (at most half of them each).
	memoryPicks int
	// memoryDir receives the memory stage's heap profiles; "" is memory/ in the
	// testbed's directory (kept with keep).
	memoryDir string
	// serviceEnv is extra environment (KEY=VALUE) for every stage's worker and
	// starter, such as FULFILMENT_WORKFLOW_CACHE=500.
	serviceEnv []string
	// throughputOrders is the number of complete lifecycles per concurrency.
	throughputOrders int
	// patience bounds every wait for an order (a stage, a closed workflow).
	patience time.Duration
	// stages are the parts of the table measured (all by default).
	stages map[string]bool
	// out is the Markdown file the table is written to ("-": stdout only).
	out string
	// readme is the file whose cost table (between costTableBegin and
	// costTableEnd) the paths stage rewrites ("-": none).
	readme string
	keep   bool
	// profileDir, when set, gets CPU profiles of the worker and the starter and
	// PostgreSQL's statements per order during each throughput cell of ours.
	profileDir string
	// pgSettings are extra PostgreSQL server settings ("name=value").
	pgSettings []string
	// engineCPUs, when set, gives the dev server CPUs of its own (cpuSplit).
	engineCPUs *cpuSplit
	// showShape logs the first order's history of every path, one word per event.
	showShape bool
	// repo is the repository root (built from); temporalCLI the dev server binary.
	repo, temporalCLI string
}

// defaultConfig is `make bench`.
func defaultConfig() config {
	return config{stages: map[string]bool{"paths": true, "latency": true, "memory": true, "throughput": true}, pathOrders: 5, checkouts1: 200, checkouts10: 400, warmup: 20, openOrders: []int{1000, 5000},
		memoryPicks: 200, memoryDir: filepath.Join("bench", "last-run-memory"), throughputOrders: 300, patience: 2 * time.Minute, out: filepath.Join("bench", "last-run.md"), readme: "README.md"}
}

// allStages are the parts of the table, in the order they are measured.
func allStages() []string { return []string{"paths", "latency", "memory", "throughput"} }

// loadConfig reads the flags and the BENCH_* environment (flags win).
func loadConfig(args []string, getenv func(string) string) (config, error) {
	c := defaultConfig()
	var problems []error
	intEnv := func(name string, dst *int) {
		if v := getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				problems = append(problems, fmt.Errorf("%s=%q: %w", name, v, err))
			}
			*dst = n
		}
	}
	intEnv("BENCH_PATH_ORDERS", &c.pathOrders)
	intEnv("BENCH_CHECKOUTS_C1", &c.checkouts1)
	intEnv("BENCH_CHECKOUTS_C10", &c.checkouts10)
	intEnv("BENCH_WARMUP", &c.warmup)
	intEnv("BENCH_THROUGHPUT_ORDERS", &c.throughputOrders)
	intEnv("BENCH_MEMORY_PICKS", &c.memoryPicks)
	serviceEnv := getenv("BENCH_SERVICE_ENV")
	if v := getenv("BENCH_MEMORY_DIR"); v != "" {
		c.memoryDir = v
	}
	open := joinInts(c.openOrders)
	if v := getenv("BENCH_OPEN_ORDERS"); v != "" {
		open = v
	}
	if v := getenv("BENCH_OUT"); v != "" {
		c.out = v
	}
	if v := getenv("BENCH_README"); v != "" {
		c.readme = v
	}
	c.keep = getenv("BENCH_KEEP") == "1"
	c.profileDir = getenv("BENCH_PROFILE_DIR")
	engineCPUs, pgSettings := getenv("BENCH_ENGINE_CPUS"), getenv("BENCH_PG_SETTINGS")
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.IntVar(&c.pathOrders, "path-orders", c.pathOrders, "orders per path for Actions and events (BENCH_PATH_ORDERS)")
	fs.IntVar(&c.checkouts1, "checkouts-c1", c.checkouts1, "timed checkouts at concurrency 1 (BENCH_CHECKOUTS_C1)")
	fs.IntVar(&c.checkouts10, "checkouts-c10", c.checkouts10, "timed checkouts at concurrency 10 (BENCH_CHECKOUTS_C10)")
	fs.IntVar(&c.warmup, "warmup", c.warmup, "untimed checkouts before each cell (BENCH_WARMUP)")
	fs.StringVar(&open, "open-orders", open, "open-order counts for the worker's memory, comma-separated (BENCH_OPEN_ORDERS)")
	fs.IntVar(&c.memoryPicks, "memory-picks", c.memoryPicks, "newest and then oldest open orders picked after the last count (BENCH_MEMORY_PICKS)")
	fs.StringVar(&c.memoryDir, "memory-dir", c.memoryDir, "directory for the memory stage's heap profiles, - for the testbed's (BENCH_MEMORY_DIR)")
	fs.StringVar(&serviceEnv, "service-env", serviceEnv, "extra KEY=VALUE settings, space-separated, for every worker and starter (BENCH_SERVICE_ENV)")
	fs.IntVar(&c.throughputOrders, "throughput-orders", c.throughputOrders, "complete lifecycles per concurrency (BENCH_THROUGHPUT_ORDERS)")
	stages := strings.Join(allStages(), ",")
	if v := getenv("BENCH_STAGES"); v != "" {
		stages = v
	}
	fs.StringVar(&stages, "stages", stages, "parts to measure, comma-separated: "+strings.Join(allStages(), ",")+" (BENCH_STAGES)")
	fs.StringVar(&c.out, "out", c.out, "Markdown file for the table, - for stdout only (BENCH_OUT)")
	fs.StringVar(&c.readme, "readme", c.readme, "file whose cost table the paths stage rewrites, - for none (BENCH_README)")
	fs.BoolVar(&c.showShape, "show-history", c.showShape, "log the first order's history of every path")
	fs.StringVar(&c.profileDir, "profile-dir", c.profileDir, "save CPU profiles of worker and starter and PostgreSQL's statements of each throughput cell here (BENCH_PROFILE_DIR)")
	fs.StringVar(&pgSettings, "pg-settings", pgSettings, "extra PostgreSQL settings name=value, space-separated (BENCH_PG_SETTINGS)")
	fs.StringVar(&engineCPUs, "engine-cpus", engineCPUs, "CPUs of the dev server alone, comma-separated; every other process gets the rest (BENCH_ENGINE_CPUS)")
	fs.BoolVar(&c.keep, "keep", c.keep, "keep the temporary directory with logs and data (BENCH_KEEP=1)")
	if err := fs.Parse(args); err != nil {
		return c, fmt.Errorf("parse flags: %w", err)
	}
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	counts, err := parseInts(open)
	if err != nil {
		problems = append(problems, fmt.Errorf("open orders %q: %w", open, err))
	}
	c.openOrders = counts
	c.serviceEnv = pairs(serviceEnv, "service environment %q: want KEY=VALUE", &problems)
	c.pgSettings = pairs(pgSettings, "PostgreSQL setting %q: want name=value", &problems)
	if engineCPUs != "" {
		split, err := parseCPUSplit(engineCPUs, runtime.NumCPU())
		if err != nil {
			problems = append(problems, err)
		}
		c.engineCPUs = split
	}
	if c.memoryDir == "-" {
		c.memoryDir = ""
	}
	c.stages = map[string]bool{}
	for _, st := range strings.Split(stages, ",") {
		if st = strings.TrimSpace(st); !slices.Contains(allStages(), st) {
			problems = append(problems, fmt.Errorf("stage %q: want one of %s", st, strings.Join(allStages(), ",")))
		}
		c.stages[st] = true
	}
	problems = append(problems, c.complete(getenv))
	return c, errors.Join(problems...)
}

// pairs are the space-separated name=value words of s; a word without a name
// and "=" is a problem (bad formats it).
func pairs(s, bad string, problems *[]error) []string {
	var out []string
	for _, kv := range strings.Fields(s) {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			*problems = append(*problems, fmt.Errorf(bad, kv))
			continue
		}
		out = append(out, kv)
	}
	return out
}

// complete checks the counts and finds the repository and the Temporal CLI.
func (c *config) complete(getenv func(string) string) error {
	var problems []error
	for name, n := range map[string]int{"path orders": c.pathOrders, "checkouts at c=1": c.checkouts1,
		"checkouts at c=10": c.checkouts10, "throughput orders": c.throughputOrders} {
		if n < 1 || n > 100_000 {
			problems = append(problems, fmt.Errorf("%s = %d: want 1 to 100000", name, n))
		}
	}
	if c.warmup < 0 || c.memoryPicks < 0 {
		problems = append(problems, fmt.Errorf("warm-up %d, memory picks %d: want 0 or more", c.warmup, c.memoryPicks))
	}
	for i, n := range c.openOrders {
		if n < 1 || (i > 0 && n <= c.openOrders[i-1]) {
			problems = append(problems, fmt.Errorf("open orders %v: want positive counts, ascending", c.openOrders))
			break
		}
	}
	repo, cli, err := testbed.Locate(getenv)
	if err != nil {
		problems = append(problems, err)
	}
	c.repo, c.temporalCLI = repo, cli
	return errors.Join(problems...)
}

// parseInts parses "1000,5000" ("" is none).
func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("parse %q: %w", f, err)
		}
		out = append(out, n)
	}
	return out, nil
}

func joinInts(ns []int) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ",")
}
