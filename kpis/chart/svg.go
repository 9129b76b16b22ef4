// Package chart draws a KPI's daily trend for the console's KPI page as a
// self-contained SVG: the values, the band of ordinary values (package band)
// and the store's alarm episodes, labelled in German or English. No script,
// no style sheet and no font to fetch: the page's Content-Security-Policy
// stays strict and the picture works offline.
package chart

import (
	"fmt"
	"html"
	"math"
	"strings"
	"time"

	"github.com/everywherecommerce/fulfilment/kpis/band"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// Input is one chart: a KPI's consecutive UTC days, their values and bands, and
// the alarm episodes to mark (those of the chart's KPI; others are ignored).
type Input struct {
	KPI  string
	Lang string
	// ID makes the SVG's element IDs unique on a page of several charts.
	ID     string
	Start  time.Time // the first day's start (UTC midnight)
	Values []band.Day
	Bands  []band.Band
	Alarms []records.Alarm
	// Now ends an open alarm's shading.
	Now time.Time
	// PartialLast says the last day is still going on (today): its value is
	// drawn hollow, "so far", and not held against the band, so that a
	// morning does not look like a drop.
	PartialLast bool
}

// Geometry of the drawing, in SVG user units; the page scales it to its column.
const (
	width, height   = 480.0, 210.0
	left, right     = 58.0, 456.0
	top, bottom     = 22.0, 180.0
	colourValue     = "#1d2433"
	colourBand      = "#0b6e4f"
	colourAlarm     = "#b42318"
	colourGrid      = "#d8dde6"
	colourMuted     = "#5c667a"
	fontAttributes  = `font-family="system-ui, sans-serif" font-size="11"`
	day             = 24 * time.Hour
	outsideRadius   = 3.5
	ordinaryRadius  = 2.0
	markerHalfWidth = 5.0
)

// SVG draws in. Values and Bands have one entry per day from Start.
func SVG(in Input) string {
	c := canvas{in: in, kind: band.KindOf(in.KPI)}
	c.scale()
	var b strings.Builder
	title := Title(in.KPI, in.Lang)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" role="img" aria-labelledby="%s-title %s-desc" class="kpi-chart" data-kpi="%s" %s>`,
		width, height, esc(in.ID), esc(in.ID), esc(in.KPI), fontAttributes)
	fmt.Fprintf(&b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, esc(in.ID), esc(title), esc(in.ID), esc(c.describe()))
	c.grid(&b)
	c.alarms(&b)
	c.band(&b)
	c.values(&b)
	c.note(&b)
	c.empty(&b)
	b.WriteString(`</svg>`)
	return b.String()
}

type canvas struct {
	in   Input
	kind band.Kind
	yMax float64
	step float64 // the y axis' tick step
}

func (c *canvas) days() int { return len(c.in.Values) }

// x is the centre of day i.
func (c *canvas) x(i int) float64 {
	return left + (float64(i)+0.5)*(right-left)/float64(max(1, c.days()))
}

// xAt is the position of an instant on the day axis.
func (c *canvas) xAt(t time.Time) float64 {
	return left + float64(t.Sub(c.in.Start))/float64(day)*(right-left)/float64(max(1, c.days()))
}

func (c *canvas) y(v float64) float64 {
	return bottom - v/c.yMax*(bottom-top)
}

// scale picks a y axis from 0 that holds every value and band, with round steps.
func (c *canvas) scale() {
	top := 0.0
	for i, v := range c.in.Values {
		if v.OK {
			top = max(top, v.Value)
		}
		if i < len(c.in.Bands) && c.in.Bands[i].OK {
			top = max(top, c.in.Bands[i].High)
		}
	}
	if c.kind == band.Rate {
		top = min(top, 1)
	}
	c.step = niceStep(top/4, c.kind)
	c.yMax = c.step * math.Max(1, math.Ceil(top/c.step))
	if c.yMax <= top { // room above the highest point
		c.yMax += c.step
	}
}

// niceStep rounds raw up to 1, 2 or 5 times a power of ten; durations to whole
// minutes or hours, rates to whole percent where they can.
func niceStep(raw float64, kind band.Kind) float64 {
	if kind == band.Duration {
		for _, s := range []float64{10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400} {
			if raw <= s {
				return s
			}
		}
	}
	floor := 1.0
	if kind == band.Rate {
		floor = 0.001
	}
	if raw <= floor {
		return floor
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func (c *canvas) grid(b *strings.Builder) {
	b.WriteString(`<g class="axes">`)
	yMax := c.yMax
	if c.presentDays() == 0 {
		yMax = 0 // no values: only the zero line, no made-up scale
	}
	for v := 0.0; v <= yMax+c.step/2; v += c.step {
		y := c.y(v)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1"/>`, left, y, right, y, colourGrid)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end" fill="%s">%s</text>`, left-6, y+4, colourMuted, esc(Value(c.kind, v, c.in.Lang)))
	}
	every := 7
	switch {
	case c.days() <= 14:
		every = 2
	case c.days() > 42:
		every = 14
	}
	for i := c.days() - 1; i >= 0; i -= every {
		x := c.x(i)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1"/>`, x, bottom, x, bottom+4, colourMuted)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="%s" class="date">%s</text>`, x, bottom+17, colourMuted, esc(Date(c.in.Start.AddDate(0, 0, i), c.in.Lang)))
	}
	b.WriteString(`</g>`)
}

// runs are the maximal stretches of consecutive days for which ok holds.
func runs(n int, ok func(int) bool) [][2]int {
	var out [][2]int
	for i := 0; i < n; {
		if !ok(i) {
			i++
			continue
		}
		j := i
		for j+1 < n && ok(j+1) {
			j++
		}
		out = append(out, [2]int{i, j})
		i = j + 1
	}
	return out
}

func (c *canvas) bandAt(i int) (band.Band, bool) {
	if i < len(c.in.Bands) && c.in.Bands[i].OK {
		return c.in.Bands[i], true
	}
	return band.Band{}, false
}

// band shades the ordinary range and dashes the expected value.
func (c *canvas) band(b *strings.Builder) {
	half := (right - left) / float64(max(1, c.days())) / 2
	for _, r := range runs(c.days(), func(i int) bool { _, ok := c.bandAt(i); return ok }) {
		var upper, lower, mid []string
		for i := r[0]; i <= r[1]; i++ {
			bd, _ := c.bandAt(i)
			x0, x1 := c.x(i), c.x(i)
			if r[0] == r[1] { // a single day: a bar as wide as the day
				x0, x1 = x0-half*0.6, x1+half*0.6
			}
			upper = append(upper, pt(x0, c.y(min(bd.High, c.yMax))), pt(x1, c.y(min(bd.High, c.yMax))))
			lower = append(lower, pt(x1, c.y(bd.Low)), pt(x0, c.y(bd.Low)))
			mid = append(mid, pt(x0, c.y(bd.Expected)), pt(x1, c.y(bd.Expected)))
		}
		for i, j := 0, len(lower)-1; i < j; i, j = i+1, j-1 {
			lower[i], lower[j] = lower[j], lower[i]
		}
		fmt.Fprintf(b, `<polygon class="band" points="%s %s" fill="%s" fill-opacity="0.16" stroke="none"/>`, strings.Join(upper, " "), strings.Join(lower, " "), colourBand)
		fmt.Fprintf(b, `<polyline class="expected" points="%s" fill="none" stroke="%s" stroke-width="1.2" stroke-dasharray="4 3"/>`, strings.Join(mid, " "), colourBand)
	}
}

// values draws the day's values as a line with a dot per day; a day outside
// its band is a larger red dot.
func (c *canvas) values(b *strings.Builder) {
	ok := func(i int) bool { return c.in.Values[i].OK && !c.partial(i) }
	for _, r := range runs(c.days(), ok) {
		if r[0] == r[1] {
			continue
		}
		var pts []string
		for i := r[0]; i <= r[1]; i++ {
			pts = append(pts, pt(c.x(i), c.y(c.in.Values[i].Value)))
		}
		fmt.Fprintf(b, `<polyline class="value" points="%s" fill="none" stroke="%s" stroke-width="2" stroke-linejoin="round"/>`, strings.Join(pts, " "), colourValue)
	}
	n := c.days()
	if n >= 2 && c.partial(n-1) && c.in.Values[n-1].OK && c.in.Values[n-2].OK {
		fmt.Fprintf(b, `<line class="value partial" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.5" stroke-dasharray="3 3"/>`,
			c.x(n-2), c.y(c.in.Values[n-2].Value), c.x(n-1), c.y(c.in.Values[n-1].Value), colourValue)
	}
	for i, v := range c.in.Values {
		if !v.OK {
			continue
		}
		label := Date(c.in.Start.AddDate(0, 0, i), c.in.Lang) + ": " + Value(c.kind, v.Value, c.in.Lang)
		if c.partial(i) {
			fmt.Fprintf(b, `<circle class="point partial" cx="%.1f" cy="%.1f" r="3" fill="#fff" stroke="%s" stroke-width="1.5"><title>%s</title></circle>`,
				c.x(i), c.y(v.Value), colourValue, esc(label+" ("+tr("soFar", c.in.Lang)+")"))
			continue
		}
		class, radius, colour := "point", ordinaryRadius, colourValue
		if bd, has := c.bandAt(i); has {
			label += " (" + tr("expected", c.in.Lang, Value(c.kind, bd.Expected, c.in.Lang), Value(c.kind, bd.Low, c.in.Lang), Value(c.kind, bd.High, c.in.Lang)) + ")"
			if outside(v.Value, bd) {
				class, radius, colour = "point out", outsideRadius, colourAlarm
			}
		}
		fmt.Fprintf(b, `<circle class="%s" cx="%.1f" cy="%.1f" r="%g" fill="%s"><title>%s</title></circle>`, class, c.x(i), c.y(v.Value), radius, colour, esc(label))
	}
}

// partial reports whether day i is today, still going on.
func (c *canvas) partial(i int) bool { return c.in.PartialLast && i == c.days()-1 }

// Latest is the index of the last complete day of in, -1 for none.
func Latest(in Input) int {
	if in.PartialLast {
		return len(in.Values) - 2
	}
	return len(in.Values) - 1
}

func outside(v float64, bd band.Band) bool { return v < bd.Low-1e-9 || v > bd.High+1e-9 }

// alarms shades each episode of the chart's KPI from its opening to its
// resolution (or now) and marks its opening with a red line and triangle.
func (c *canvas) alarms(b *strings.Builder) {
	start, end := c.in.Start, c.in.Start.Add(time.Duration(c.days())*day)
	for _, a := range c.chartAlarms() {
		until := c.in.Now
		if a.ResolvedAt != nil {
			until = *a.ResolvedAt
		}
		if !until.After(start) || !a.OpenedAt.Before(end) {
			continue
		}
		x0, x1 := c.xAt(maxTime(a.OpenedAt, start)), c.xAt(minTime(until, end))
		label := tr("alarm", c.in.Lang) + ": " + AlarmText(a, c.in.Lang, time.UTC)
		fmt.Fprintf(b, `<rect class="alarm-span" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" fill-opacity="0.10"><title>%s</title></rect>`,
			x0, top, math.Max(1, x1-x0), bottom-top, colourAlarm, esc(label))
		if a.OpenedAt.Before(start) {
			continue
		}
		fmt.Fprintf(b, `<g class="alarm-marker"><title>%s</title><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.5"/><polygon points="%s %s %s" fill="%s"/></g>`,
			esc(label), x0, top, x0, bottom, colourAlarm, pt(x0-markerHalfWidth, top-9), pt(x0+markerHalfWidth, top-9), pt(x0, top), colourAlarm)
	}
}

func (c *canvas) chartAlarms() []records.Alarm {
	var out []records.Alarm
	for _, a := range c.in.Alarms {
		if a.KPI == c.in.KPI {
			out = append(out, a)
		}
	}
	return out
}

// note says where the band is missing because the history is too short.
func (c *canvas) note(b *strings.Builder) {
	missing := c.missingBands()
	if missing == 0 || c.presentDays() == 0 {
		return
	}
	msg := tr("partialBand", c.in.Lang, missing)
	if missing == c.presentDays() {
		msg = tr("noBand", c.in.Lang)
	}
	fmt.Fprintf(b, `<text class="band-note" x="%.1f" y="%.1f" text-anchor="end" fill="%s" font-style="italic">%s</text>`, right, top-8, colourMuted, esc(msg))
}

// empty says so across the plot when no day has a value.
func (c *canvas) empty(b *strings.Builder) {
	if c.presentDays() > 0 {
		return
	}
	fmt.Fprintf(b, `<text class="no-values" x="%.1f" y="%.1f" text-anchor="middle" fill="%s" font-size="13">%s</text>`,
		(left+right)/2, (top+bottom)/2, colourMuted, esc(tr("noValues", c.in.Lang)))
}

// presentDays counts the days with a value; missingBands those of them without a band.
func (c *canvas) presentDays() int {
	n := 0
	for _, v := range c.in.Values {
		if v.OK {
			n++
		}
	}
	return n
}

func (c *canvas) missingBands() int {
	n := 0
	for i, v := range c.in.Values {
		if _, ok := c.bandAt(i); v.OK && !ok {
			n++
		}
	}
	return n
}

// describe is the chart in words, for a screen reader.
func (c *canvas) describe() string {
	lang := c.in.Lang
	n := c.days()
	if n == 0 {
		return ""
	}
	parts := []string{tr("desc", lang, Date(c.in.Start, lang), Date(c.in.Start.AddDate(0, 0, n-1), lang))}
	latest := tr("noValue", lang)
	if li := Latest(c.in); li >= 0 && c.in.Values[li].OK {
		latest = Date(c.in.Start.AddDate(0, 0, li), lang) + ": " + Value(c.kind, c.in.Values[li].Value, lang)
		if bd, ok := c.bandAt(li); ok {
			latest += ", " + tr("expected", lang, Value(c.kind, bd.Expected, lang), Value(c.kind, bd.Low, lang), Value(c.kind, bd.High, lang))
		}
	}
	parts = append(parts, tr("latest", lang, latest))
	out := 0
	for i, v := range c.in.Values {
		if bd, ok := c.bandAt(i); ok && v.OK && !c.partial(i) && outside(v.Value, bd) {
			out++
		}
	}
	parts = append(parts, tr("outside", lang, out))
	if a := len(c.chartAlarms()); a > 0 {
		parts = append(parts, tr("alarms", lang, a))
	}
	return strings.Join(parts, " ")
}

// AlarmText is an alarm in words: what moved, by how much, against which
// baseline, and since when, with times in loc.
func AlarmText(a records.Alarm, lang string, loc *time.Location) string {
	kind := band.KindOf(a.KPI)
	dir := tr("up", lang)
	if a.Direction == "down" {
		dir = tr("down", lang)
	}
	s := fmt.Sprintf("%s %s: %s", Title(a.KPI, lang), dir, tr("observed", lang, Value(kind, a.Observed, lang), Value(kind, a.Expected, lang)))
	if a.Expected > 0 {
		s += fmt.Sprintf(" (×%s)", number(a.Observed/a.Expected, 1, lang))
	}
	s += " " + tr("window", lang, a.WindowHours, DateTime(a.OpenedAt.In(loc), lang)+zoneName(loc))
	if base := alarmBaseline(a, lang); base != "" {
		s += "; " + tr("baseline", lang, base)
	}
	if a.ResolvedAt != nil {
		s += "; " + tr("resolved", lang, DateTime(a.ResolvedAt.In(loc), lang)+zoneName(loc))
	} else {
		s += "; " + tr("open", lang)
	}
	return s
}

// alarmBaseline is the alarm's baseline in the language, from its parts; an
// episode recorded without them shows its Baseline as written (English).
func alarmBaseline(a records.Alarm, lang string) string {
	if a.BaselineParts == nil {
		return a.Baseline
	}
	return BaselineText(*a.BaselineParts, lang)
}

// BaselineText says how an alarm's expected value was formed, in the language.
func BaselineText(b records.BaselineParts, lang string) string {
	switch b.Kind {
	case records.BaselineWeekday:
		return tr("baseWeekday", lang, b.Span, number(b.Spread, 1, lang))
	case records.BaselineRate:
		return tr("baseRate", lang, b.Span, number(b.Events, 0, lang), number(b.Volume, 0, lang), number(b.Spread, 1, lang))
	case records.BaselineLevel:
		return tr("baseLevel", lang, b.Span, number(b.Spread, 2, lang))
	}
	return b.Kind
}

// zoneName is " UTC" for UTC, else " " and the zone's name.
func zoneName(loc *time.Location) string {
	if loc == time.UTC {
		return " UTC"
	}
	return " " + loc.String()
}

func pt(x, y float64) string { return fmt.Sprintf("%.1f,%.1f", x, y) }

func esc(s string) string { return html.EscapeString(s) }

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
