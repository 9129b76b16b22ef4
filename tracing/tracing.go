// Package tracing sets up OpenTelemetry tracing for the worker and the starter:
// one trace from a checkout request through the workflow and its activities to
// each provider call and PostgreSQL statement. It is off unless an OTLP endpoint
// is configured (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT):
// then there is no exporter, no interceptor, no wrapped handler or transport and
// no database tracer, only a no-op tracer provider.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
	tlog "go.temporal.io/sdk/log"
)

// Tracing is the process's tracing: a provider and a propagator (W3C trace
// context and baggage). The zero value is not usable; see FromEnv and New.
type Tracing struct {
	provider   trace.TracerProvider
	propagator propagation.TextMapPropagator
	enabled    bool
	shutdown   func(context.Context) error
}

// Off is tracing switched off: a no-op provider, and every wrapper returns what
// it was given.
func Off() *Tracing {
	return &Tracing{provider: noop.NewTracerProvider(), propagator: propagator(), shutdown: func(context.Context) error { return nil }}
}

// New traces to tp (tests pass an SDK provider with an in-memory recorder).
func New(tp trace.TracerProvider) *Tracing {
	return &Tracing{provider: tp, propagator: propagator(), enabled: true, shutdown: func(context.Context) error { return nil }}
}

func propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// FromEnv reads the standard OpenTelemetry variables. Without
// OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_EXPORTER_OTLP_TRACES_ENDPOINT it returns
// Off. Otherwise it exports spans in batches by OTLP over the protocol of
// OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or OTEL_EXPORTER_OTLP_PROTOCOL ("grpc" or
// "http/protobuf", the default); the exporters read the headers, timeout,
// compression and TLS variables from the process's environment themselves. OTEL_SERVICE_NAME names the
// service (service when unset); OTEL_RESOURCE_ATTRIBUTES adds attributes.
func FromEnv(ctx context.Context, getenv func(string) string, service string) (*Tracing, error) {
	if getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return Off(), nil
	}
	protocol, from := getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"), "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	if protocol == "" {
		protocol, from = getenv("OTEL_EXPORTER_OTLP_PROTOCOL"), "OTEL_EXPORTER_OTLP_PROTOCOL"
	}
	// The endpoint is passed on from getenv (the exporters would read the
	// process's environment); the traces variable is the full URL, the general
	// one a base to which HTTP adds /v1/traces.
	endpoint, base := getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"), false
	if endpoint == "" {
		endpoint, base = getenv("OTEL_EXPORTER_OTLP_ENDPOINT"), true
	}
	var exp sdktrace.SpanExporter
	var err error
	switch protocol {
	case "grpc":
		exp, err = otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(endpoint))
	case "", "http/protobuf":
		if base {
			endpoint = strings.TrimSuffix(endpoint, "/") + "/v1/traces"
		}
		exp, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	default:
		return nil, fmt.Errorf("%s=%q: want grpc or http/protobuf", from, protocol)
	}
	if err != nil {
		return nil, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	if name := getenv("OTEL_SERVICE_NAME"); name != "" {
		service = name
	}
	// WithFromEnv reads OTEL_RESOURCE_ATTRIBUTES (and OTEL_SERVICE_NAME, which
	// wins over the default set first).
	res, err := resource.New(ctx, resource.WithAttributes(attribute.String("service.name", service)), resource.WithFromEnv(),
		resource.WithTelemetrySDK(), resource.WithHost())
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("OpenTelemetry resource (OTEL_RESOURCE_ATTRIBUTES): %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return &Tracing{provider: tp, propagator: propagator(), enabled: true, shutdown: tp.Shutdown}, nil
}

// Enabled says whether spans go anywhere.
func (t *Tracing) Enabled() bool { return t.enabled }

// Provider is the tracer provider (a no-op one when off).
func (t *Tracing) Provider() trace.TracerProvider { return t.provider }

// Propagator carries the trace context across HTTP and Temporal headers.
func (t *Tracing) Propagator() propagation.TextMapPropagator { return t.propagator }

// Shutdown exports the spans still buffered; call it once, at exit.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if err := t.shutdown(ctx); err != nil {
		return fmt.Errorf("flush traces: %w", err)
	}
	return nil
}

// Interceptors are the Temporal client interceptors: none when off, else the
// SDK's OpenTelemetry tracing interceptor. It carries the span in each
// workflow's and activity's header "_tracer-data", which the SDK encodes with
// its default converter, never our encrypting codec (headers are not payloads of
// the data converter), so every SDK and the Web UI read it.
func (t *Tracing) Interceptors() ([]interceptor.ClientInterceptor, error) {
	if !t.enabled {
		return nil, nil
	}
	tr, err := temporalotel.NewTracer(temporalotel.TracerOptions{
		Tracer:            t.provider.Tracer("go.temporal.io/sdk"),
		TextMapPropagator: t.propagator,
	})
	if err != nil {
		return nil, fmt.Errorf("temporal tracing interceptor: %w", err)
	}
	return []interceptor.ClientInterceptor{interceptor.NewTracingInterceptor(loggerKeys{tr})}, nil
}

// loggerKeys makes the workflow and activity loggers name the trace and span as
// the slog handler does (trace_id, span_id), not TraceID and SpanID.
type loggerKeys struct{ interceptor.Tracer }

func (l loggerKeys) GetLogger(logger tlog.Logger, ref interceptor.TracerSpanRef) tlog.Logger {
	s, ok := ref.(interface{ SpanContext() trace.SpanContext })
	if !ok || !s.SpanContext().IsValid() {
		return logger
	}
	sc := s.SpanContext()
	return tlog.With(logger, "trace_id", sc.TraceID().String(), "span_id", sc.SpanID().String())
}

// untraced paths: probes and scrapes would be most of the spans and tell nothing.
var untraced = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// Handler traces each request to h but the probes and /metrics, continuing the
// caller's trace when it sends a traceparent. The span is named by the method
// until the API names it by its route (api's observe sets it). Off, h itself.
func (t *Tracing) Handler(h http.Handler, operation string) http.Handler {
	if !t.enabled {
		return h
	}
	return otelhttp.NewHandler(h, operation,
		otelhttp.WithTracerProvider(t.provider), otelhttp.WithPropagators(t.propagator),
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelhttp.WithFilter(func(r *http.Request) bool { return !untraced[strings.TrimSuffix(r.URL.Path, "/")] }),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method }),
	)
}

// Transport traces each outgoing request through rt (http.DefaultTransport when
// nil) and sends the trace context with it. Off, rt itself.
func (t *Tracing) Transport(rt http.RoundTripper) http.RoundTripper {
	if !t.enabled {
		return rt
	}
	if rt == nil {
		rt = http.DefaultTransport
	}
	return otelhttp.NewTransport(rt,
		otelhttp.WithTracerProvider(t.provider), otelhttp.WithPropagators(t.propagator),
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + r.URL.Host }),
	)
}
