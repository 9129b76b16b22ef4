package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/everywherecommerce/fulfilment/tracing"
)

// withTracing traces the system to tr.
func withTracing(tr *tracing.Tracing) systemOption {
	return func(s *systemSettings) { s.tracing = tr }
}

// TestOneTraceFromCheckoutToPostgres places an order over HTTP with a caller's
// traceparent and follows the spans: the API's request span continues the
// caller's trace, the workflow's span descends from it through the Temporal
// headers (encrypted payloads and all), and so do the activities and the
// PostgreSQL statements they run.
func TestOneTraceFromCheckoutToPostgres(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	var logs lockedBuffer
	s := newSystem(t, fastPolicy(), withTracing(tracing.New(tp)), func(s *systemSettings) { s.logs = &logs })

	const callerTrace, callerSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	id := "trace-" + s.suffix
	body, err := json.Marshal(s.orderBody(id, "ship_to_store"))
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, s.url+"/v1/orders", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.tokens["checkout"])
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("traceparent", "00-"+callerTrace+"-"+callerSpan+"-01")
	resp, err := s.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("place %s: %d", id, resp.StatusCode)
	}
	s.waitStage(id, "picking")
	// A probe is not traced.
	if st, _ := s.do(http.MethodGet, "/healthz", "", nil); st != http.StatusOK {
		t.Fatalf("healthz: %d", st)
	}

	// Spans still open count too: the workflow's lasts until the order closes.
	var byID map[trace.SpanID]sdktrace.ReadOnlySpan
	var server sdktrace.ReadOnlySpan
	var workflow, activity, query []sdktrace.ReadOnlySpan
	deadline := time.Now().Add(s.patience)
	for {
		byID, server, workflow, activity, query = map[trace.SpanID]sdktrace.ReadOnlySpan{}, nil, nil, nil, nil
		for _, sp := range rec.Started() {
			if sp.SpanContext().TraceID().String() != callerTrace {
				if sp.Name() == "GET /healthz" {
					t.Errorf("a probe was traced")
				}
				continue
			}
			byID[sp.SpanContext().SpanID()] = sp
			switch {
			case sp.SpanKind() == trace.SpanKindServer && sp.Parent().SpanID().String() == callerSpan:
				server = sp
			case strings.HasPrefix(sp.Name(), "RunWorkflow:"):
				workflow = append(workflow, sp)
			case strings.HasPrefix(sp.Name(), "RunActivity:"):
				activity = append(activity, sp)
			case hasAttr(sp, attribute.String("db.system", "postgresql")):
				query = append(query, sp)
			}
		}
		underActivity := 0
		for _, q := range query {
			if p, ok := byID[q.Parent().SpanID()]; ok && strings.HasPrefix(p.Name(), "RunActivity:") {
				underActivity++
			}
		}
		if server != nil && len(workflow) > 0 && len(activity) > 0 && underActivity > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("in trace %s: server span %v, %d workflow, %d activity, %d PostgreSQL spans (%d under an activity); want all",
				callerTrace, server != nil, len(workflow), len(activity), len(query), underActivity)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The starter's request log line leads to the trace.
	if line := logs.lineWith(`route="POST /v1/orders"`); !strings.Contains(line, "trace_id="+callerTrace) ||
		!strings.Contains(line, "span_id="+server.SpanContext().SpanID().String()) {
		t.Errorf("request log line %q lacks trace_id=%s and the request span's span_id", line, callerTrace)
	}
	if server.Name() != "POST /v1/orders" {
		t.Errorf("server span named %q, want the route POST /v1/orders", server.Name())
	}
	// Every workflow, activity and query span of the order descends from the
	// request's span, parent by parent, within the one trace.
	chains := map[string]bool{}
	for _, sp := range append(append(append([]sdktrace.ReadOnlySpan{}, workflow...), activity...), query...) {
		chain := []string{sp.Name()}
		for p := sp; p != server; {
			next, ok := byID[p.Parent().SpanID()]
			if !ok {
				t.Fatalf("span %s: its parent %s is not in the trace (chain %v)", sp.Name(), p.Parent().SpanID(), chain)
			}
			p = next
			chain = append(chain, p.Name())
		}
		if c := strings.Join(chain, " <- "); !chains[c] {
			chains[c] = true
			t.Log(c)
		}
	}
	for _, q := range query {
		for _, kv := range q.Attributes() {
			if strings.HasPrefix(string(kv.Key), "db.query.parameter") || strings.Contains(kv.Value.String(), id) {
				t.Errorf("span %s carries a bind value: %s=%s", q.Name(), kv.Key, kv.Value.String())
			}
		}
	}
}

func hasAttr(sp sdktrace.ReadOnlySpan, want attribute.KeyValue) bool {
	for _, kv := range sp.Attributes() {
		if kv == want {
			return true
		}
	}
	return false
}

// lockedBuffer collects log lines from several goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lineWith is the first line holding s ("" when none does).
func (b *lockedBuffer) lineWith(s string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, line := range strings.Split(b.buf.String(), "\n") {
		if strings.Contains(line, s) {
			return line
		}
	}
	return ""
}
