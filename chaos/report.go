package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/everywherecommerce/fulfilment/internal/testbed"
)

// report is a finished run: what was done, what broke, and the invariants.
type report struct {
	cfg     config
	orders  []*orderRun
	faults  []faultRecord
	timings timings
	exits   map[string][]testbed.ExitRecord
	results []result
	// retries, missed: requests the clients sent again, outbox messages the
	// customers' poller never saw.
	retries, missed int64
	// histories are the workflow histories of the orders named in violations
	// (order ID → lines), or why one could not be read.
	histories map[string][]string
}

// violations counts the violations of every invariant.
func (r *report) violations() int {
	n := 0
	for _, res := range r.results {
		n += len(res.violations)
	}
	return n
}

// maxDetails bounds the lines printed per invariant and the journeys shown.
const maxDetails = 40

// print writes the run, the table of invariants and the details of every violation.
func (r *report) print(w io.Writer) {
	what := "Chaos run"
	if r.cfg.attached() {
		what = "Scale-out run on the Temporal cluster at " + r.cfg.temporalAddr
	}
	fmt.Fprintf(w, "\n== %s: %d orders, seed %d, sandbox fault rate %g ==\n", what, len(r.orders), r.cfg.seed, r.cfg.faultRate)
	r.printScenarios(w)
	r.printFaults(w)
	t := r.timings
	fmt.Fprintf(w, "\nTimings: stack up in %s (builds included); orders placed in %s; every journey ended after %s; "+
		"workflows closed %s later (%d still running then); %s in all until this report\n",
		t.setup.Round(time.Second), t.placement.Round(time.Second), t.journeys.Round(time.Second), t.settle.Round(time.Second),
		t.stillOpen, t.total.Round(time.Second))
	r.printJourneyTimes(w)
	fmt.Fprintf(w, "Clients: %d request(s) sent again after no answer or a 5xx; %d outbox message(s) left the outbox before the customers' poller saw them\n",
		r.retries, r.missed)

	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "invariant\tchecked\tviolations")
	fmt.Fprintln(tw, "---------\t-------\t----------")
	for _, res := range r.results {
		fmt.Fprintf(tw, "%s\t%d\t%d\n", res.name, res.checked, len(res.violations))
	}
	_ = tw.Flush() // writes to w, whose errors the caller cannot act on

	for _, res := range r.results {
		if len(res.violations) == 0 && len(res.notes) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n-- %s: %d violation(s)\n", res.name, len(res.violations))
		printLines(w, "  ✗ ", res.violations)
		printLines(w, "  · ", res.notes)
	}
	r.printJourneys(w)
	if n := r.violations(); n > 0 {
		fmt.Fprintf(w, "\nFAIL: %d violation(s)\n", n)
	} else {
		fmt.Fprintln(w, "\nPASS: every invariant holds")
	}
}

// printScenarios counts the orders per scenario and expected end.
func (r *report) printScenarios(w io.Writer) {
	count := map[string]int{}
	for _, o := range r.orders {
		want, _, _, _ := o.snapshot()
		count[fmt.Sprintf("%s → %s", o.plan.Kind, want.Stage)]++
	}
	fmt.Fprintln(w, "\nScenarios (kind → expected final stage):")
	for _, k := range slices.Sorted(maps.Keys(count)) {
		fmt.Fprintf(w, "  %4d  %s\n", count[k], k)
	}
}

// printJourneyTimes shows how long the journeys took: the median, the 95th
// percentile and the slowest.
func (r *report) printJourneyTimes(w io.Writer) {
	if len(r.orders) == 0 {
		return
	}
	type took struct {
		id string
		d  time.Duration
	}
	all := make([]took, len(r.orders))
	for i, o := range r.orders {
		o.mu.Lock()
		all[i] = took{o.plan.ID, o.took}
		o.mu.Unlock()
	}
	slices.SortFunc(all, func(a, b took) int { return cmp.Compare(a.d, b.d) })
	at := func(q float64) time.Duration { return all[int(q*float64(len(all)-1))].d.Round(100 * time.Millisecond) }
	last := all[len(all)-1]
	fmt.Fprintf(w, "Journeys (checkout to the last step): median %s, 95th percentile %s, slowest %s (%s)\n",
		at(0.5), at(0.95), last.d.Round(100*time.Millisecond), last.id)
}

// printFaults lists the faults as injected and the exits nobody caused.
func (r *report) printFaults(w io.Writer) {
	fmt.Fprintln(w, "\nFaults (time since the first checkout):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  at\tfault\tpid\tanswering again after\terror")
	for _, f := range r.faults {
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\n", f.at.Round(time.Second), f.kind, f.pid, f.recovered.Round(100*time.Millisecond), f.err)
	}
	_ = tw.Flush() // as above
	for _, name := range slices.Sorted(maps.Keys(r.exits)) {
		for _, e := range r.exits[name] {
			fmt.Fprintf(w, "  %s exited by itself at %s: %s (restarted)\n", name, e.At.Format("15:04:05"), e.Err)
		}
	}
}

// journeysShown are the orders that violations name, in the run's order, at
// most maxDetails/4 of them (the journeys the report shows), and how many are
// named in all.
func (r *report) journeysShown() (shown []*orderRun, named int) {
	ids := regexp.MustCompile(`CH-\d{4}`) // the run's order IDs (scenarios.go)
	names := map[string]bool{}
	for _, res := range r.results {
		for _, v := range res.violations {
			for _, id := range ids.FindAllString(v, -1) {
				names[id] = true
			}
		}
	}
	for _, o := range r.orders {
		if names[o.plan.ID] && len(shown) < maxDetails/4 {
			shown = append(shown, o)
		}
	}
	return shown, len(names)
}

// readHistories reads the workflow histories of the orders whose journeys the
// report shows, so that a failed run in CI says what the engine did while a
// journey waited.
func (r *report) readHistories(ctx context.Context, c client.Client, fc converter.FailureConverter) {
	r.histories = map[string][]string{}
	shown, _ := r.journeysShown()
	for _, o := range shown {
		lines, err := history(ctx, c, fc, o.plan.ID)
		if err != nil {
			lines = append(lines, "could not read the rest: "+err.Error())
		}
		r.histories[o.plan.ID] = lines
	}
}

// printJourneys shows what happened to the orders named in violations: the
// driver's steps and the workflow's history.
func (r *report) printJourneys(w io.Writer) {
	shown, named := r.journeysShown()
	if named == 0 {
		return
	}
	fmt.Fprintf(w, "\nJourneys of the %d order(s) named above", named)
	if named > len(shown) {
		fmt.Fprintf(w, " (the first %d)", len(shown))
	}
	fmt.Fprintln(w, ":")
	for _, o := range shown {
		want, loc, steps, _ := o.snapshot()
		fmt.Fprintf(w, "  %s (%s, %s, %s, picked at %q, customer %s) want %s:\n", o.plan.ID, o.plan.Kind, o.plan.Method,
			o.plan.StoreID, loc, o.plan.Profile, want.Stage)
		printLines(w, "      ", steps)
		if h, ok := r.histories[o.plan.ID]; ok {
			fmt.Fprintf(w, "    its workflow history (time since the workflow started; workflow tasks that went well left out):\n")
			for _, l := range h {
				fmt.Fprintf(w, "      %s\n", l)
			}
		}
	}
}

func printLines(w io.Writer, prefix string, lines []string) {
	for i, l := range lines {
		if i == maxDetails {
			fmt.Fprintf(w, "%s… and %d more\n", prefix, len(lines)-maxDetails)
			return
		}
		fmt.Fprintf(w, "%s%s\n", prefix, strings.ReplaceAll(l, "\n", " "))
	}
}
