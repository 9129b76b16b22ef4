package metrics

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestTemporalHandlerKeepsTheSDKNames: what the SDK records under its names
// comes out of /metrics under the same names (no _total, no _seconds, no
// scope labels), latencies in seconds, counters as counters.
func TestTemporalHandlerKeepsTheSDKNames(t *testing.T) {
	reg := NewRegistry()
	h, err := TemporalHandler(reg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	tagged := h.WithTags(map[string]string{"namespace": "default", "task_queue": "fulfilment"})
	tagged.Counter("temporal_request").Inc(3)
	tagged.Gauge("temporal_sticky_cache_size").Update(7)
	tagged.Timer("temporal_activity_schedule_to_start_latency").Record(1500 * time.Millisecond)
	if _, err := NewBusiness(reg); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	Handler(reg).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		"# TYPE temporal_request counter",
		`temporal_request{namespace="default",task_queue="fulfilment"} 3`,
		`temporal_sticky_cache_size{namespace="default",task_queue="fulfilment"} 7`,
		"# TYPE temporal_activity_schedule_to_start_latency histogram",
		`temporal_activity_schedule_to_start_latency_bucket{namespace="default",task_queue="fulfilment",le="1"} 0`,
		`temporal_activity_schedule_to_start_latency_bucket{namespace="default",task_queue="fulfilment",le="2.5"} 1`,
		`temporal_activity_schedule_to_start_latency_sum{namespace="default",task_queue="fulfilment"} 1.5`,
		"go_goroutines", "process_cpu_seconds_total",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
	for _, bad := range []string{"otel_scope", "target_info", "temporal_request_total", "_seconds_bucket"} {
		if strings.Contains(body, bad) {
			t.Errorf("/metrics has %q", bad)
		}
	}
}
