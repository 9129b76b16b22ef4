package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// OpenAlarms reads the open alarm episodes (postgres.Store.Alarms).
type OpenAlarms func(ctx context.Context) ([]records.Alarm, error)

// alarmCollector exports the open journey alarms at each scrape, read from
// PostgreSQL, so that every worker shows the same and Prometheus rules can
// route them (deploy/prometheus/alerts.yml, FulfilmentJourneyAlarm).
type alarmCollector struct {
	read    OpenAlarms
	logger  *slog.Logger
	open    *prometheus.Desc
	ratio   *prometheus.Desc
	readErr *prometheus.Desc
}

// RegisterAlarms adds fulfilment_alarm_open{signal,store_id,direction} (1 per
// open episode), fulfilment_alarm_ratio (its latest observed/expected) and
// fulfilment_alarm_read_errors (1 when the alarms could not be read at this
// scrape) to reg.
func RegisterAlarms(reg prometheus.Registerer, read OpenAlarms, logger *slog.Logger) error {
	labels := []string{"signal", "store_id", "direction"}
	return reg.Register(&alarmCollector{read: read, logger: logger,
		open:    prometheus.NewDesc("fulfilment_alarm_open", "Journey alarms open now (1 per episode), by signal, store and direction (docs/alarms.md).", labels, nil),
		ratio:   prometheus.NewDesc("fulfilment_alarm_ratio", "Latest observed/expected of each open journey alarm.", labels, nil),
		readErr: prometheus.NewDesc("fulfilment_alarm_read_errors", "1 when the open alarms could not be read from PostgreSQL at this scrape.", nil, nil),
	})
}

func (c *alarmCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.open
	ch <- c.ratio
	ch <- c.readErr
}

func (c *alarmCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	list, err := c.read(ctx)
	failed := 0.0
	if err != nil {
		c.logger.Warn("read open alarms for /metrics", "error", err)
		failed = 1
	}
	ch <- prometheus.MustNewConstMetric(c.readErr, prometheus.GaugeValue, failed)
	for _, a := range list {
		ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, 1, a.Signal, a.StoreID, a.Direction)
		r := 0.0
		if a.LastExpected != 0 {
			r = a.LastObserved / a.LastExpected
		}
		ch <- prometheus.MustNewConstMetric(c.ratio, prometheus.GaugeValue, r, a.Signal, a.StoreID, a.Direction)
	}
}
