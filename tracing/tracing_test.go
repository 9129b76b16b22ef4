package tracing

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
	tlog "go.temporal.io/sdk/log"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestOffUnlessAnEndpointIsSet(t *testing.T) {
	ctx := context.Background()
	tr, err := FromEnv(ctx, env(map[string]string{"OTEL_SERVICE_NAME": "x", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}), "worker")
	if err != nil {
		t.Fatal(err)
	}
	if tr.Enabled() {
		t.Fatal("tracing on without an endpoint")
	}
	if _, ok := tr.Provider().Tracer("t").Start(ctx, "s"); ok.SpanContext().IsValid() {
		t.Fatal("the provider records spans while off")
	}
	ics, err := tr.Interceptors()
	if err != nil || ics != nil {
		t.Fatalf("interceptors while off: %v, %v", ics, err)
	}
	h := http.NewServeMux()
	if got := tr.Handler(h, "x"); got != http.Handler(h) {
		t.Fatal("the handler is wrapped while off")
	}
	if rt := tr.Transport(nil); rt != nil {
		t.Fatalf("the transport is wrapped while off: %T", rt)
	}
	if err := tr.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestOnWithAnEndpointForEitherProtocol(t *testing.T) {
	ctx := context.Background()
	for _, e := range []map[string]string{
		{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"},
		{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:1/v1/traces", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"},
	} {
		tr, err := FromEnv(ctx, env(e), "worker")
		if err != nil {
			t.Fatalf("%v: %v", e, err)
		}
		if !tr.Enabled() {
			t.Fatalf("%v: tracing off", e)
		}
		if _, s := tr.Provider().Tracer("t").Start(ctx, "s"); !s.SpanContext().IsValid() {
			t.Fatalf("%v: no real spans", e)
		}
		if ics, err := tr.Interceptors(); err != nil || len(ics) != 1 {
			t.Fatalf("%v: interceptors %v, %v", e, ics, err)
		}
		// Nothing listens on port 1: shutdown's export fails or is skipped, but returns.
		sctx, cancel := context.WithTimeout(ctx, 100_000_000)
		_ = tr.Shutdown(sctx)
		cancel()
	}
}

func TestAnUnknownProtocolIsRefusedByName(t *testing.T) {
	_, err := FromEnv(context.Background(), env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}), "worker")
	if err == nil || !strings.Contains(err.Error(), "OTEL_EXPORTER_OTLP_PROTOCOL") || !strings.Contains(err.Error(), "http/json") {
		t.Fatalf("error %v: want one naming OTEL_EXPORTER_OTLP_PROTOCOL and its value", err)
	}
}

func TestLogLinesCarryTheTraceID(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(LogHandler(slog.NewTextHandler(&buf, nil))).With("k", "v").WithGroup("g")
	tp := sdktrace.NewTracerProvider()
	ctx, span := tp.Tracer("t").Start(context.Background(), "s")
	defer span.End()

	logger.InfoContext(ctx, "with span")
	line := buf.String()
	sc := span.SpanContext()
	for _, want := range []string{"trace_id=" + sc.TraceID().String(), "span_id=" + sc.SpanID().String(), "k=v"} {
		if !strings.Contains(line, want) {
			t.Errorf("log line %q lacks %q", line, want)
		}
	}
	buf.Reset()
	logger.Info("without span")
	if strings.Contains(buf.String(), "trace_id") {
		t.Errorf("log line without a span has a trace ID: %q", buf.String())
	}
}

func TestHandlerContinuesTheCallersTraceAndSkipsProbes(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	tr := New(tp)
	var seen trace.SpanContext
	h := tr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/orders" {
			seen = trace.SpanContextFromContext(r.Context())
		}
	}), "api")
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	for _, path := range []string{"/v1/orders", "/healthz", "/readyz", "/metrics"} {
		req := httptest.NewRequest(http.MethodPost, path, nil)
		req.Header.Set("traceparent", parent)
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	spans := rec.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1 (probes and /metrics untraced)", len(spans))
	}
	if got := spans[0].SpanContext().TraceID().String(); got != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Fatalf("trace %s: the caller's traceparent was not continued", got)
	}
	if spans[0].Parent().SpanID().String() != "00f067aa0ba902b7" || !seen.IsValid() {
		t.Fatalf("parent %s, handler saw %v", spans[0].Parent().SpanID(), seen)
	}
}

func TestTransportSendsTheTraceContext(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tr := New(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Get("traceparent") }))
	defer srv.Close()
	ctx, span := tr.Provider().Tracer("t").Start(context.Background(), "activity")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: tr.Transport(nil)}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	span.End()
	if !strings.Contains(got, span.SpanContext().TraceID().String()) {
		t.Fatalf("traceparent %q does not carry trace %s", got, span.SpanContext().TraceID())
	}
	if n := len(rec.Ended()); n != 2 {
		t.Fatalf("%d spans, want the activity's and the call's", n)
	}
}

func TestTemporalLoggersNameTheTraceLikeTheSlogHandler(t *testing.T) {
	tr := New(sdktrace.NewTracerProvider())
	ot, err := temporalotel.NewTracer(temporalotel.TracerOptions{Tracer: tr.Provider().Tracer("t")})
	if err != nil {
		t.Fatal(err)
	}
	span, err := ot.StartSpan(&interceptor.TracerStartSpanOptions{Operation: "RunActivity", Name: "CheckOut", Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	loggerKeys{ot}.GetLogger(tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(&buf, nil))), span).Info("activity log")
	sc := span.(interface{ SpanContext() trace.SpanContext }).SpanContext()
	for _, want := range []string{"trace_id=" + sc.TraceID().String(), "span_id=" + sc.SpanID().String()} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("activity log line %q lacks %q", buf.String(), want)
		}
	}
	if strings.Contains(buf.String(), "TraceID") {
		t.Errorf("activity log line %q names the trace twice", buf.String())
	}
}
