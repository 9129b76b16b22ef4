package api

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// metrics are the starter's Prometheus metrics, in a registry of the Server's
// own (never the default one): two Servers in one process, as in the tests, do
// not share or collide. Labels are route patterns ("GET /v1/orders/{id}") and
// status codes only, never paths, query strings or callers, so a scrape holds no
// personal data and its cardinality is bounded by the route table.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// unmatchedRoute labels requests no route matched (404 or 405 from the mux).
const unmatchedRoute = "unmatched"

func newMetrics(reg *prometheus.Registry) *metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &metrics{
		registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fulfilment_http_requests_total",
			Help: "HTTP requests answered by the starter, by route pattern and status code.",
		}, []string{"route", "status"}),
		// The default buckets (5 ms to 10 s) span a status query and a checkout,
		// which waits for stock and the payment capture.
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "fulfilment_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
	}
	m.registry.MustRegister(m.requests, m.latency,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// handler serves the registry in the Prometheus exposition format. It needs no
// token: operators keep /metrics on an internal network (docs/api.md says so).
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// opsRoutes are polled by probes and scrapers; their request lines are logged at
// debug level so that they do not drown the others.
var opsRoutes = map[string]bool{"GET /healthz": true, "GET /readyz": true, "GET /metrics": true}

// observe counts, times and logs every request: one log line with method, route
// pattern, status, duration and, once auth has admitted a token, its subject and
// role. The raw path, the query string (?customer= is personal data), headers
// and bodies are never logged.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var who records.Principal
		r = r.WithContext(context.WithValue(r.Context(), callerKey{}, &who))
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		elapsed := time.Since(start)

		route := r.Pattern // set by the mux on this request
		if route == "" {
			route = unmatchedRoute
		}
		// The trace's span (tracing.Handler's, when tracing is on) is named by
		// the route, as the metrics are; a no-op span otherwise.
		span := trace.SpanFromContext(r.Context())
		span.SetName(route)
		span.SetAttributes(attribute.String("http.route", route))
		status := rec.status
		if status == 0 {
			status = http.StatusOK // nothing written: net/http answers 200
		}
		s.metrics.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
		s.metrics.latency.WithLabelValues(route).Observe(elapsed.Seconds())

		level := slog.LevelInfo
		if opsRoutes[route] {
			level = slog.LevelDebug
		}
		attrs := []slog.Attr{
			slog.String("method", r.Method), slog.String("route", route), slog.Int("status", status),
			slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
		}
		if who.Subject != "" {
			attrs = append(attrs, slog.String("subject", who.Subject), slog.String("role", who.Role))
		}
		s.logger.LogAttrs(r.Context(), level, "http request", attrs...)
	})
}

type callerKey struct{}

// noteCaller tells observe whose token auth admitted, for the request's log line.
func noteCaller(ctx context.Context, p records.Principal) {
	if who, ok := ctx.Value(callerKey{}).(*records.Principal); ok {
		*who = p
	}
}

// statusRecorder remembers the status a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 && code >= http.StatusOK {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer (Flush).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
