package prometheus

import (
	"fmt"
	"regexp/syntax"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// kind is how a metric's series are named in Prometheus.
type kind int

const (
	// counter is a Temporal SDK counter: its name alone or with _total.
	counter kind = iota
	// gauge is a gauge: its name alone.
	gauge
	// histogram is a Temporal SDK timer: <name>(_seconds)?_(bucket|sum|count).
	histogram
	// exact is one of our own series, exported by prometheus/client_golang under
	// exactly this name (a counter's _total, a histogram's _bucket included).
	exact
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

// ownMetrics are the worker's and the starter's own metrics (adapters/metrics,
// starter/api/metrics.go, the alarms' gauge), registered with
// prometheus/client_golang under these names; a histogram is listed as its
// _bucket, _sum and _count series. rules_test.go checks that each is still
// registered somewhere in the main module.
var ownMetrics = map[string]kind{
	// starter/api/metrics.go
	"fulfilment_http_requests_total":                  exact,
	"fulfilment_http_request_duration_seconds_bucket": exact,
	"fulfilment_http_request_duration_seconds_sum":    exact,
	"fulfilment_http_request_duration_seconds_count":  exact,
	// adapters/metrics/business.go (the worker)
	"fulfilment_order_stages_total":             exact,
	"fulfilment_payments_captured_total":        exact,
	"fulfilment_payments_captured_amount_total": exact,
	"fulfilment_payments_refunded_total":        exact,
	"fulfilment_payments_refunded_amount_total": exact,
	"fulfilment_labels_bought_total":            exact,
	"fulfilment_messages_total":                 exact,
	"fulfilment_orders_flagged_total":           exact,
	"fulfilment_pickups_total":                  exact,
	// adapters/metrics/alarms.go (the worker): the open journey alarms
	// {signal,store_id,direction}, read from PostgreSQL at each scrape.
	"fulfilment_alarm_open":        gauge,
	"fulfilment_alarm_ratio":       gauge,
	"fulfilment_alarm_read_errors": gauge,
}

// runtimeMetrics are series of prometheus/client_golang's Go runtime and process
// collectors (collectors.NewGoCollector, NewProcessCollector with their default
// options), which both processes register; rules_test.go gathers them from a
// registry built the same way.
var runtimeMetrics = []string{
	"go_goroutines",
	"go_threads",
	"go_memstats_heap_alloc_bytes",
	"go_memstats_heap_inuse_bytes",
	"go_memstats_sys_bytes",
	"go_gc_duration_seconds",
	"go_gc_duration_seconds_count",
	"go_gc_duration_seconds_sum",
	"process_resident_memory_bytes",
	"process_cpu_seconds_total",
	"process_open_fds",
	"process_max_fds",
}

// ExportedNames is every series name our processes or the Temporal server can
// export: the SDK's and the server's in both spellings (OpenTelemetry exporter:
// counters with _total, timers as _seconds_bucket; tally or the worker's
// UnderscoreEscapingWithoutSuffixes: without the suffixes), ours and the runtime's.
func ExportedNames() map[string]bool {
	names := map[string]bool{}
	add := func(m map[string]kind) {
		for n, k := range m {
			switch k {
			case counter:
				names[n], names[n+"_total"] = true, true
			case gauge, exact:
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
	add(ownMetrics)
	for _, n := range runtimeMetrics {
		names[n] = true
	}
	return names
}

// SelectedNames are the metric names a PromQL selector's matchers can select: its
// name, or every name its `__name__` regex matches, when that regex is a finite
// set (literals, alternatives, groups, `?`). Other selectors are refused: their
// names cannot be checked.
func SelectedNames(matchers []*labels.Matcher) ([]string, error) {
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
