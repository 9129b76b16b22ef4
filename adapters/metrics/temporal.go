// Package metrics puts a process's metrics into a prometheus/client_golang
// Registry (never the default one): the Temporal SDK's own metrics, through its
// OpenTelemetry integration and the OpenTelemetry Prometheus exporter, and the
// worker's business counters (Business, the activities.Metrics port).
// docs/observability.md lists every metric.
package metrics

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/otlptranslator"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
)

// LatencyBuckets are the bucket bounds, in seconds, of the SDK's latency
// histograms (its timers: request, schedule-to-start, execution and end-to-end
// latencies). OpenTelemetry's default bounds (0 to 10,000) suit milliseconds,
// not seconds; these span a 1 ms poll answer to a 10-minute schedule-to-start.
var LatencyBuckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}

// NewRegistry is a registry with the Go runtime and process collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Handler serves reg in the Prometheus exposition format.
func Handler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}

// TemporalHandler is a Temporal SDK metrics handler (client.Options.MetricsHandler)
// whose metrics are collected into reg under the SDK's own names: the OTel
// exporter (UnderscoreEscapingWithoutSuffixes) adds no unit suffix and no _total to them (temporal_request,
// temporal_activity_schedule_to_start_latency_bucket, ...), no scope labels and no
// target_info. Latencies are histograms in seconds (LatencyBuckets). An error
// while recording (which the SDK cannot act on) is logged, never a panic.
func TemporalHandler(reg prometheus.Registerer, logger *slog.Logger) (client.MetricsHandler, error) {
	if reg == nil {
		return nil, errors.New("metrics: TemporalHandler needs a registry")
	}
	exporter, err := otelprom.New(
		otelprom.WithRegisterer(reg),
		// Names as they are (underscores stay underscores), no unit or _total suffix.
		otelprom.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithoutSuffixes),
		otelprom.WithoutScopeInfo(),
		otelprom.WithoutTargetInfo(),
		otelprom.WithAggregationSelector(func(k sdkmetric.InstrumentKind) sdkmetric.Aggregation {
			if k == sdkmetric.InstrumentKindHistogram {
				return sdkmetric.AggregationExplicitBucketHistogram{Boundaries: LatencyBuckets}
			}
			return sdkmetric.DefaultAggregationSelector(k)
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("metrics: OpenTelemetry Prometheus exporter: %w", err)
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	return temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter: provider.Meter("go.temporal.io/sdk"),
		// Counters as Prometheus counters (monotonic), not gauges.
		UseMonotonicCounters: true,
		OnError: func(err error) {
			logger.Warn("record a Temporal SDK metric", "error", err)
		},
	}), nil
}
