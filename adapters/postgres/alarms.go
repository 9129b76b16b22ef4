package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// alarmColumns are the columns scanned by scanAlarm, in its order.
const alarmColumns = `alarm_id, signal, kpi, store_id, direction, opened_at, resolved_at, window_hours,
	observed, expected, observed_events, expected_events, volume, baseline, baseline_parts, p_value, peak_ratio,
	last_evaluated_at, last_observed, last_expected`

func scanAlarm(row pgx.CollectableRow) (records.Alarm, error) {
	var a records.Alarm
	err := row.Scan(alarmFields(&a)...)
	utcAlarm(&a)
	return a, err
}

// alarmFields are the scan destinations of alarmColumns.
func alarmFields(a *records.Alarm) []any {
	return []any{&a.ID, &a.Signal, &a.KPI, &a.StoreID, &a.Direction, &a.OpenedAt, &a.ResolvedAt, &a.WindowHours,
		&a.Observed, &a.Expected, &a.ObservedEvents, &a.ExpectedEvents, &a.Volume, &a.Baseline, &a.BaselineParts, &a.PValue, &a.PeakRatio,
		&a.LastEvaluatedAt, &a.LastObserved, &a.LastExpected}
}

// utcAlarm gives a scanned alarm's times in UTC.
func utcAlarm(a *records.Alarm) {
	a.OpenedAt, a.LastEvaluatedAt = a.OpenedAt.UTC(), a.LastEvaluatedAt.UTC()
	if a.ResolvedAt != nil {
		r := a.ResolvedAt.UTC()
		a.ResolvedAt = &r
	}
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

// ErrAlarmWatermarkMoved says another evaluation wrote alarms since the state
// was read; evaluate again from the new state.
var ErrAlarmWatermarkMoved = errors.New("another alarm evaluation ran meanwhile")

// AlarmState reads the watermark, the open episodes and those resolved at or
// after since.
func (s *Store) AlarmState(ctx context.Context, since time.Time) (records.AlarmState, error) {
	var st records.AlarmState
	err := s.pool.QueryRow(ctx, `select evaluated_through from alarm_watermark`).Scan(&st.EvaluatedThrough)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return st, fmt.Errorf("read the alarm watermark: %w", err)
	}
	st.EvaluatedThrough = st.EvaluatedThrough.UTC()
	rows, err := s.pool.Query(ctx, `select `+alarmColumns+` from alarms where resolved_at is null or resolved_at >= $1 order by opened_at`, since)
	if err != nil {
		return st, fmt.Errorf("read known alarms: %w", err)
	}
	st.Known, err = pgx.CollectRows(rows, scanAlarm)
	if err != nil {
		return st, fmt.Errorf("read known alarms: %w", err)
	}
	return st, nil
}

// ApplyAlarms writes an evaluation's episodes, their notification rows and the
// new watermark in one transaction; ErrAlarmWatermarkMoved when the watermark
// is no longer a.ExpectedThrough. Writing the same outcome twice is refused by
// the watermark, so an episode opens once.
func (s *Store) ApplyAlarms(ctx context.Context, a records.AlarmApply) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var cur time.Time
		err := tx.QueryRow(ctx, `select evaluated_through from alarm_watermark for update`).Scan(&cur)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			if !a.ExpectedThrough.IsZero() {
				return ErrAlarmWatermarkMoved
			}
			tag, err := tx.Exec(ctx, `insert into alarm_watermark (evaluated_through) values ($1) on conflict do nothing`, a.Through)
			if err != nil {
				return fmt.Errorf("create the alarm watermark: %w", err)
			}
			if tag.RowsAffected() == 0 {
				return ErrAlarmWatermarkMoved // another evaluation created it meanwhile
			}
		case err != nil:
			return fmt.Errorf("lock the alarm watermark: %w", err)
		case !cur.Equal(a.ExpectedThrough):
			return ErrAlarmWatermarkMoved
		}
		if !a.ResetFrom.IsZero() {
			if _, err := tx.Exec(ctx, `delete from alarm_notifications where alarm_id in (select alarm_id from alarms where opened_at >= $1)`, a.ResetFrom); err != nil {
				return fmt.Errorf("reset alarms from %s: %w", a.ResetFrom, err)
			}
			if _, err := tx.Exec(ctx, `delete from alarms where opened_at >= $1`, a.ResetFrom); err != nil {
				return fmt.Errorf("reset alarms from %s: %w", a.ResetFrom, err)
			}
			if _, err := tx.Exec(ctx, `update alarms set resolved_at = null where resolved_at >= $1`, a.ResetFrom); err != nil {
				return fmt.Errorf("reopen alarms resolved from %s: %w", a.ResetFrom, err)
			}
		}
		for _, e := range a.Episodes {
			al := e.Alarm
			var id int64
			if e.New {
				err = tx.QueryRow(ctx, `insert into alarms (signal, kpi, store_id, direction, opened_at, resolved_at, window_hours,
					observed, expected, observed_events, expected_events, volume, baseline, baseline_parts, p_value, peak_ratio,
					last_evaluated_at, last_observed, last_expected)
					values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
					returning alarm_id`,
					al.Signal, al.KPI, al.StoreID, al.Direction, al.OpenedAt, al.ResolvedAt, al.WindowHours,
					al.Observed, al.Expected, al.ObservedEvents, al.ExpectedEvents, al.Volume, al.Baseline, al.BaselineParts, al.PValue, al.PeakRatio,
					al.LastEvaluatedAt, al.LastObserved, al.LastExpected).Scan(&id)
				if err != nil {
					return fmt.Errorf("open alarm %s of %s at %s: %w", al.Signal, al.StoreID, al.OpenedAt, err)
				}
			} else {
				err = tx.QueryRow(ctx, `update alarms set resolved_at = $4, peak_ratio = $5, last_evaluated_at = $6,
					last_observed = $7, last_expected = $8
					where signal = $1 and store_id = $2 and opened_at = $3 returning alarm_id`,
					al.Signal, al.StoreID, al.OpenedAt, al.ResolvedAt, al.PeakRatio, al.LastEvaluatedAt, al.LastObserved, al.LastExpected).Scan(&id)
				if err != nil {
					return fmt.Errorf("update alarm %s of %s opened %s: %w", al.Signal, al.StoreID, al.OpenedAt, err)
				}
			}
			var events []string
			if e.New {
				events = append(events, "opened")
			}
			if e.NewlyResolved {
				events = append(events, "resolved")
			}
			for _, ev := range events {
				for _, ch := range a.Channels {
					if _, err := tx.Exec(ctx, `insert into alarm_notifications (alarm_id, event, channel, status) values ($1, $2, $3, $4)
						on conflict do nothing`, id, ev, ch, a.NotifyStatus); err != nil {
						return fmt.Errorf("queue the %s %s message of alarm %d: %w", ev, ch, id, err)
					}
				}
			}
		}
		if _, err := tx.Exec(ctx, `update alarm_watermark set evaluated_through = $1`, a.Through); err != nil {
			return fmt.Errorf("move the alarm watermark: %w", err)
		}
		return nil
	})
}

// ClaimAlarmNotifications takes up to limit pending messages for sending
// (status sending, attempts counted). A message left sending for longer than
// stale — its sender died between claiming and finishing — becomes
// unconfirmed first: it may have gone out, and a webhook has no idempotency
// key, so it is not sent again.
func (s *Store) ClaimAlarmNotifications(ctx context.Context, limit int, stale time.Duration) ([]records.AlarmNotification, error) {
	if _, err := s.pool.Exec(ctx, `update alarm_notifications set status = 'unconfirmed', last_error = 'the sender stopped while sending'
		where status = 'sending' and claimed_at < now() - $1::interval`, stale.String()); err != nil {
		return nil, fmt.Errorf("mark interrupted alarm messages: %w", err)
	}
	rows, err := s.pool.Query(ctx, `with claimed as (
			update alarm_notifications n set status = 'sending', claimed_at = now(), attempts = attempts + 1
			where (alarm_id, event, channel) in (
				select alarm_id, event, channel from alarm_notifications where status = 'pending'
				order by created_at, alarm_id, event, channel limit $1 for update skip locked)
			returning alarm_id, event, channel, attempts)
		select c.event, c.channel, c.attempts, `+prefixed("a.", alarmColumns)+`
		from claimed c join alarms a using (alarm_id) order by a.opened_at, c.alarm_id, c.event, c.channel`, limit)
	if err != nil {
		return nil, fmt.Errorf("claim alarm messages: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (records.AlarmNotification, error) {
		var n records.AlarmNotification
		err := row.Scan(append([]any{&n.Event, &n.Channel, &n.Attempts}, alarmFields(&n.Alarm)...)...)
		utcAlarm(&n.Alarm)
		return n, err
	})
	if err != nil {
		return nil, fmt.Errorf("claim alarm messages: %w", err)
	}
	return out, nil
}

// FinishAlarmNotification records how sending went: sent, failed (for good),
// unconfirmed (it may have gone out), or pending (try again later).
func (s *Store) FinishAlarmNotification(ctx context.Context, alarmID int64, event, channel, status, errText string) error {
	_, err := s.pool.Exec(ctx, `update alarm_notifications set status = $4, last_error = $5,
		sent_at = case when $4 = 'sent' then now() else sent_at end
		where alarm_id = $1 and event = $2 and channel = $3 and status = 'sending'`, alarmID, event, channel, status, errText)
	if err != nil {
		return fmt.Errorf("record the %s %s message of alarm %d as %s: %w", event, channel, alarmID, status, err)
	}
	return nil
}

// prefixed qualifies a comma-separated column list with p.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// RecordWorkflowTaskFailure keeps the latest failure of a workflow run's task.
func (s *Store) RecordWorkflowTaskFailure(ctx context.Context, f records.WorkflowTaskFailure) error {
	_, err := s.pool.Exec(ctx, `insert into workflow_task_failures (workflow_id, run_id, workflow_type, attempt, error, first_failed_at, last_failed_at)
		values ($1, $2, $3, $4, $5, $6, $6)
		on conflict (workflow_id, run_id) do update set attempt = greatest(workflow_task_failures.attempt, excluded.attempt),
			error = excluded.error, last_failed_at = greatest(workflow_task_failures.last_failed_at, excluded.last_failed_at)`,
		f.WorkflowID, f.RunID, f.WorkflowType, f.Attempt, f.Error, f.LastFailedAt)
	if err != nil {
		return fmt.Errorf("record the failed workflow task of %s: %w", f.WorkflowID, err)
	}
	return nil
}

// WorkflowTaskFailures lists the runs whose workflow task failed at or after
// since, the latest first.
func (s *Store) WorkflowTaskFailures(ctx context.Context, since time.Time, limit int) ([]records.WorkflowTaskFailure, error) {
	rows, err := s.pool.Query(ctx, `select workflow_id, run_id, workflow_type, attempt, error, first_failed_at, last_failed_at
		from workflow_task_failures where last_failed_at >= $1 order by last_failed_at desc limit $2`, since, limit)
	if err != nil {
		return nil, fmt.Errorf("read failed workflow tasks: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (records.WorkflowTaskFailure, error) {
		var f records.WorkflowTaskFailure
		err := row.Scan(&f.WorkflowID, &f.RunID, &f.WorkflowType, &f.Attempt, &f.Error, &f.FirstFailedAt, &f.LastFailedAt)
		f.FirstFailedAt, f.LastFailedAt = f.FirstFailedAt.UTC(), f.LastFailedAt.UTC()
		return f, err
	})
	if err != nil {
		return nil, fmt.Errorf("read failed workflow tasks: %w", err)
	}
	return out, nil
}

// StoreTimeZones maps every location to its IANA time zone.
func (s *Store) StoreTimeZones(ctx context.Context) (map[string]string, error) {
	rows, err := s.pool.Query(ctx, `select id, time_zone from stores`)
	if err != nil {
		return nil, fmt.Errorf("read the stores' time zones: %w", err)
	}
	out := map[string]string{}
	var id, zone string
	_, err = pgx.ForEachRow(rows, []any{&id, &zone}, func() error {
		out[id] = zone
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the stores' time zones: %w", err)
	}
	return out, nil
}
