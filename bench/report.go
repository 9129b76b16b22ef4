package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

// report is what a run measured, in the order of the table's rows.
type report struct {
	cfg        config
	started    time.Time
	paths      []pathCost
	latency    []latencyCell
	memory     memoryStage
	throughput throughput
}

func newReport(cfg config, started time.Time) *report {
	return &report{cfg: cfg, started: started}
}

// row is one line of the table: a figure, ours, the engine's baseline where
// there is one, and ours divided by the baseline.
type row struct {
	figure, ours, baseline, ratio string
}

// rows are the table's lines.
func (r *report) rows() []row {
	var out []row
	for _, p := range r.paths {
		out = append(out, row{figure: "Actions per order, " + p.name, ours: fmt.Sprintf("%.1f", p.actionsPerOrder)})
	}
	for _, p := range r.paths {
		out = append(out, row{figure: "History events per order, " + p.name, ours: fmt.Sprintf("%.1f", p.eventsPerOrder)})
	}
	for _, p := range r.paths {
		out = append(out, row{figure: "History KiB per order, " + p.name, ours: fmt.Sprintf("%.1f", p.historyBytes/1024)})
	}
	for _, p := range r.paths {
		out = append(out, row{figure: "PostgreSQL rows per order, " + p.name, ours: fmt.Sprintf("%.1f", p.pgRows)},
			row{figure: "PostgreSQL row KiB per order, " + p.name, ours: fmt.Sprintf("%.1f", p.pgBytes/1024)})
	}
	for _, c := range r.latency {
		for _, q := range []struct {
			name       string
			ours, bare time.Duration
		}{{"p50", c.ours.p50, c.bare.p50}, {"p95", c.ours.p95, c.bare.p95}, {"p99", c.ours.p99, c.bare.p99}} {
			out = append(out, row{figure: fmt.Sprintf("Checkout latency %s at c=%d (n=%d), ms", q.name, c.concurrency, c.n),
				ours: millis(q.ours), baseline: millis(q.bare), ratio: ratio(q.ours.Seconds(), q.bare.Seconds())})
		}
	}
	for _, c := range r.latency {
		out = append(out, cpuRows(fmt.Sprintf("CPU per checkout at c=%d", c.concurrency), c.cpuOurs, c.cpuBare)...)
	}
	for _, m := range r.memory.points {
		out = append(out, row{figure: fmt.Sprintf("Worker RSS at %s, MiB", m.what()), ours: mib(m.rss)})
		heap, stack, goroutines := "n/a", "n/a", "n/a"
		if m.known {
			heap, stack, goroutines = mib(m.admin.heapAlloc), mib(m.admin.stackInuse), fmt.Sprint(m.admin.goroutines)
		}
		out = append(out, row{figure: fmt.Sprintf("Worker live heap at %s, MiB", m.what()), ours: heap},
			row{figure: fmt.Sprintf("Worker stack in use at %s, MiB", m.what()), ours: stack},
			row{figure: fmt.Sprintf("Worker goroutines at %s", m.what()), ours: goroutines})
	}
	if r.memory.peakRSS > 0 {
		out = append(out, row{figure: "Worker peak RSS (VmHWM) over the memory stage, MiB", ours: mib(r.memory.peakRSS)})
	}
	for _, p := range r.memory.picks {
		out = append(out, row{figure: fmt.Sprintf("Picks per second of the %d %s of %d open orders at c=%d", p.n, p.which, p.placedFirst, p.c),
			ours: fmt.Sprintf("%.1f", perSecond(p.n, p.took))})
	}
	t := r.throughput
	if len(t.cells) > 0 {
		out = append(out, row{figure: "Actions per order of the throughput run (ceiling: the same footprint, no-op activities)",
			ours: fmt.Sprintf("%.1f", t.actionsOurs), baseline: fmt.Sprintf("%.1f", t.actionsCeiling), ratio: ratio(t.actionsOurs, t.actionsCeiling)})
	}
	for _, c := range t.cells {
		ours, ceiling := perSecond(c.orders, c.ours), perSecond(c.orders, c.ceiling)
		out = append(out, row{figure: fmt.Sprintf("Completed ship-to-store orders per second at c=%d (n=%d)", c.concurrency, c.orders),
			ours: fmt.Sprintf("%.1f", ours), baseline: fmt.Sprintf("%.1f", ceiling), ratio: ratio(ours, ceiling)})
	}
	for _, c := range t.cells {
		out = append(out, cpuRows(fmt.Sprintf("CPU per order at c=%d", c.concurrency), c.cpuPerOrder, c.cpuPerCeilingOrder)...)
	}
	return out
}

// cpuRows are a cell's CPU per call by part and in all, ours next to the
// baseline's where it was measured.
func cpuRows(what string, ours, baseline map[string]time.Duration) []row {
	var out []row
	for _, part := range append(cpuParts(), partsTotal) {
		r := row{figure: fmt.Sprintf("%s, %s, ms", what, part), ours: millis(ours[part])}
		if b, ok := baseline[part]; ok {
			r.baseline, r.ratio = millis(b), ratio(ours[part].Seconds(), b.Seconds())
		}
		out = append(out, r)
	}
	return out
}

func mib(n int64) string { return fmt.Sprintf("%.1f", float64(n)/(1<<20)) }

func millis(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }

// ratio is ours / baseline with two decimals, "–" without a baseline.
func ratio(ours, baseline float64) string {
	if baseline <= 0 {
		return ""
	}
	return fmt.Sprintf("%.2f", ours/baseline)
}

// markdown is the table with a line saying which run it is.
func (r *report) markdown() string {
	var b strings.Builder
	c := r.cfg
	fmt.Fprintf(&b, "Run of %s on %s/%s with %d CPUs: %d orders per path; %d and %d checkouts at c=1 and c=10 after %d untimed; "+
		"open orders %v; %d lifecycles per concurrency%s.\n\n",
		r.started.UTC().Format("2006-01-02 15:04 MST"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), c.pathOrders,
		c.checkouts1, c.checkouts10, c.warmup, c.openOrders, c.throughputOrders, serviceEnvNote(c.serviceEnv)+pgSettingsNote(c.pgSettings)+c.engineCPUs.note())
	b.WriteString("| figure | ours | baseline | ours / baseline |\n|---|---:|---:|---:|\n")
	for _, row := range r.rows() {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", row.figure, row.ours, orDash(row.baseline), orDash(row.ratio))
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// The README's cost table lies between these lines; make bench rewrites it.
const (
	costTableBegin = "<!-- cost table: written by make bench (bench/report.go), do not edit -->"
	costTableEnd   = "<!-- end of cost table -->"
)

// costTable is the Actions, history events and bytes, and PostgreSQL rows per
// order of every path measured.
func (r *report) costTable() string {
	var b strings.Builder
	fmt.Fprintf(&b, "| path | Actions per order | history events per order | history KiB per order | PostgreSQL rows per order |\n|---|---:|---:|---:|---:|\n")
	for _, p := range r.paths {
		fmt.Fprintf(&b, "| %s | %.1f | %.1f | %.1f | %.1f |\n", p.name, p.actionsPerOrder, p.eventsPerOrder, p.historyBytes/1024, p.pgRows)
	}
	fmt.Fprintf(&b, "\nMeasured by `make bench` on %s (%d orders per path, dev server `action` metric).\n",
		r.started.UTC().Format("2006-01-02 15:04 MST"), r.cfg.pathOrders)
	return b.String()
}

// updateCostTable rewrites the cost table of path (the README) when the paths were
// measured; a file without the two marker lines is an error, so the table cannot
// silently go stale.
func (r *report) updateCostTable(path string) error {
	if path == "" || path == "-" || len(r.paths) == 0 {
		return nil
	}
	old, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s for its cost table: %w", path, err)
	}
	updated, err := replaceBetween(old, costTableBegin, costTableEnd, r.costTable())
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := os.WriteFile(path, updated, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// replaceBetween replaces what lies between the lines begin and end of doc.
func replaceBetween(doc []byte, begin, end, with string) ([]byte, error) {
	i := bytes.Index(doc, []byte(begin+"\n"))
	j := bytes.Index(doc, []byte(end))
	if i < 0 || j < i {
		return nil, fmt.Errorf("no cost table: want a line %q and, after it, a line %q", begin, end)
	}
	var out bytes.Buffer
	out.Write(doc[:i+len(begin)+1])
	out.WriteString(with)
	out.Write(doc[j:])
	return out.Bytes(), nil
}

// pgSettingsNote names the run's own PostgreSQL settings, if any.
func pgSettingsNote(settings []string) string {
	if len(settings) == 0 {
		return ""
	}
	return "; PostgreSQL with " + strings.Join(settings, " ")
}

// serviceEnvNote names the run's own service settings, if any.
func serviceEnvNote(env []string) string {
	if len(env) == 0 {
		return ""
	}
	return "; services with " + strings.Join(env, " ")
}
