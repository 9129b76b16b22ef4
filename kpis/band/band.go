// Package band computes a KPI's expected daily value and the band of ordinary
// values around it from the store's own history: a daily picture of the
// ordinary range, simpler than the alarm detector's hourly model
// (docs/alarms.md), drawn on the console's
// KPI page (docs/kpis.md, "KPI page"). It is pure: a series in, bands out.
package band

import (
	"math"
	"slices"
	"strings"
)

// Kind is how a KPI's daily values behave, and so which model its band uses.
type Kind int

// The kinds of KPI (docs/kpis.md): counts of events, rates between 0 and 1 with
// a numerator and a denominator, and durations in seconds (medians, p90s).
const (
	Count Kind = iota
	Rate
	Duration
)

// KindOf is the kind of a KPI, from its name: *_rate is a rate, *_p50 and *_p90
// are durations, everything else counts events.
func KindOf(kpi string) Kind {
	switch {
	case strings.HasSuffix(kpi, "_rate"):
		return Rate
	case strings.HasSuffix(kpi, "_p50"), strings.HasSuffix(kpi, "_p90"):
		return Duration
	}
	return Count
}

// Day is one day's value of a KPI. OK is false where there is no value: before
// the store's history starts, and for a rate or a duration on a day without
// records. A count on a day without a row is a present 0 (a missing row means
// no records, docs/kpis.md). Num and Den are a rate's numerator and denominator.
type Day struct {
	Value    float64
	Num, Den float64
	OK       bool
}

// Band is the expected value of one day and the range [Low, High] of ordinary
// values around it. OK is false where the history before the day is too short
// for a baseline.
type Band struct {
	Expected  float64
	Low, High float64
	OK        bool
}

// History lengths of the models. Lookback is the 28 days every model looks at;
// a rate needs MinRateDays days with a denominator in it and a duration
// MinDurationDays values, so that a few days do not make a baseline.
const (
	Lookback        = 28
	MinRateDays     = 7
	MinDurationDays = 7
	// z is the band's half-width in standard deviations: 3, so that an
	// ordinary day falls outside about once in a few hundred.
	z = 3.0
	// madScale turns a median absolute deviation into a standard deviation
	// for normally distributed values.
	madScale = 1.4826
)

// Compute returns a band for every day of days, consecutive days oldest first,
// each from the days before it only.
func Compute(kind Kind, days []Day) []Band {
	switch kind {
	case Rate:
		return rateBands(days)
	case Duration:
		return durationBands(days)
	}
	return countBands(days)
}

// countExpected is a count's expected value on day d: the mean of the same
// weekday over the previous 4 weeks when at least 2 of them are present, else
// the mean of the previous 7 days when at least 5 are present.
func countExpected(days []Day, d int) (float64, bool) {
	var sum float64
	n := 0
	for w := 1; w <= 4; w++ {
		if j := d - 7*w; j >= 0 && days[j].OK {
			sum += days[j].Value
			n++
		}
	}
	if n >= 2 {
		return sum / float64(n), true
	}
	sum, n = 0, 0
	for j := d - 7; j < d; j++ {
		if j >= 0 && days[j].OK {
			sum += days[j].Value
			n++
		}
	}
	if n >= 5 {
		return sum / float64(n), true
	}
	return 0, false
}

// countBands: expected ± 3·sqrt(φ·expected), where φ ≥ 1 is the overdispersion
// of the previous 28 days (the mean of (x−e)²/e over the days that had an
// expected value above 0): a store whose counts swing more than a Poisson
// count gets a wider band.
func countBands(days []Day) []Band {
	out := make([]Band, len(days))
	exp := make([]float64, len(days))
	has := make([]bool, len(days))
	for d := range days {
		exp[d], has[d] = countExpected(days, d)
	}
	for d := range days {
		if !has[d] {
			continue
		}
		var sum float64
		n := 0
		for j := max(0, d-Lookback); j < d; j++ {
			if has[j] && days[j].OK && exp[j] > 0 {
				r := days[j].Value - exp[j]
				sum += r * r / exp[j]
				n++
			}
		}
		phi := 1.0
		if n > 0 {
			phi = max(1, sum/float64(n))
		}
		half := z * math.Sqrt(phi*exp[d])
		out[d] = Band{Expected: exp[d], Low: max(0, exp[d]-half), High: exp[d] + half, OK: true}
	}
	return out
}

// rateBands: p0 = Σnum/Σden over the previous 28 days, band p0 ±
// 3·sqrt(p0(1−p0)/n) for the day's denominator n, within [0, 1]. A day without
// a denominator has no value to compare and no band.
func rateBands(days []Day) []Band {
	out := make([]Band, len(days))
	for d := range days {
		if !days[d].OK || days[d].Den <= 0 {
			continue
		}
		var num, den float64
		n := 0
		for j := max(0, d-Lookback); j < d; j++ {
			if days[j].OK && days[j].Den > 0 {
				num += days[j].Num
				den += days[j].Den
				n++
			}
		}
		if n < MinRateDays {
			continue
		}
		p0 := num / den
		half := z * math.Sqrt(p0*(1-p0)/days[d].Den)
		out[d] = Band{Expected: p0, Low: max(0, p0-half), High: min(1, p0+half), OK: true}
	}
	return out
}

// durationBands: the median of the previous 28 daily values ± 3·1.4826·MAD
// (median absolute deviation), not below 0: robust against the odd day of
// a stuck order.
func durationBands(days []Day) []Band {
	out := make([]Band, len(days))
	var window []float64
	for d := range days {
		window = window[:0]
		for j := max(0, d-Lookback); j < d; j++ {
			if days[j].OK {
				window = append(window, days[j].Value)
			}
		}
		if len(window) < MinDurationDays {
			continue
		}
		med := median(window)
		dev := make([]float64, len(window))
		for i, v := range window {
			dev[i] = math.Abs(v - med)
		}
		half := z * madScale * median(dev)
		out[d] = Band{Expected: med, Low: max(0, med-half), High: med + half, OK: true}
	}
	return out
}

// median of xs (not empty); sorts xs.
func median(xs []float64) float64 {
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}
