package prometheus

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

const (
	rulesFile  = "alerts.yml"
	runbook    = "../../docs/runbook.md"
	starterSrc = "../../starter/api/metrics.go"
	runbookURL = "https://github.com/everywherecommerce/fulfilment/blob/main/docs/runbook.md#"
)

// workerSrcs register the worker's own metrics.
var workerSrcs = []string{"../../adapters/metrics/business.go", "../../adapters/metrics/alarms.go"}

type kind int

const (
	counter kind = iota
	gauge
	histogram // a Temporal SDK timer
)

// sdkMetrics are the Temporal Go SDK's metric names (v1.50,
// go.temporal.io/sdk internal/common/metrics/constants.go; the list in Temporal's
// "SDK metrics" reference).
var sdkMetrics = map[string]kind{
	"temporal_workflow_completed":                      counter,
	"temporal_workflow_canceled":                       counter,
	"temporal_workflow_failed":                         counter,
	"temporal_workflow_continue_as_new":                counter,
	"temporal_workflow_endtoend_latency":               histogram,
	"temporal_workflow_task_replay_latency":            histogram,
	"temporal_workflow_task_queue_poll_empty":          counter,
	"temporal_workflow_task_queue_poll_succeed":        counter,
	"temporal_workflow_task_schedule_to_start_latency": histogram,
	"temporal_workflow_task_execution_latency":         histogram,
	"temporal_workflow_task_execution_failed":          counter,
	"temporal_workflow_task_no_completion":             counter,
	"temporal_activity_poll_no_task":                   counter,
	"temporal_activity_schedule_to_start_latency":      histogram,
	"temporal_activity_execution_failed":               counter,
	"temporal_unregistered_activity_invocation":        counter,
	"temporal_activity_execution_latency":              histogram,
	"temporal_activity_succeed_endtoend_latency":       histogram,
	"temporal_activity_task_error":                     counter,
	"temporal_local_activity_total":                    counter,
	"temporal_local_activity_execution_cancelled":      counter,
	"temporal_local_activity_execution_failed":         counter,
	"temporal_local_activity_error":                    counter,
	"temporal_local_activity_execution_latency":        histogram,
	"temporal_local_activity_succeed_endtoend_latency": histogram,
	"temporal_corrupted_signals":                       counter,
	"temporal_worker_start":                            counter,
	"temporal_worker_task_slots_available":             gauge,
	"temporal_worker_task_slots_used":                  gauge,
	"temporal_poller_start":                            counter,
	"temporal_num_pollers":                             gauge,
	"temporal_request":                                 counter,
	"temporal_request_failure":                         counter,
	"temporal_request_latency":                         histogram,
	"temporal_long_request":                            counter,
	"temporal_long_request_failure":                    counter,
	"temporal_long_request_latency":                    histogram,
	"temporal_request_resource_exhausted":              counter,
	"temporal_long_request_resource_exhausted":         counter,
	"temporal_sticky_cache_hit":                        counter,
	"temporal_sticky_cache_miss":                       counter,
	"temporal_sticky_cache_total_forced_eviction":      counter,
	"temporal_sticky_cache_size":                       gauge,
	"temporal_workflow_active_thread_count":            gauge,
}

// serverMetrics are the self-hosted Temporal server's metrics the rules use
// (go.temporal.io/server common/metrics/metric_defs.go).
var serverMetrics = map[string]kind{
	"approximate_backlog_count":       gauge,
	"approximate_backlog_age_seconds": gauge,
	"no_poller_tasks":                 counter,
}

// starterMetrics are the starter's own (starter/api/metrics.go), exported by
// prometheus/client_golang under exactly these names.
var starterMetrics = []string{
	"fulfilment_http_requests_total",
	"fulfilment_http_request_duration_seconds_bucket",
	"fulfilment_http_request_duration_seconds_sum",
	"fulfilment_http_request_duration_seconds_count",
}

// workerMetrics are the worker's own (adapters/metrics), exported by
// prometheus/client_golang under exactly these names.
var workerMetrics = []string{
	"fulfilment_order_stages_total",
	"fulfilment_pickups_total",
	"fulfilment_messages_total",
	"fulfilment_alarm_open",
	"fulfilment_alarm_ratio",
	"fulfilment_alarm_read_errors",
}

// exportedNames is every series name our processes or the Temporal server can
// export: the SDK's and the server's in both spellings (OpenTelemetry exporter:
// counters with _total, timers as _seconds_bucket; tally: without the suffixes).
func exportedNames() map[string]bool {
	names := map[string]bool{}
	add := func(m map[string]kind) {
		for n, k := range m {
			switch k {
			case counter:
				names[n], names[n+"_total"] = true, true
			case gauge:
				names[n] = true
			case histogram:
				for _, unit := range []string{"", "_seconds"} {
					for _, s := range []string{"_bucket", "_sum", "_count"} {
						names[n+unit+s] = true
					}
				}
			}
		}
	}
	add(sdkMetrics)
	add(serverMetrics)
	for _, n := range append(append([]string(nil), starterMetrics...), workerMetrics...) {
		names[n] = true
	}
	return names
}

func loadRules(t *testing.T) *rulefmt.RuleGroups {
	t.Helper()
	p := parser.NewParser(parser.Options{})
	groups, errs := rulefmt.ParseFile(rulesFile, false, model.UTF8Validation, p, slog.Default())
	for _, err := range errs {
		t.Errorf("parse: %v", err)
	}
	if groups == nil || len(errs) > 0 {
		t.FailNow()
	}
	return groups
}

// TestRulesParse: the file is valid for Prometheus (rulefmt: YAML, unknown fields,
// durations, templates, and every expression through the PromQL parser), and every
// rule is an alert with a severity, a summary, a description and a runbook link to a
// heading that exists in docs/runbook.md.
func TestRulesParse(t *testing.T) {
	groups := loadRules(t)
	anchors := runbookAnchors(t)
	seen := map[string]bool{}
	count := 0
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			count++
			name := r.Alert
			if name == "" {
				t.Errorf("group %s: rule %q is not an alert (recording rules belong elsewhere)", g.Name, r.Record)
				continue
			}
			if seen[name] {
				t.Errorf("alert %s: defined twice", name)
			}
			seen[name] = true
			if s := r.Labels["severity"]; s != "critical" && s != "warning" {
				t.Errorf("alert %s: severity %q, want critical or warning", name, s)
			}
			for _, a := range []string{"summary", "description", "runbook_url"} {
				if strings.TrimSpace(r.Annotations[a]) == "" {
					t.Errorf("alert %s: annotation %s missing", name, a)
				}
			}
			if r.For == 0 {
				t.Errorf("alert %s: no `for`: one bad scrape would page", name)
			}
			url := r.Annotations["runbook_url"]
			anchor, ok := strings.CutPrefix(url, runbookURL)
			if !ok {
				t.Errorf("alert %s: runbook_url %q does not start with %s", name, url, runbookURL)
			} else if !anchors[anchor] {
				t.Errorf("alert %s: runbook_url anchor #%s is no heading of docs/runbook.md", name, anchor)
			}
		}
	}
	if count < 10 {
		t.Errorf("%d rules, want at least 10 (a group lost?)", count)
	}
}

// TestRuleMetricsExist: every series a rule selects is one our worker (Temporal SDK),
// our starter or the Temporal server exports. A `__name__` regex must have a finite
// set of matches (literals, alternatives, optional parts), each of them known.
func TestRuleMetricsExist(t *testing.T) {
	groups := loadRules(t)
	known := exportedNames()
	p := parser.NewParser(parser.Options{})
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			expr, err := p.ParseExpr(r.Expr)
			if err != nil {
				t.Errorf("alert %s: %v", r.Alert, err)
				continue
			}
			for _, matchers := range parser.ExtractSelectors(expr) {
				names, err := selectedNames(matchers)
				if err != nil {
					t.Errorf("alert %s: %v", r.Alert, err)
					continue
				}
				for _, n := range names {
					if !known[n] {
						t.Errorf("alert %s: metric %s is exported by none of our processes nor the Temporal server", r.Alert, n)
					}
				}
			}
		}
	}
}

// TestStarterMetricNames: the starter's names in starterMetrics are the ones
// starter/api/metrics.go registers.
func TestStarterMetricNames(t *testing.T) {
	checkNames(t, starterSrc, []string{"fulfilment_http_requests_total", "fulfilment_http_request_duration_seconds"})
}

// TestWorkerMetricNames: the worker's names in workerMetrics are the ones
// adapters/metrics registers.
func TestWorkerMetricNames(t *testing.T) {
	for _, n := range workerMetrics {
		found := false
		for _, src := range workerSrcs {
			b, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			found = found || strings.Contains(string(b), fmt.Sprintf("%q", n))
		}
		if !found {
			t.Errorf("no metric named %s in %v any more; update alerts.yml and this test", n, workerSrcs)
		}
	}
}

func checkNames(t *testing.T, file string, names []string) {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !strings.Contains(string(src), fmt.Sprintf("Name: %q", n)) && !strings.Contains(string(src), fmt.Sprintf("Name:    %q", n)) {
			t.Errorf("%s: no metric named %s any more; update alerts.yml and this test", file, n)
		}
	}
}

func selectedNames(matchers []*labels.Matcher) ([]string, error) {
	for _, m := range matchers {
		if m.Name != model.MetricNameLabel {
			continue
		}
		switch m.Type {
		case labels.MatchEqual:
			return []string{m.Value}, nil
		case labels.MatchRegexp:
			re, err := syntax.Parse(m.Value, syntax.Perl)
			if err != nil {
				return nil, fmt.Errorf("__name__=~%q: %w", m.Value, err)
			}
			names, err := expand(re.Simplify())
			if err != nil {
				return nil, fmt.Errorf("__name__=~%q: %w", m.Value, err)
			}
			return names, nil
		default:
			return nil, fmt.Errorf("__name__ %s %q: only = and =~ are checkable", m.Type, m.Value)
		}
	}
	return nil, fmt.Errorf("a selector without a metric name: %v", matchers)
}

// expand lists every string a regular expression made of literals, concatenations,
// alternatives, groups and `?` matches; anything else is refused.
func expand(re *syntax.Regexp) ([]string, error) {
	switch re.Op {
	case syntax.OpLiteral:
		return []string{string(re.Rune)}, nil
	case syntax.OpEmptyMatch:
		return []string{""}, nil
	case syntax.OpCapture:
		return expand(re.Sub[0])
	case syntax.OpQuest:
		sub, err := expand(re.Sub[0])
		return append([]string{""}, sub...), err
	case syntax.OpAlternate:
		var out []string
		for _, s := range re.Sub {
			sub, err := expand(s)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
		}
		return out, nil
	case syntax.OpConcat:
		out := []string{""}
		for _, s := range re.Sub {
			sub, err := expand(s)
			if err != nil {
				return nil, err
			}
			var next []string
			for _, a := range out {
				for _, b := range sub {
					next = append(next, a+b)
				}
			}
			out = next
		}
		return out, nil
	case syntax.OpCharClass:
		// (?:a|b) of single letters simplifies to a class; expand small ones.
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i+1]-re.Rune[i] > 25 {
				return nil, fmt.Errorf("character class %s matches too much to check", re)
			}
			for c := re.Rune[i]; c <= re.Rune[i+1]; c++ {
				out = append(out, string(c))
			}
		}
		return out, nil
	default:
		return nil, fmt.Errorf("%s: not a finite set of names (use literals, |, ( ) and ?)", re)
	}
}

func TestExpand(t *testing.T) {
	for re, want := range map[string][]string{
		"temporal_(local_)?activity_execution_failed(_total)?": {
			"temporal_activity_execution_failed", "temporal_activity_execution_failed_total",
			"temporal_local_activity_execution_failed", "temporal_local_activity_execution_failed_total",
		},
		"a_(seconds_)?bucket": {"a_bucket", "a_seconds_bucket"},
	} {
		got, err := selectedNames([]*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, model.MetricNameLabel, re)})
		if err != nil {
			t.Fatalf("%s: %v", re, err)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", re, got, want)
		}
	}
	if _, err := selectedNames([]*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, model.MetricNameLabel, "temporal_.*")}); err == nil {
		t.Error("temporal_.* accepted; it matches any name")
	}
	if got := exportedNames(); got["temporal_made_up"] || !got["temporal_num_pollers"] {
		t.Error("exportedNames is wrong")
	}
}

var headingRe = regexp.MustCompile(`(?m)^#{1,6} +(.+?) *$`)

// runbookAnchors are the GitHub anchors of docs/runbook.md's headings.
func runbookAnchors(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.FromSlash(runbook))
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, m := range headingRe.FindAllStringSubmatch(string(b), -1) {
		anchors[anchor(m[1])] = true
	}
	return anchors
}

// anchor is GitHub's: lower case, punctuation other than - and _ dropped, spaces to -.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	return b.String()
}
