package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// alarmColumns are the columns scanned by scanAlarm, in its order.
const alarmColumns = `alarm_id, signal, kpi, store_id, direction, opened_at, resolved_at, window_hours,
	observed, expected, observed_events, expected_events, volume, baseline, p_value, peak_ratio,
	last_evaluated_at, last_observed, last_expected`

func scanAlarm(row pgx.CollectableRow) (records.Alarm, error) {
	var a records.Alarm
	err := row.Scan(&a.ID, &a.Signal, &a.KPI, &a.StoreID, &a.Direction, &a.OpenedAt, &a.ResolvedAt, &a.WindowHours,
		&a.Observed, &a.Expected, &a.ObservedEvents, &a.ExpectedEvents, &a.Volume, &a.Baseline, &a.PValue, &a.PeakRatio,
		&a.LastEvaluatedAt, &a.LastObserved, &a.LastExpected)
	a.OpenedAt, a.LastEvaluatedAt = a.OpenedAt.UTC(), a.LastEvaluatedAt.UTC()
	if a.ResolvedAt != nil {
		r := a.ResolvedAt.UTC()
		a.ResolvedAt = &r
	}
	return a, err
}

// Alarms reads alarm episodes, newest first. With From, an episode that opened
// before From but was still open at From (or is still open) is included.
func (s *Store) Alarms(ctx context.Context, f records.AlarmFilter) ([]records.Alarm, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.pool.Query(ctx, `select `+alarmColumns+` from alarms
		where ($1 = '' or store_id = $1) and ($2 = '' or signal = $2) and (not $3 or resolved_at is null)
			and ($4::timestamptz is null or resolved_at is null or resolved_at >= $4)
			and ($5::timestamptz is null or opened_at < $5)
		order by opened_at desc, alarm_id desc
		limit $6`, f.StoreID, f.Signal, f.OpenOnly, nullTime(f.From), nullTime(f.To), limit)
	if err != nil {
		return nil, fmt.Errorf("read alarms: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanAlarm)
	if err != nil {
		return nil, fmt.Errorf("read alarms: %w", err)
	}
	return out, nil
}
