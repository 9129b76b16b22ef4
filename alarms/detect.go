package alarms

import (
	"math"
	"slices"
	"sort"
	"time"

	"github.com/everywherecommerce/fulfilment/kpis/chart"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// Config tunes the detector; DefaultConfig is what runs (docs/alarms.md).
type Config struct {
	// Windows are the window lengths in hours tested at every evaluation: a
	// short one finds a big shift fast, a long one finds a smaller shift of a
	// small store.
	Windows []int
	// BaselineHours is how far back before a window its baseline reaches.
	BaselineHours int
	// LearningHours is the least baseline (hours of the store's own data) before
	// a signal may ring.
	LearningHours int
	// SettleHours of a store's first records are left out of rates and
	// durations, baselines and windows alike: events that lag their order
	// (an expiry a week after ready, a long pickup, a late delivery) are
	// missing from a store's first days, which would make its baseline too good.
	SettleHours int
	// ResolveWindow is the longest window in hours an open alarm is tested on
	// to resolve: long enough that an ordinary dip during a real shift does not
	// resolve it; it reaches back no further than the episode's first window.
	ResolveWindow int
	// AlphaOpen is the largest p-value that opens an alarm; AlphaHold the
	// p-value under which an open alarm is held even when its ratio has eased.
	AlphaOpen, AlphaHold float64
}

// DefaultConfig is the detector as it runs.
func DefaultConfig() Config {
	return Config{Windows: []int{24, 72, 168}, BaselineHours: 28 * 24, LearningHours: 7 * 24, SettleHours: 10 * 24, ResolveWindow: 72, AlphaOpen: 1e-4, AlphaHold: 0.01}
}

// Data are the hourly KPI values of every store (method "*"), hour i being
// Start+i hours.
type Data struct {
	start  time.Time
	hours  int
	rows   map[rowKey]*hourly
	stores map[string]bool
	zones  map[string]*time.Location
	how    map[string][]uint8 // hoursOfWeek per store
}

// SetZones gives the stores' time zones: a store's weekly pattern (opening
// hours, a closed Sunday) follows its local clock, across summer time too.
// A store without one (and "*", all stores) keeps UTC.
func (d *Data) SetZones(z map[string]*time.Location) { d.zones, d.how = z, nil }

type rowKey struct{ kpi, store string }

type hourly struct {
	num, den, val, samples []float64
	present                []bool
}

// NewData makes room for hours hours from start (truncated to the hour).
func NewData(start time.Time, hours int) *Data {
	return &Data{start: start.UTC().Truncate(time.Hour), hours: hours, rows: map[rowKey]*hourly{}, stores: map[string]bool{}}
}

// Start is the first hour of the data.
func (d *Data) Start() time.Time { return d.start }

// End is the end of the data's last hour.
func (d *Data) End() time.Time { return d.start.Add(time.Duration(d.hours) * time.Hour) }

// Add takes one KPI value; day buckets, single methods and values outside the
// range are ignored.
func (d *Data) Add(v records.KPIValue) {
	if v.Granularity != records.GranularityHour || v.Method != records.KPIAll {
		return
	}
	i := d.index(v.BucketStart)
	if i < 0 || i >= d.hours {
		return
	}
	k := rowKey{v.KPI, v.StoreID}
	h := d.rows[k]
	if h == nil {
		h = &hourly{num: make([]float64, d.hours), den: make([]float64, d.hours), val: make([]float64, d.hours),
			samples: make([]float64, d.hours), present: make([]bool, d.hours)}
		d.rows[k] = h
	}
	h.val[i], h.samples[i], h.present[i] = v.Value, float64(v.Samples), true
	if v.Numerator != nil {
		h.num[i] = *v.Numerator
	}
	if v.Denominator != nil {
		h.den[i] = *v.Denominator
	}
	d.stores[v.StoreID] = true
}

func (d *Data) index(t time.Time) int {
	return int(t.Sub(d.start) / time.Hour)
}

// hoursOfWeek is each hour's hour of the week in the store's zone, worked out
// once per store and shared by its tracks (which only read it).
func (d *Data) hoursOfWeek(store string) []uint8 {
	if how, ok := d.how[store]; ok {
		return how
	}
	loc := d.zones[store]
	if loc == nil {
		loc = time.UTC
	}
	how := make([]uint8, d.hours)
	for i := range how {
		at := d.start.Add(time.Duration(i) * time.Hour).In(loc)
		how[i] = uint8((int(at.Weekday())+6)%7*24 + at.Hour())
	}
	if d.how == nil {
		d.how = map[string][]uint8{}
	}
	d.how[store] = how
	return how
}

// Stores are the stores with data, "*" (all stores) included, sorted.
func (d *Data) Stores() []string {
	out := make([]string, 0, len(d.stores))
	for s := range d.stores {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// track is one signal of one store, hour by hour: events and volume (count:
// the count; rate: numerator and denominator; duration: median × samples and
// samples), with prefix sums over the hours that may serve as baseline.
type track struct {
	ev, vol  []float64
	first    int // first hour with data, after the settling hours of rates and durations; -1 when none
	excluded []bool
	how      []uint8   // each hour's hour of the week in the store's zone (0 = Monday 00:00)
	pev      []float64 // Σ ev of baseline-eligible hours before i
	pvol     []float64
	pn       []int // baseline-eligible hours before i
	pall     []float64
	pallVol  []float64
}

func (d *Data) track(s Signal, store string, settle int) *track {
	t := &track{ev: make([]float64, d.hours), vol: make([]float64, d.hours), first: -1, excluded: make([]bool, d.hours),
		how: d.hoursOfWeek(store)}
	get := func(kpi string) *hourly { return d.rows[rowKey{kpi, store}] }
	note := func(h *hourly, i int) {
		if h != nil && h.present[i] && (t.first < 0 || i < t.first) {
			t.first = i
		}
	}
	for i := 0; i < d.hours; i++ {
		switch {
		case s.Kind == KindRate && len(s.Num) == 0:
			if h := get(s.KPI); h != nil && h.present[i] {
				t.ev[i], t.vol[i] = h.num[i], h.den[i]
				if s.Complement {
					t.ev[i] = h.den[i] - h.num[i]
				}
				note(h, i)
			}
		case s.Kind == KindDuration:
			if h := get(s.Num[0]); h != nil && h.present[i] {
				t.ev[i], t.vol[i] = h.val[i]*h.samples[i], h.samples[i]
				note(h, i)
			}
		default:
			for _, k := range s.Num {
				if h := get(k); h != nil && h.present[i] {
					t.ev[i] += h.val[i]
					note(h, i)
				}
			}
			for _, k := range s.Den {
				if h := get(k); h != nil && h.present[i] {
					t.vol[i] += h.val[i]
					note(h, i)
				}
			}
		}
	}
	if t.first >= 0 && s.Kind != KindCount {
		t.first += settle
	}
	t.sum()
	return t
}

// sum recomputes the prefix sums after the excluded hours changed.
func (t *track) sum() {
	n := len(t.ev)
	t.pev, t.pvol, t.pn = make([]float64, n+1), make([]float64, n+1), make([]int, n+1)
	t.pall, t.pallVol = make([]float64, n+1), make([]float64, n+1)
	for i := 0; i < n; i++ {
		t.pall[i+1], t.pallVol[i+1] = t.pall[i]+t.ev[i], t.pallVol[i]+t.vol[i]
		t.pev[i+1], t.pvol[i+1], t.pn[i+1] = t.pev[i], t.pvol[i], t.pn[i]
		if !t.excluded[i] && t.first >= 0 && i >= t.first {
			t.pev[i+1] += t.ev[i]
			t.pvol[i+1] += t.vol[i]
			t.pn[i+1]++
		}
	}
}

// exclude keeps hours [from, to) out of every baseline (an alarm episode).
func (t *track) exclude(from, to int) {
	for i := max(from, 0); i < min(to, len(t.excluded)); i++ {
		t.excluded[i] = true
	}
	t.sum()
}

// include lets hours [from, to) serve as baseline again (an open episode's
// exclusion narrowed to its end when it resolves).
func (t *track) include(from, to int) {
	for i := max(from, 0); i < min(to, len(t.excluded)); i++ {
		t.excluded[i] = false
	}
	t.sum()
}

// clean reports whether [a, b) is all baseline-eligible.
func (t *track) clean(a, b int) bool { return t.pn[b]-t.pn[a] == b-a }

// baseline records how the expected value was formed, in parts and in words.
func (r *Result) baseline(parts records.BaselineParts) {
	r.BaselineParts, r.Baseline = parts, chart.BaselineText(parts, chart.English)
}

// Result is one test of one window of a signal of a store.
type Result struct {
	Window                         int // hours
	OK                             bool
	Observed, Expected             float64
	ObservedEvents, ExpectedEvents float64
	Volume                         float64
	P                              float64
	Baseline                       string // in English, for the notifications
	BaselineParts                  records.BaselineParts
	// BaselineHours is how many hours of the store's own data the baseline
	// had (at most Config.BaselineHours).
	BaselineHours int
}

// Ratio is observed/expected (Inf when nothing was expected).
func (r Result) Ratio() float64 {
	if r.Expected == 0 {
		if r.Observed == 0 {
			return 1
		}
		return math.Inf(1)
	}
	return r.Observed / r.Expected
}

// fires reports whether the result rings the bell for s.
func (r Result) fires(s Signal, alpha float64, full int) bool {
	// A young baseline (fewer than the full 28 days) knows the store's
	// pattern less well: it must be surer, by the square of the share missing.
	if share := float64(r.BaselineHours) / float64(full); share < 1 {
		alpha *= share * share
	}
	if !r.OK || r.P > alpha {
		return false
	}
	if s.Direction == Down {
		return r.Ratio() <= 1/s.MinRatio && r.ExpectedEvents >= s.MinEvents
	}
	return r.Ratio() >= s.MinRatio && r.ObservedEvents >= s.MinEvents
}

// returned reports whether an open alarm of s may resolve on r: the shift has
// gone at least half way back, or it is below the ringing ratio and no longer
// clearly shifted (p above AlphaHold).
func (r Result) returned(s Signal, alphaHold float64) bool {
	if !r.OK {
		return false
	}
	half := 1 + (s.MinRatio-1)/2
	ratio := r.Ratio()
	if s.Direction == Down {
		return ratio >= 1/half || (ratio > 1/s.MinRatio && r.P > alphaHold)
	}
	return ratio <= half || (ratio < s.MinRatio && r.P > alphaHold)
}

// test tests the window of w hours ending at hour end (exclusive).
func (c Config) test(t *track, s Signal, end, w int) Result {
	r := Result{Window: w}
	st := end - w
	if t.first < 0 || st < t.first || st < 0 || end > len(t.ev) {
		return r
	}
	bStart := max(t.first, st-c.BaselineHours, 0)
	if t.pn[st]-t.pn[bStart] < c.LearningHours {
		return r
	}
	r.BaselineHours = t.pn[st] - t.pn[bStart]
	switch s.Kind {
	case KindRate:
		return c.testRate(t, s, st, end, bStart, r)
	case KindCount:
		return c.testCount(t, s, st, end, bStart, r)
	default:
		return c.testDuration(t, s, st, end, bStart, r)
	}
}

// dayBlocks calls f for every whole baseline-eligible day block [a, a+24)
// before st, from st back to bStart, at most 28.
func dayBlocks(t *track, st, bStart int, f func(a, b int)) {
	for j := 1; j <= 28; j++ {
		a, b := st-24*j, st-24*(j-1)
		if a < bStart {
			return
		}
		if t.clean(a, b) {
			f(a, b)
		}
	}
}

// dispersion is Σ(O−E)²/ΣE over the baseline's day blocks, at least 1 and at
// most 4 (quasi-Poisson); 2 when there are fewer than 5 blocks.
func dispersion(t *track, st, bStart int, expected func(a, b int) (float64, bool)) float64 {
	var sq, se float64
	n := 0
	dayBlocks(t, st, bStart, func(a, b int) {
		e, ok := expected(a, b)
		if !ok || e <= 0 {
			return
		}
		o := t.pall[b] - t.pall[a]
		sq += (o - e) * (o - e)
		se += e
		n++
	})
	if n < 5 || se == 0 {
		return 2
	}
	return math.Min(4, math.Max(1, sq/se))
}

func (c Config) poissonP(s Signal, o, e, phi float64) float64 {
	if s.Direction == Down {
		return poissonLower(o/phi, e/phi)
	}
	return poissonUpper(o/phi, e/phi)
}

// weekCells sums the baseline-eligible events and volume of [bStart, st) by
// hour of the week (0 = Monday 00:00 UTC): the store's weekly pattern.
type weekCells struct {
	ev, vol       [168]float64
	totEv, totVol float64
}

func (t *track) cells(st, bStart int) *weekCells {
	w := &weekCells{}
	for i := bStart; i < st; i++ {
		if t.excluded[i] {
			continue
		}
		c := t.how[i]
		w.ev[c] += t.ev[i]
		w.vol[c] += t.vol[i]
		w.totEv += t.ev[i]
		w.totVol += t.vol[i]
	}
	return w
}

// factors are the store's level in each hour of the week relative to its
// overall level: each weekday's own (shrunk towards 1), and each hour's own
// (shrunk towards its weekday's), by shrink(events, volume, prior).
func (w *weekCells) factors(shrink func(ev, vol, prior float64) float64) [168]float64 {
	var f [168]float64
	for d := 0; d < 7; d++ {
		var ev, vol float64
		for h := d * 24; h < d*24+24; h++ {
			ev += w.ev[h]
			vol += w.vol[h]
		}
		day := shrink(ev, vol, 1)
		for h := d * 24; h < d*24+24; h++ {
			f[h] = shrink(w.ev[h], w.vol[h], day)
		}
	}
	return f
}

// rateKappa and durationKappa are how many events (samples) a weekday or an
// hour of the week needs before its own level counts for half: an hour with
// few carries its weekday's level, a weekday with few the store's overall.
const (
	rateKappa     = 10
	durationKappa = 30
)

// testRate tests a rate against the store's rate over the baseline, hour by
// hour of the week: a Monday morning's late picks (after a Sunday closed)
// against previous Monday mornings', shrunk towards the store's overall rate
// where an hour has few events.
func (c Config) testRate(t *track, s Signal, st, end, bStart int, r Result) Result {
	o, n := t.pall[end]-t.pall[st], t.pallVol[end]-t.pallVol[st]
	wc := t.cells(st, bStart)
	if n < s.MinVolume || wc.totVol < 5*s.MinVolume {
		return r
	}
	p0 := math.Max(wc.totEv, 1) / wc.totVol
	f := wc.factors(func(ev, vol, prior float64) float64 { return (ev + rateKappa*prior) / (p0*vol + rateKappa) })
	expected := func(a, b int) (float64, bool) {
		var e float64
		for i := a; i < b; i++ {
			e += p0 * f[t.how[i]] * t.vol[i]
		}
		return e, true
	}
	e, _ := expected(st, end)
	phi := dispersion(t, st, bStart, expected)
	// The baseline is itself an estimate: a window as large as its baseline
	// doubles the variance of observed − expected.
	phi *= 1 + n/wc.totVol
	r.OK = true
	r.Observed, r.Expected = o/n, e/n
	r.ObservedEvents, r.ExpectedEvents, r.Volume = o, e, n
	r.P = c.poissonP(s, o, e, phi)
	r.baseline(records.BaselineParts{Kind: records.BaselineRate, Span: (st - bStart + 23) / 24, Events: wc.totEv, Volume: wc.totVol, Spread: phi})
	return r
}

// hourExpected is the store's usual count for hour i, from hours before st:
// the mean of the same weekday and hour over up to 4 weeks (at least 2).
func (t *track) hourExpected(i, st, bStart int) (float64, bool) {
	step, k, need := 168, 4, 2
	var sum float64
	n := 0
	for j := 1; j <= k; j++ {
		ref := i - step*j
		if ref < bStart {
			break
		}
		if ref >= st || t.excluded[ref] {
			continue
		}
		sum += t.ev[ref]
		n++
	}
	if n < need {
		return 0, false
	}
	return sum / float64(n), true
}

func (c Config) testCount(t *track, s Signal, st, end, bStart int, r Result) Result {
	expected := func(a, b int) (float64, bool) {
		// Orders follow the week (a Saturday is not a Sunday): counts need
		// two weeks of the store's own history before they may ring.
		if a-t.first < 14*24 {
			return 0, false
		}
		lo := max(t.first, a-c.BaselineHours, 0)
		var e float64
		for i := a; i < b; i++ {
			v, ok := t.hourExpected(i, a, lo)
			if !ok {
				return 0, false
			}
			e += v
		}
		return e, true
	}
	e, ok := expected(st, end)
	if !ok {
		return r
	}
	o := t.pall[end] - t.pall[st]
	phi := dispersion(t, st, bStart, expected)
	r.OK = true
	r.Observed, r.Expected, r.ObservedEvents, r.ExpectedEvents = o, e, o, e
	r.P = c.poissonP(s, o, e, phi)
	r.baseline(records.BaselineParts{Kind: records.BaselineWeekday, Span: min(4, (st-t.first)/168), Spread: phi})
	return r
}

// testDuration tests a median duration against the store's level over the
// baseline by hour of the week (shrunk like rates); the spread is that of the
// store's days against the same expectation, on a log scale, scaled to the
// window's samples.
func (c Config) testDuration(t *track, s Signal, st, end, bStart int, r Result) Result {
	n := t.pallVol[end] - t.pallVol[st]
	if n < s.MinEvents || n == 0 {
		return r
	}
	w := (t.pall[end] - t.pall[st]) / n
	wc := t.cells(st, bStart)
	if wc.totVol < 5*s.MinEvents || wc.totEv <= 0 || w <= 0 {
		return r
	}
	m := wc.totEv / wc.totVol
	f := wc.factors(func(ev, vol, prior float64) float64 { return (ev/m + durationKappa*prior) / (vol + durationKappa) })
	expected := func(a, b int) float64 {
		var e, v float64
		for i := a; i < b; i++ {
			e += m * f[t.how[i]] * t.vol[i]
			v += t.vol[i]
		}
		if v == 0 {
			return 0
		}
		return e / v
	}
	var logs, samples []float64
	dayBlocks(t, st, bStart, func(a, b int) {
		v := t.pallVol[b] - t.pallVol[a]
		x := expected(a, b)
		if v < 3 || x <= 0 || t.pall[b]-t.pall[a] <= 0 {
			return
		}
		logs = append(logs, math.Log((t.pall[b]-t.pall[a])/v/x))
		samples = append(samples, v)
	})
	x := expected(st, end)
	if len(logs) < 7 || x <= 0 {
		return r
	}
	mid := median(logs)
	dev := make([]float64, len(logs))
	for i, l := range logs {
		dev[i] = math.Abs(l - mid)
	}
	// At least 10 %: a daily median of a few dozen durations moves that much.
	sigma := math.Max(1.4826*median(dev), 0.1) * math.Sqrt(median(samples)/n)
	z := math.Log(w/x) / sigma
	if s.Direction == Down {
		z = -z
	}
	r.OK = true
	r.Observed, r.Expected, r.ObservedEvents, r.ExpectedEvents, r.Volume = w, x, n, n, n
	r.P = normalUpper(z)
	r.baseline(records.BaselineParts{Kind: records.BaselineLevel, Span: (st - bStart + 23) / 24, Spread: math.Exp(1.4826 * median(dev))})
	return r
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
