package tracing

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// collector is an OTLP trace receiver over gRPC and HTTP that keeps the span names.
type collector struct {
	collectortrace.UnimplementedTraceServiceServer
	mu    sync.Mutex
	names map[string]string // span name -> service.name
}

func (c *collector) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.ResourceSpans {
		service := ""
		for _, a := range rs.GetResource().GetAttributes() {
			if a.Key == "service.name" {
				service = a.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				c.names[s.Name] = service
			}
		}
	}
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	var req collectortrace.ExportTraceServiceRequest
	if r.URL.Path != "/v1/traces" || err != nil || proto.Unmarshal(body, &req) != nil {
		http.Error(w, "bad export", http.StatusBadRequest)
		return
	}
	resp, _ := c.Export(r.Context(), &req)
	out, _ := proto.Marshal(resp)
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func TestSpansAreExportedByOTLPOverEitherProtocol(t *testing.T) {
	ctx := context.Background()
	c := &collector{names: map[string]string{}}
	hs := httptest.NewServer(c)
	defer hs.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(gs, c)
	go func() { _ = gs.Serve(ln) }()
	defer gs.Stop()

	for span, env := range map[string]map[string]string{
		"over-http": {"OTEL_EXPORTER_OTLP_ENDPOINT": hs.URL},
		"over-grpc": {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://" + ln.Addr().String(), "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_SERVICE_NAME": "checkout-starter"},
	} {
		tr, err := FromEnv(ctx, func(k string) string { return env[k] }, "worker")
		if err != nil {
			t.Fatal(err)
		}
		_, s := tr.Provider().Tracer("t").Start(ctx, span)
		s.End()
		if err := tr.Shutdown(ctx); err != nil {
			t.Fatalf("%s: %v", span, err)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.names["over-http"] != "worker" || c.names["over-grpc"] != "checkout-starter" {
		t.Fatalf("collector received %v; want over-http from worker and over-grpc from checkout-starter", c.names)
	}
}
