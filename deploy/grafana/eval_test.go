//lint:file-ignore SA1019 the classic dashboard model (dashboard.Dashboard, schemaVersion 42) is what every Grafana imports; the SDK prefers dashboardv2, the schema of the v2 dashboard API of Grafana 12 onwards, which older Grafanas do not read.

package grafana

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	sdkprom "github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"
)

// scrape is what Prometheus would hold after 25 minutes of scraping, every 15 s,
// a worker (w1) and a starter (s1) of namespace "default", with the label sets
// worker/metrics_e2e_test.go holds them to (the worker's spelling: SDK names
// without suffixes), plus decoys the dashboard must leave out: a worker of
// another namespace (w2, "staging") and a Go program that is not ours (other).
const scrape = `
	temporal_num_pollers{job="worker", instance="w1", SDK, poller_type="workflow_task"} 2x100
	temporal_num_pollers{job="worker", instance="w2", namespace="staging", task_queue="fulfilment", poller_type="workflow_task"} 2x100
	temporal_request{job="worker", instance="w1", SDK, operation="PollWorkflowTaskQueue"} 0+1x100
	temporal_request{job="starter", instance="s1", namespace="default", task_queue="none", operation="DescribeNamespace"} 0+1x100
	temporal_request{job="worker", instance="w2", namespace="staging", task_queue="fulfilment", operation="PollWorkflowTaskQueue"} 0+1x100
	fulfilment_order_stages_total{job="worker", instance="w1", method="ship_to_store", stage="accepted"} 0+1x100
	fulfilment_order_stages_total{job="worker", instance="w2", method="ship_to_store", stage="accepted"} 0+1x100
	fulfilment_order_stages_total{job="worker", instance="w1", method="ship_to_store", stage="payment_captured"} 0+1x100
	fulfilment_payments_captured_total{job="worker", instance="w1", currency="EUR"} 0+1x100
	fulfilment_payments_captured_amount_total{job="worker", instance="w1", currency="EUR"} 0+24900x100
	fulfilment_payments_refunded_total{job="worker", instance="w1", currency="EUR"} 0+1x100
	fulfilment_payments_refunded_amount_total{job="worker", instance="w1", currency="EUR"} 0+24900x100
	fulfilment_labels_bought_total{job="worker", instance="w1", purpose="store-transfer"} 0+1x100
	fulfilment_messages_total{job="worker", instance="w1", channel="email", outcome="sent"} 0+1x100
	fulfilment_messages_total{job="worker", instance="w1", channel="sms", outcome="failed"} 0+1x100
	fulfilment_pickups_total{job="worker", instance="w1", outcome="handed_over"} 0+1x100
	fulfilment_orders_flagged_total{job="worker", instance="w1", reason="picking_sla"} 0+1x100
	fulfilment_alarm_open{job="worker", instance="w1", signal="picking_sla", store_id="S-1", direction="up"} 1x100
	fulfilment_alarm_ratio{job="worker", instance="w1", signal="picking_sla", store_id="S-1", direction="up"} 2.5x100
	fulfilment_alarm_read_errors{job="worker", instance="w1"} 0x100
	fulfilment_http_requests_total{job="starter", instance="s1", route="POST /v1/orders", status="201"} 0+1x100
	fulfilment_http_requests_total{job="starter", instance="s1", route="POST /v1/orders", status="500"} 0+1x100
	fulfilment_http_request_duration_seconds_bucket{job="starter", instance="s1", route="POST /v1/orders", le="0.1"} 0+1x100
	fulfilment_http_request_duration_seconds_bucket{job="starter", instance="s1", route="POST /v1/orders", le="+Inf"} 0+2x100
	temporal_workflow_task_schedule_to_start_latency_bucket{job="worker", instance="w1", SDK, le="0.1"} 0+1x100
	temporal_workflow_task_schedule_to_start_latency_bucket{job="worker", instance="w1", SDK, le="+Inf"} 0+2x100
	temporal_workflow_task_execution_latency_bucket{job="worker", instance="w1", SDK, le="0.1"} 0+1x100
	temporal_workflow_task_execution_latency_bucket{job="worker", instance="w1", SDK, le="+Inf"} 0+2x100
	temporal_activity_schedule_to_start_latency_bucket{job="worker", instance="w1", SDK, le="0.1"} 0+1x100
	temporal_activity_schedule_to_start_latency_bucket{job="worker", instance="w1", SDK, le="+Inf"} 0+2x100
	temporal_activity_execution_latency_bucket{job="worker", instance="w1", SDK, le="0.1"} 0+1x100
	temporal_activity_execution_latency_bucket{job="worker", instance="w1", SDK, le="+Inf"} 0+2x100
	temporal_worker_task_slots_used{job="worker", instance="w1", SDK} 1x100
	temporal_worker_task_slots_available{job="worker", instance="w1", SDK} 99x100
	temporal_sticky_cache_size{job="worker", instance="w1", SDK} 10x100
	temporal_sticky_cache_hit{job="worker", instance="w1", SDK} 0+1x100
	temporal_sticky_cache_miss{job="worker", instance="w1", SDK} 0+1x100
	temporal_sticky_cache_total_forced_eviction{job="worker", instance="w1", SDK} 0+1x100
	temporal_workflow_task_execution_failed{job="worker", instance="w1", SDK, failure_reason="NonDeterminismError"} 0+1x100
	temporal_activity_execution_failed{job="worker", instance="w1", SDK} 0+1x100
	temporal_local_activity_execution_failed{job="worker", instance="w1", SDK} 0+1x100
	temporal_request_failure{job="worker", instance="w1", SDK, operation="RespondWorkflowTaskCompleted", status_code="Unavailable"} 0+1x100
	temporal_long_request_failure{job="worker", instance="w1", SDK, operation="PollWorkflowTaskQueue", status_code="Unavailable"} 0+1x100
	temporal_unregistered_activity_invocation{job="worker", instance="w1", SDK} 0+1x100
	temporal_corrupted_signals{job="worker", instance="w1", SDK} 0+1x100
	process_resident_memory_bytes{job="worker", instance="w1"} 50000000x100
	process_resident_memory_bytes{job="starter", instance="s1"} 40000000x100
	go_memstats_heap_inuse_bytes{job="worker", instance="w1"} 20000000x100
	go_goroutines{job="worker", instance="w1"} 80x100
	go_goroutines{job="other", instance="o1"} 999x100
	process_cpu_seconds_total{job="worker", instance="w1"} 0+1.5x100
`

// sdkSeriesLabels are the labels the SDK puts on every worker series.
const sdkSeriesLabels = `namespace="default", task_queue="fulfilment", client_name="temporal_go", worker_type="WorkflowWorker", workflow_type="OrderFulfilmentV2", activity_type="CapturePayment"`

// TestQueriesReturnData evaluates every panel query with Prometheus' own query
// engine over series shaped like our processes' (namespace "default" chosen):
// each returns data, and none lets in the other namespace's worker or a Go
// program that is not ours.
func TestQueriesReturnData(t *testing.T) {
	d := loadCommitted(t)
	db := loadSeries(t, strings.ReplaceAll(scrape, "SDK", sdkSeriesLabels), 15*time.Second)
	engine := promql.NewEngine(promql.EngineOpts{
		MaxSamples:    1_000_000,
		Timeout:       time.Minute,
		LookbackDelta: 5 * time.Minute,
		Parser:        parser.NewParser(parser.Options{}),
	})
	t.Cleanup(func() { _ = engine.Close() })
	at := time.Unix(0, 0).Add(20 * time.Minute)
	values := strings.NewReplacer(
		"$__rate_interval", "1m", "$__range", "10m",
		"$namespace", "default", "$task_queue", "fulfilment", "$store", ".*")
	for _, p := range panels(d) {
		for _, target := range p.Targets {
			q, ok := target.(*sdkprom.Dataquery)
			if !ok {
				continue
			}
			expr := values.Replace(q.Expr)
			vec := evalInstant(t, engine, db, expr, at)
			if len(vec) == 0 {
				t.Errorf("panel %q, query %s: no data\n%s", deref(p.Title), deref(q.RefId), expr)
			}
			for _, s := range vec {
				if j := s.Metric.Get("job"); j == "other" || s.Metric.Get("instance") == "w2" {
					t.Errorf("panel %q, query %s: a series not ours: %s", deref(p.Title), deref(q.RefId), s.Metric)
				}
			}
			if deref(p.Title) == "Orders placed per minute" {
				// w1 accepts 4 orders a minute; w2 (staging) as many, left out.
				if len(vec) != 1 || math.Abs(vec[0].F-4) > 1e-9 {
					t.Errorf("orders placed per minute = %v, want 4 (worker w1 only)", vec)
				}
			}
		}
	}
}

func evalInstant(t *testing.T, engine *promql.Engine, db storage.Queryable, expr string, at time.Time) promql.Vector {
	t.Helper()
	ctx := context.Background()
	q, err := engine.NewInstantQuery(ctx, db, nil, expr, at)
	if err != nil {
		t.Errorf("%s: %v", expr, err)
		return nil
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		t.Errorf("%s: %v", expr, res.Err)
		return nil
	}
	switch v := res.Value.(type) {
	case promql.Vector:
		return v
	case promql.Scalar:
		return promql.Vector{{F: v.V, T: v.T}}
	default:
		t.Errorf("%s: a %T result", expr, res.Value)
		return nil
	}
}

// loadSeries is an in-memory Prometheus storage holding one series per line of
// spec, in the series notation of Prometheus' own PromQL tests
// (`name{labels} 0+1x100`: 0, 1, 2… for 101 samples), one sample every step
// from time 0. (Prometheus' promqltest would do the same, but pulls its remote
// write configuration, with the Azure, Google and AWS SDKs, into this module.)
func loadSeries(t *testing.T, spec string, step time.Duration) storage.Queryable {
	t.Helper()
	p := parser.NewParser(parser.Options{})
	var all []storage.Series
	for _, line := range strings.Split(spec, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		lset, values, err := p.ParseSeriesDesc(line)
		if err != nil {
			t.Fatalf("series %q: %v", line, err)
		}
		var samples []chunks.Sample
		for i, v := range values {
			if !v.Omitted {
				samples = append(samples, point{t: int64(i) * step.Milliseconds(), f: v.Value})
			}
		}
		all = append(all, storage.NewListSeries(lset, samples))
	}
	slices.SortFunc(all, func(a, b storage.Series) int { return labels.Compare(a.Labels(), b.Labels()) })
	querier := &storage.MockQuerier{SelectMockFunction: func(_ bool, _ *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
		var out []storage.Series
		for _, s := range all {
			if matchAll(s.Labels(), ms) {
				out = append(out, s)
			}
		}
		return &seriesSet{series: out}
	}}
	return storage.QueryableFunc(func(int64, int64) (storage.Querier, error) { return querier, nil })
}

func matchAll(lset labels.Labels, ms []*labels.Matcher) bool {
	for _, m := range ms {
		if !m.Matches(lset.Get(m.Name)) {
			return false
		}
	}
	return true
}

// point is one float sample.
type point struct {
	t int64
	f float64
}

func (p point) T() int64                      { return p.t }
func (p point) ST() int64                     { return 0 }
func (p point) F() float64                    { return p.f }
func (p point) H() *histogram.Histogram       { return nil }
func (p point) FH() *histogram.FloatHistogram { return nil }
func (p point) Type() chunkenc.ValueType      { return chunkenc.ValFloat }
func (p point) Copy() chunks.Sample           { return p }

// seriesSet iterates over series already selected, in label order.
type seriesSet struct {
	series []storage.Series
	next   int
}

func (s *seriesSet) Next() bool                        { s.next++; return s.next <= len(s.series) }
func (s *seriesSet) At() storage.Series                { return s.series[s.next-1] }
func (s *seriesSet) Err() error                        { return nil }
func (s *seriesSet) Warnings() annotations.Annotations { return nil }
