package main

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape reads url's Prometheus text into its metric families.
func (s *gracefulStack) scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := s.http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: not Prometheus text: %v", url, err)
	}
	return families
}

// shapes is each family's type and label names (every series' labels, in
// order, joined), for the families whose name has one of the prefixes:
// "temporal_request counter {namespace,operation}".
func shapes(families map[string]*dto.MetricFamily, prefixes ...string) map[string]string {
	out := map[string]string{}
	for name, f := range families {
		if !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(name, p) }) {
			continue
		}
		sets := map[string]bool{}
		for _, m := range f.GetMetric() {
			var names []string
			for _, l := range m.GetLabel() {
				names = append(names, l.GetName())
			}
			sort.Strings(names)
			sets["{"+strings.Join(names, ",")+"}"] = true
		}
		keys := make([]string, 0, len(sets))
		for k := range sets {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out[name] = strings.ToLower(f.GetType().String()) + " " + strings.Join(keys, " ")
	}
	return out
}

// value is the sum of the family's series whose labels include want.
func value(families map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	sum := 0.0
	for _, m := range families[name].GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			if have[k] != v {
				match = false
			}
		}
		if match {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum
}

func describeShapes(s map[string]string) string {
	var lines []string
	for name, shape := range s {
		lines = append(lines, fmt.Sprintf("%q: %q,", name, shape))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TestWorkerMetrics runs orders through the worker binary and scrapes its
// /metrics: the Temporal SDK's metrics and ours keep their names, types and
// label sets (the golden lists below), the business counters moved by exactly
// what the orders did, and the starter's /metrics carries its Temporal
// client's metrics.
func TestWorkerMetrics(t *testing.T) {
	s := newGracefulStack(t)
	w := s.worker(t)
	suffix := randomHex(t, 3)
	ids := []string{"M-1-" + suffix, "M-2-" + suffix}
	for _, id := range ids {
		s.placeOrder(t, id)
	}
	deadline := time.Now().Add(60 * time.Second)
	for _, id := range ids {
		for s.completedAdvance(t, id) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("order %s: no Advance completed within 60s", id)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	families := s.scrape(t, w.adminURL+"/metrics")
	got := shapes(families, "temporal_", "fulfilment_")
	t.Logf("worker:\n%s", describeShapes(got))
	for name, want := range workerGolden {
		if got[name] != want {
			t.Errorf("worker metric %s = %q, want %q", name, got[name], want)
		}
	}
	for name := range got {
		if _, ok := workerGolden[name]; !ok && !workerOptional[name] {
			t.Errorf("worker metric %s (%s) is in no golden list: add it and to docs/observability.md", name, got[name])
		}
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if families[name] == nil {
			t.Errorf("worker metric %s missing: the runtime and process collectors", name)
		}
	}
	n := float64(len(ids))
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"fulfilment_order_stages_total", map[string]string{"method": "ship_to_store", "stage": "accepted"}, n},
		{"fulfilment_order_stages_total", map[string]string{"method": "ship_to_store", "stage": "payment_captured"}, n},
		{"fulfilment_payments_captured_total", map[string]string{"currency": "EUR"}, n},
		{"fulfilment_payments_captured_amount_total", map[string]string{"currency": "EUR"}, n * 24900},
		{"fulfilment_messages_total", map[string]string{"channel": "email", "outcome": "sent"}, n},
		{"temporal_local_activity_execution_latency", map[string]string{"activity_type": "CheckOut"}, n},
		{"fulfilment_alarm_read_errors", nil, 0},
	} {
		if v := value(families, c.name, c.labels); v != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, v, c.want)
		}
	}

	starter := shapes(s.scrape(t, s.starterURL+"/metrics"), "temporal_")
	t.Logf("starter:\n%s", describeShapes(starter))
	for name, want := range starterGolden {
		if starter[name] != want {
			t.Errorf("starter metric %s = %q, want %q", name, starter[name], want)
		}
	}
}

// workerGolden are the worker's metrics after two checkouts, with their type
// and label sets: docs/observability.md lists them.
var workerGolden = map[string]string{
	"fulfilment_alarm_read_errors":                     "gauge {}",
	"fulfilment_messages_total":                        "counter {channel,outcome}",
	"fulfilment_order_stages_total":                    "counter {method,stage}",
	"fulfilment_payments_captured_amount_total":        "counter {currency}",
	"fulfilment_payments_captured_total":               "counter {currency}",
	"temporal_activity_execution_latency":              "histogram {activity_type,client_name,namespace,task_queue,worker_type,workflow_type}",
	"temporal_activity_schedule_to_start_latency":      "histogram {activity_type,client_name,namespace,task_queue,worker_type,workflow_type}",
	"temporal_activity_succeed_endtoend_latency":       "histogram {activity_type,client_name,namespace,task_queue,worker_type,workflow_type}",
	"temporal_local_activity_execution_latency":        "histogram {activity_type,client_name,namespace,task_queue,worker_type,workflow_type}",
	"temporal_local_activity_succeed_endtoend_latency": "histogram {activity_type,client_name,namespace,task_queue,worker_type,workflow_type}",
	"temporal_local_activity_total":                    "counter {activity_type,client_name,namespace,task_queue,worker_type,workflow_type}",
	"temporal_long_request":                            "counter {activity_type,client_name,namespace,operation,task_queue,worker_type,workflow_type}",
	"temporal_long_request_attempt":                    "counter {activity_type,client_name,namespace,operation,task_queue,worker_type,workflow_type}",
	"temporal_long_request_latency":                    "histogram {activity_type,client_name,namespace,operation,task_queue,worker_type,workflow_type}",
	"temporal_long_request_latency_attempt":            "histogram {activity_type,client_name,namespace,operation,task_queue,worker_type,workflow_type}",
	"temporal_num_pollers":                             "gauge {activity_type,client_name,namespace,poller_type,task_queue,worker_type,workflow_type}",
	"temporal_poller_start":                            "counter {activity_type,client_name,namespace,task_queue,worker_type,workflow_type}",
	"temporal_request":                                 "counter {activity_type,client_name,namespace,operation,task_queue,worker_type,workflow_type}",
	"temporal_request_attempt":                         "counter {activity_type,client_name,namespace,operation,task_queue,worker_type,workflow_type}",
	"temporal_request_latency":                         "histogram {activity_type,client_name,namespace,operation,task_queue,worker_type,workflow_type}",
	"temporal_request_latency_attempt":                 "histogram {activity_type,client_name,namespace,operation,task_queue,worker_type,workflow_type}",
	"temporal_sticky_cache_size":                       "gauge {activity_type,client_name,namespace,task_queue,worker_type,workflow_type}",
	"temporal_worker_start":                            "counter {activity_type,client_name,namespace,task_queue,worker_type,workflow_type}",
	"temporal_worker_task_slots_available":             "gauge {activity_type,client_name,namespace,task_queue,worker_type,workflow_type}",
	"temporal_worker_task_slots_used":                  "gauge {activity_type,client_name,namespace,task_queue,worker_type,workflow_type}",
	"temporal_workflow_task_execution_latency":         "histogram {activity_type,client_name,namespace,task_queue,worker_type,workflow_type}",
	"temporal_workflow_task_queue_poll_succeed":        "counter {activity_type,client_name,namespace,task_queue,worker_type,workflow_type}",
	"temporal_workflow_task_schedule_to_start_latency": "histogram {activity_type,client_name,namespace,task_queue,worker_type,workflow_type}",
}

// workerOptional may appear, depending on timing (a poll that timed out, a
// failure, the cache evicting); their names are documented too, their label
// sets are not held (failures add failure_reason or status_code).
var workerOptional = map[string]bool{
	"fulfilment_alarm_open":                       true, // only while an alarm is open
	"fulfilment_alarm_ratio":                      true,
	"temporal_sticky_cache_hit":                   true,
	"temporal_sticky_cache_miss":                  true,
	"temporal_sticky_cache_total_forced_eviction": true,
	"temporal_workflow_task_replay_latency":       true,
	"temporal_workflow_task_execution_failed":     true,
	"temporal_workflow_task_no_completion":        true,
	"temporal_workflow_task_queue_poll_empty":     true,
	"temporal_activity_poll_no_task":              true,
	"temporal_activity_execution_failed":          true,
	"temporal_activity_task_error":                true,
	"temporal_local_activity_execution_failed":    true,
	"temporal_local_activity_execution_cancelled": true,
	"temporal_local_activity_canceled":            true,
	"temporal_local_activity_error":               true,
	"temporal_local_activity_failed":              true,
	"temporal_unregistered_activity_invocation":   true,
	"temporal_corrupted_signals":                  true,
	"temporal_workflow_active_thread_count":       true,
	"temporal_workflow_completed":                 true,
	"temporal_workflow_canceled":                  true,
	"temporal_workflow_failed":                    true,
	"temporal_workflow_continue_as_new":           true,
	"temporal_workflow_endtoend_latency":          true,
	"temporal_request_failure":                    true,
	"temporal_request_failure_attempt":            true,
	"temporal_long_request_failure":               true,
	"temporal_long_request_failure_attempt":       true,
	"fulfilment_payments_refunded_total":          true,
	"fulfilment_payments_refunded_amount_total":   true,
	"fulfilment_labels_bought_total":              true,
	"fulfilment_orders_flagged_total":             true,
	"fulfilment_pickups_total":                    true,
}

// starterGolden are the starter's Temporal client metrics after checkouts.
var starterGolden = map[string]string{
	"temporal_long_request":                 "counter {activity_type,client_name,namespace,operation,task_queue,worker_type,workflow_type}",
	"temporal_long_request_attempt":         "counter {activity_type,client_name,namespace,operation,task_queue,worker_type,workflow_type}",
	"temporal_long_request_latency":         "histogram {activity_type,client_name,namespace,operation,task_queue,worker_type,workflow_type}",
	"temporal_long_request_latency_attempt": "histogram {activity_type,client_name,namespace,operation,task_queue,worker_type,workflow_type}",
	"temporal_request":                      "counter {activity_type,client_name,namespace,operation,task_queue,worker_type,workflow_type}",
	"temporal_request_attempt":              "counter {activity_type,client_name,namespace,operation,task_queue,worker_type,workflow_type}",
	"temporal_request_latency":              "histogram {activity_type,client_name,namespace,operation,task_queue,worker_type,workflow_type}",
	"temporal_request_latency_attempt":      "histogram {activity_type,client_name,namespace,operation,task_queue,worker_type,workflow_type}",
}
