package alarms

import (
	"fmt"
	"math"
	"time"

	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// ChangeKind says what an evaluation did to an episode.
type ChangeKind string

const (
	Opened   ChangeKind = "opened"
	Updated  ChangeKind = "updated"
	Resolved ChangeKind = "resolved"
)

// Change is one episode opened, updated or resolved by an evaluation. An
// episode is known by its signal, store and OpenedAt.
type Change struct {
	Kind  ChangeKind
	Alarm records.Alarm
}

type trackKey struct{ signal, store string }

// Detector evaluates the signals of every store hour by hour over Data and
// keeps the episodes: at most one open per signal and store, and a new one
// only on data after the last one resolved.
type Detector struct {
	cfg     Config
	data    *Data
	signals map[string]Signal
	order   []Signal
	stores  []string
	tracks  map[trackKey]*track
	open    map[trackKey]*records.Alarm
	// after is the hour index before which a new episode's window may not
	// start: the end of the last episode.
	after map[trackKey]int
}

// NewDetector starts from the episodes known so far: open ones are kept out
// of the baselines, resolved ones say where a new episode may start.
func NewDetector(cfg Config, data *Data, signals []Signal, known []records.Alarm) *Detector {
	d := &Detector{cfg: cfg, data: data, signals: map[string]Signal{}, order: signals, stores: data.Stores(),
		tracks: map[trackKey]*track{}, open: map[trackKey]*records.Alarm{}, after: map[trackKey]int{}}
	for _, s := range signals {
		d.signals[s.Name] = s
	}
	for _, a := range known {
		k := trackKey{a.Signal, a.StoreID}
		if _, ok := d.signals[a.Signal]; !ok {
			continue
		}
		start := data.index(a.OpenedAt) - a.WindowHours
		if a.ResolvedAt == nil {
			a := a
			d.open[k] = &a
			d.excludeFrom(k, start, data.hours)
			continue
		}
		end := data.index(*a.ResolvedAt)
		if end > d.after[k] {
			d.after[k] = end
		}
	}
	return d
}

func (d *Detector) track(k trackKey) *track {
	t := d.tracks[k]
	if t == nil {
		t = d.data.track(d.signals[k.signal], k.store, d.cfg.SettleHours)
		d.tracks[k] = t
	}
	return t
}

func (d *Detector) excludeFrom(k trackKey, from, to int) {
	if to <= 0 || from >= d.data.hours {
		return
	}
	d.track(k).exclude(from, to)
}

// Open returns the open episodes.
func (d *Detector) Open() []records.Alarm {
	var out []records.Alarm
	for _, a := range d.open {
		out = append(out, *a)
	}
	return out
}

// Step evaluates every signal of every store for the windows ending at h (an
// hour boundary) and returns what changed. Steps must go forward in time.
func (d *Detector) Step(h time.Time) []Change {
	end := d.data.index(h)
	var changes []Change
	for _, store := range d.stores {
		for _, s := range d.order {
			k := trackKey{s.Name, store}
			if c, ok := d.step(k, s, end, h); ok {
				changes = append(changes, c)
			}
		}
	}
	return changes
}

func (d *Detector) step(k trackKey, s Signal, end int, h time.Time) (Change, bool) {
	t := d.track(k)
	if a := d.open[k]; a != nil {
		// The window reaches back to the episode's start at most: before it the
		// data were ordinary, and would resolve the alarm at once.
		w := min(d.cfg.ResolveWindow, max(24, end-(d.data.index(a.OpenedAt)-a.WindowHours)))
		r := d.cfg.test(t, s, end, w)
		if r.OK {
			a.LastObserved, a.LastExpected = r.Observed, r.Expected
			if ratio := r.Ratio(); (s.Direction == Up && ratio > a.PeakRatio) || (s.Direction == Down && ratio < a.PeakRatio) {
				a.PeakRatio = ratio
			}
		}
		a.LastEvaluatedAt = h
		if r.returned(s, d.cfg.AlphaHold) {
			at := h
			a.ResolvedAt = &at
			delete(d.open, k)
			// Once resolved, the episode's hours count as ordinary again: a
			// pattern that recurs (every Sunday) is learned after it has rung,
			// rather than ringing every week.
			t.include(d.data.index(a.OpenedAt)-a.WindowHours, d.data.hours)
			d.after[k] = end
			return Change{Kind: Resolved, Alarm: *a}, true
		}
		return Change{Kind: Updated, Alarm: *a}, r.OK
	}
	var best Result
	found := false
	for _, w := range d.cfg.Windows {
		if end-w < d.after[k] {
			continue
		}
		r := d.cfg.test(t, s, end, w)
		if r.fires(s, d.cfg.AlphaOpen, d.cfg.BaselineHours) && (!found || r.P < best.P) {
			best, found = r, true
		}
	}
	if !found {
		return Change{}, false
	}
	a := &records.Alarm{
		Signal: s.Name, KPI: s.KPI, StoreID: k.store, Direction: string(s.Direction), OpenedAt: h,
		WindowHours: best.Window, Observed: best.Observed, Expected: best.Expected,
		ObservedEvents: best.ObservedEvents, ExpectedEvents: best.ExpectedEvents, Volume: best.Volume,
		Baseline: best.Baseline, BaselineParts: &best.BaselineParts, PValue: best.P, PeakRatio: clampRatio(best.Ratio()), LastEvaluatedAt: h,
		LastObserved: best.Observed, LastExpected: best.Expected,
	}
	d.open[k] = a
	t.exclude(end-best.Window, d.data.hours)
	return Change{Kind: Opened, Alarm: *a}, true
}

// clampRatio keeps an infinite ratio (nothing expected) storable.
func clampRatio(r float64) float64 {
	if math.IsInf(r, 1) {
		return 1e6
	}
	return r
}

// Summary says in one English line what moved, by how much, against what.
func Summary(a records.Alarm) string {
	store := "store " + a.StoreID
	if a.StoreID == records.KPIAll {
		store = "all stores"
	}
	verb := "rose"
	if a.Direction == string(Down) {
		verb = "fell"
	}
	return fmt.Sprintf("%s at %s %s: %s in the %d h to %s against %s expected (×%.2g; %s; p=%.1g)",
		a.Signal, store, verb, FormatValue(a.Signal, a.Observed), a.WindowHours, a.OpenedAt.Format("2006-01-02 15:04 MST"),
		FormatValue(a.Signal, a.Expected), clampRatio(ratio(a.Observed, a.Expected)), a.Baseline, a.PValue)
}

func ratio(o, e float64) float64 {
	return Result{Observed: o, Expected: e}.Ratio()
}

// FormatValue shows a signal's value: rates as percentages, durations in hours
// or minutes, counts as numbers.
func FormatValue(signal string, v float64) string {
	kind := KindCount
	for _, s := range Signals() {
		if s.Name == signal {
			kind = s.Kind
		}
	}
	switch kind {
	case KindRate:
		return fmt.Sprintf("%.1f%%", 100*v)
	case KindDuration:
		if v >= 3600 {
			return fmt.Sprintf("%.1f h", v/3600)
		}
		return fmt.Sprintf("%.0f min", v/60)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}
