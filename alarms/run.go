package alarms

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// Store is the part of postgres.Store the alarm bell uses.
type Store interface {
	KPIs(ctx context.Context, f records.KPIFilter) ([]records.KPIValue, error)
	ComputeKPIs(ctx context.Context, w records.KPIWindow) (int64, error)
	AlarmState(ctx context.Context, since time.Time) (records.AlarmState, error)
	ApplyAlarms(ctx context.Context, a records.AlarmApply) error
	ClaimAlarmNotifications(ctx context.Context, limit int, stale time.Duration) ([]records.AlarmNotification, error)
	FinishAlarmNotification(ctx context.Context, alarmID int64, event, channel, status, errText string) error
	StoreTimeZones(ctx context.Context) (map[string]string, error)
}

// MaxCatchUp is how many hours an evaluation goes back at most: the hour
// buckets the KPI job recomputes (kpis.HourBuckets). After a longer stop the
// hours between are not evaluated (docs/alarms.md).
const MaxCatchUp = 48

// Evaluation is what one evaluation did.
type Evaluation struct {
	From, Through time.Time
	Opened        int
	Resolved      int
	Open          int
}

// Bell evaluates the signals and keeps the episodes in the store.
type Bell struct {
	Store   Store
	Config  Config
	Signals []Signal
	// Channels are the configured ways to tell people ("webhook", "email").
	Channels []string
	Logger   *slog.Logger
}

// lookback is how much data before the first evaluated hour the detector
// needs: the longest window and its baseline.
func (b *Bell) lookback() time.Duration {
	longest := 0
	for _, w := range b.Config.Windows {
		longest = max(longest, w)
	}
	return time.Duration(longest+b.Config.BaselineHours) * time.Hour
}

// EvaluateThrough evaluates every hour after the watermark up to through
// (truncated to the hour), at most MaxCatchUp hours, and writes what changed.
// Evaluating the same hour again does nothing: the watermark has passed it.
func (b *Bell) EvaluateThrough(ctx context.Context, through time.Time) (Evaluation, error) {
	h := through.UTC().Truncate(time.Hour)
	st, err := b.Store.AlarmState(ctx, h.Add(-b.lookback()-MaxCatchUp*time.Hour))
	if err != nil {
		return Evaluation{}, err
	}
	from := h
	if !st.EvaluatedThrough.IsZero() {
		from = st.EvaluatedThrough.Add(time.Hour)
	}
	if earliest := h.Add(-(MaxCatchUp - 1) * time.Hour); from.Before(earliest) {
		from = earliest
	}
	if from.After(h) {
		return Evaluation{From: from, Through: st.EvaluatedThrough, Open: countOpen(st.Known)}, nil
	}
	return b.evaluate(ctx, st, from, h, time.Time{}, "pending")
}

// Replay recomputes the KPIs from the lookback before from up to through and
// evaluates every hour from from to through as if the bell had run then,
// replacing the alarms opened from from on. With notify false no message is
// queued for what it finds.
func (b *Bell) Replay(ctx context.Context, from, through time.Time, notify bool) (Evaluation, error) {
	from, through = from.UTC().Truncate(time.Hour), through.UTC().Truncate(time.Hour)
	if !through.After(from) {
		return Evaluation{}, fmt.Errorf("replay from %s through %s: through must be after from", from, through)
	}
	dataFrom := from.Add(-b.lookback())
	w := records.KPIWindow{HoursFrom: dataFrom, DaysFrom: dataFrom.Truncate(24 * time.Hour), At: through}
	if _, err := b.Store.ComputeKPIs(ctx, w); err != nil {
		return Evaluation{}, fmt.Errorf("recompute the KPIs from %s: %w", dataFrom.Format(time.RFC3339), err)
	}
	st, err := b.Store.AlarmState(ctx, dataFrom)
	if err != nil {
		return Evaluation{}, err
	}
	watermark := st.EvaluatedThrough
	// As of from, the episodes opened before it are what is known; those
	// resolved since were still open.
	var known []records.Alarm
	for _, a := range st.Known {
		if !a.OpenedAt.Before(from) {
			continue
		}
		if a.ResolvedAt != nil && !a.ResolvedAt.Before(from) {
			a.ResolvedAt = nil
		}
		known = append(known, a)
	}
	st.Known = known
	st.EvaluatedThrough = watermark
	status := "pending"
	if !notify {
		status = ""
	}
	return b.evaluate(ctx, st, from, through, from, status)
}

// evaluate steps the detector from from to through and writes the outcome;
// resetFrom non-zero replaces the alarms from then on. An empty status queues
// no messages.
func (b *Bell) evaluate(ctx context.Context, st records.AlarmState, from, through, resetFrom time.Time, status string) (Evaluation, error) {
	dataFrom := from.Add(-b.lookback())
	vals, err := b.Store.KPIs(ctx, records.KPIFilter{KPIs: KPIs(b.Signals), Method: records.KPIAll,
		Granularity: records.GranularityHour, From: dataFrom, To: through, Limit: 50_000_000})
	if err != nil {
		return Evaluation{}, fmt.Errorf("read the KPIs for the alarms: %w", err)
	}
	data := NewData(dataFrom, int(through.Sub(dataFrom)/time.Hour))
	for _, v := range vals {
		data.Add(v)
	}
	names, err := b.Store.StoreTimeZones(ctx)
	if err != nil {
		return Evaluation{}, err
	}
	data.SetZones(Zones(names, b.Logger))
	det := NewDetector(b.Config, data, b.Signals, st.Known)
	var changes []Change
	for h := from; !h.After(through); h = h.Add(time.Hour) {
		changes = append(changes, det.Step(h)...)
	}
	eps := Episodes(changes)
	apply := records.AlarmApply{ExpectedThrough: st.EvaluatedThrough, Through: through, ResetFrom: resetFrom, Episodes: eps, NotifyStatus: status}
	if status != "" {
		apply.Channels = b.Channels
	}
	if err := b.Store.ApplyAlarms(ctx, apply); err != nil {
		return Evaluation{}, fmt.Errorf("write the alarms evaluated from %s through %s: %w", from.Format(time.RFC3339), through.Format(time.RFC3339), err)
	}
	ev := Evaluation{From: from, Through: through, Open: len(det.Open())}
	for _, e := range eps {
		if e.New {
			ev.Opened++
		}
		if e.NewlyResolved {
			ev.Resolved++
		}
	}
	return ev, nil
}

func countOpen(known []records.Alarm) int {
	n := 0
	for _, a := range known {
		if a.Open() {
			n++
		}
	}
	return n
}

// Episodes folds an evaluation's changes into the last state of each episode
// it touched.
func Episodes(changes []Change) []records.AlarmEpisode {
	type key struct {
		signal, store string
		opened        time.Time
	}
	idx := map[key]int{}
	var out []records.AlarmEpisode
	for _, c := range changes {
		k := key{c.Alarm.Signal, c.Alarm.StoreID, c.Alarm.OpenedAt}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, records.AlarmEpisode{})
		}
		out[i].Alarm = c.Alarm
		if c.Kind == Opened {
			out[i].New = true
		}
		if c.Kind == Resolved {
			out[i].NewlyResolved = true
		}
	}
	return out
}

// Zones loads the stores' time zones (StoreTimeZones: store ID → IANA name). A
// store whose zone is unknown is left out, logged (when logger is set): its
// alarms follow UTC hours and are told in UTC.
func Zones(names map[string]string, logger *slog.Logger) map[string]*time.Location {
	zones := map[string]*time.Location{}
	for id, name := range names {
		if loc, err := time.LoadLocation(name); err == nil {
			zones[id] = loc
		} else if logger != nil {
			logger.Warn("a store's time zone is unknown; its alarms follow UTC hours", "store_id", id, "time_zone", name)
		}
	}
	return zones
}
