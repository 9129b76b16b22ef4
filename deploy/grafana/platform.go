//lint:file-ignore SA1019 the classic dashboard model (dashboard.Dashboard, schemaVersion 42) is what every Grafana imports; the SDK prefers dashboardv2, the schema of the v2 dashboard API of Grafana 12 onwards, which older Grafanas do not read.

package grafana

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// httpRow is the starter's API (starter/api/metrics.go): routes are patterns,
// never paths.
func httpRow(b *dashboard.DashboardBuilder) {
	const requests = "fulfilment_http_requests_total"
	const buckets = "fulfilment_http_request_duration_seconds_bucket"
	b.WithRow(dashboard.NewRowBuilder("Starter HTTP API")).
		WithPanel(graph("Requests per second by route",
			"Requests the starters answered, by route pattern.",
			"reqps",
			query(fmt.Sprintf(`sum by (route) (rate(%s[$__rate_interval]))`, requests), "{{route}}")).
			Span(12)).
		WithPanel(graph("Errors per second by route and status",
			"4xx and 5xx answers. 5xx (red) are the starter's or Temporal's failures; docs/runbook.md#starter-5xx-rate.",
			"reqps",
			query(fmt.Sprintf(`sum by (route, status) (rate(%s{status=~"[45].."}[$__rate_interval]))`, requests), "{{route}} {{status}}"),
			query(fmt.Sprintf(`sum(rate(%s{status=~"5.."}[$__rate_interval])) / sum(rate(%s[$__rate_interval]))`, requests, requests), "5xx share")).
			Span(12).
			OverrideByRegexp(".* 5[0-9][0-9]", red()).
			// The share is a ratio: on its own axis, in percent.
			OverrideByName("5xx share", []dashboard.DynamicConfigValue{
				{Id: "unit", Value: "percentunit"},
				{Id: "custom.axisPlacement", Value: "right"},
				{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": "dark-red"}},
			})).
		WithPanel(graph("Latency (all routes)",
			"p50, p95 and p99 of the time to answer, over every route (default client_golang buckets, 5 ms to 10 s).",
			"s",
			query(fmt.Sprintf(`histogram_quantile(0.5, sum by (le) (rate(%s[$__rate_interval])))`, buckets), "p50"),
			query(fmt.Sprintf(`histogram_quantile(0.95, sum by (le) (rate(%s[$__rate_interval])))`, buckets), "p95"),
			query(fmt.Sprintf(`histogram_quantile(0.99, sum by (le) (rate(%s[$__rate_interval])))`, buckets), "p99")).
			Span(12)).
		WithPanel(graph("p95 latency by route",
			"Checkout (POST /v1/orders) waits for stock and the payment capture; the other routes read.",
			"s",
			query(fmt.Sprintf(`histogram_quantile(0.95, sum by (le, route) (rate(%s[$__rate_interval])))`, buckets), "{{route}}")).
			Span(12))
}

// temporalRow is the Temporal SDK's view of the workers: queues, latencies,
// pollers, slots and the workflow cache.
func temporalRow(b *dashboard.DashboardBuilder) {
	b.WithRow(dashboard.NewRowBuilder("Temporal workers")).
		WithPanel(graph("Workflow task schedule-to-start",
			"Time workflow tasks wait for a worker: growing means too few workers or slots (alert FulfilmentWorkflowTaskScheduleToStartHigh at p95 > 2 s).",
			"s",
			query(quantile(0.95, sdkBuckets("temporal_workflow_task_schedule_to_start_latency"), "task_queue"), "p95 {{task_queue}}"),
			query(quantile(0.5, sdkBuckets("temporal_workflow_task_schedule_to_start_latency"), "task_queue"), "p50 {{task_queue}}")).
			Span(12)).
		WithPanel(graph("Workflow task execution latency (p95)",
			"Time to run one workflow task, by workflow type.",
			"s",
			query(quantile(0.95, sdkBuckets("temporal_workflow_task_execution_latency"), "workflow_type"), "{{workflow_type}}")).
			Span(12)).
		WithPanel(graph("Activity schedule-to-start (p95)",
			"Time activity tasks wait for a worker, by activity type (alert FulfilmentActivityScheduleToStartHigh at > 10 s).",
			"s",
			query(quantile(0.95, sdkBuckets("temporal_activity_schedule_to_start_latency"), "activity_type"), "{{activity_type}}")).
			Span(12)).
		WithPanel(graph("Activity execution latency (p95)",
			"Time to run one activity attempt (provider calls, PostgreSQL), by activity type.",
			"s",
			query(quantile(0.95, sdkBuckets("temporal_activity_execution_latency"), "activity_type"), "{{activity_type}}")).
			Span(12)).
		WithPanel(graph("Pollers",
			"Pollers per task queue and poller type: none means no worker serves the queue.",
			"short",
			query(`sum by (task_queue, poller_type) (temporal_num_pollers{`+sdkLabels+`})`, "{{task_queue}} {{poller_type}}")).
			Span(6)).
		WithPanel(graph("Task slots used and available",
			"Busy and free task slots per worker type; no free slot means tasks wait in the queue.",
			"short",
			query(`sum by (worker_type) (temporal_worker_task_slots_used{`+sdkLabels+`})`, "used {{worker_type}}"),
			query(`sum by (worker_type) (temporal_worker_task_slots_available{`+sdkLabels+`})`, "available {{worker_type}}")).
			Span(6)).
		WithPanel(graph("Sticky cache size",
			"Workflows held in each worker process's cache (FULFILMENT_WORKFLOW_CACHE; one cache per process, reported by each of its workers).",
			"short",
			query(`max by (instance) (temporal_sticky_cache_size{`+sdkLabels+`})`, "{{instance}}")).
			Span(6)).
		WithPanel(graph("Sticky cache hits and misses per second",
			"Workflow tasks served from the cache (hit) or by replaying the history (miss), and forced evictions.",
			"ops",
			query(`sum(rate(`+sdkCounter("temporal_sticky_cache_hit")+`[$__rate_interval]))`, "hit"),
			query(`sum(rate(`+sdkCounter("temporal_sticky_cache_miss")+`[$__rate_interval]))`, "miss"),
			query(`sum(rate(`+sdkCounter("temporal_sticky_cache_total_forced_eviction")+`[$__rate_interval]))`, "forced eviction")).
			Span(6))
}

// failuresRow shows what fails without failing an order: workflow tasks (the
// order shows Running without progress), activity attempts (retried) and calls
// to Temporal.
func failuresRow(b *dashboard.DashboardBuilder) {
	wftFailed := "temporal_workflow_task_execution_failed"
	b.WithRow(dashboard.NewRowBuilder("Temporal failures")).
		WithPanel(singleStat("Non-determinism errors",
			"Workflow tasks failed as non-deterministic in the time range. Above 0: a deploy changed workflow code without a GetVersion patch (docs/runbook.md#workflow-task-non-determinism).",
			"none", 1,
			query(`sum(increase(`+sdkCounter(wftFailed, `failure_reason="NonDeterminismError"`)+`[$__range]))`, "non-determinism")).
			NoValue("0")).
		WithPanel(graph("Workflow task failures per second",
			"By workflow type and failure_reason; NonDeterminismError in red. A failing workflow task is retried for ever while the order shows Running.",
			"ops",
			query(`sum by (workflow_type, failure_reason) (rate(`+sdkCounter(wftFailed)+`[$__rate_interval]))`, "{{workflow_type}} {{failure_reason}}")).
			Span(10).
			OverrideByRegexp(".*NonDeterminismError.*", red())).
		WithPanel(graph("Activity failures per second",
			"Failed activity attempts (local activities included), by activity type; the server retries them.",
			"ops",
			// Two queries, not one `(local_)?` regex: rate() drops the name, and an
			// activity and a local activity with the same labels would collide.
			query(`sum by (activity_type) (rate(`+sdkCounter("temporal_activity_execution_failed")+`[$__rate_interval]))`, "{{activity_type}}"),
			query(`sum by (activity_type) (rate(`+sdkCounter("temporal_local_activity_execution_failed")+`[$__rate_interval]))`, "{{activity_type}} (local)")).
			Span(10)).
		WithPanel(graph("Temporal request failures per second",
			"Failed gRPC calls to the Temporal frontend from workers and starters, long requests (polls, Update-with-Start) apart, by operation and status code.",
			"ops",
			query(`sum by (operation, status_code) (rate(`+sdkCounter("temporal_request_failure")+`[$__rate_interval]))`, "{{operation}} {{status_code}}"),
			query(`sum by (operation, status_code) (rate(`+sdkCounter("temporal_long_request_failure")+`[$__rate_interval]))`, "{{operation}} {{status_code}} (long)")).
			Span(12)).
		WithPanel(graph("Unknown activities and corrupted signals per second",
			"Tasks for an activity this worker does not register (a deploy out of step), and signals that could not be decoded.",
			"ops",
			query(`sum by (activity_type) (rate(`+sdkCounter("temporal_unregistered_activity_invocation")+`[$__rate_interval]))`, "unregistered {{activity_type}}"),
			query(`sum by (workflow_type) (rate(`+sdkCounter("temporal_corrupted_signals")+`[$__rate_interval]))`, "corrupted signal {{workflow_type}}")).
			Span(12))
}

// runtimeRow is the Go runtime and process of every worker and starter in the
// chosen namespace.
func runtimeRow(b *dashboard.DashboardBuilder) {
	ours := func(expr string) string { return expr + " and on (job, instance) " + processes }
	b.WithRow(dashboard.NewRowBuilder("Go runtime and process")).
		WithPanel(graph("Memory",
			"Resident memory and Go heap in use, per process.",
			"bytes",
			query(ours("process_resident_memory_bytes"), "RSS {{job}} {{instance}}"),
			query(ours("go_memstats_heap_inuse_bytes"), "heap {{job}} {{instance}}"))).
		WithPanel(graph("Goroutines",
			"Goroutines per process: a steady climb is a leak.",
			"short",
			query(ours("go_goroutines"), "{{job}} {{instance}}"))).
		WithPanel(graph("CPU",
			"CPU time used per second (1 = one core), per process.",
			"short",
			query(ours("rate(process_cpu_seconds_total[$__rate_interval])"), "{{job}} {{instance}}")))
}
