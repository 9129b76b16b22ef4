package band

import (
	"math"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func counts(vals ...float64) []Day {
	out := make([]Day, len(vals))
	for i, v := range vals {
		out[i] = Day{Value: v, OK: !math.IsNaN(v)}
	}
	return out
}

func TestKindOf(t *testing.T) {
	for kpi, want := range map[string]Kind{
		"orders_placed": Count, "payment_decline_rate": Rate, "time_to_pick_p50": Duration,
		"delivery_time_p90": Duration, "messages_bounced_email": Count, "late_transfer_rate": Rate,
	} {
		if got := KindOf(kpi); got != want {
			t.Errorf("KindOf(%s) = %d, want %d", kpi, got, want)
		}
	}
}

func TestCountBandSameWeekday(t *testing.T) {
	// 15 days: the weekday of day 14 was 10 (day 0) and 12 (day 7); the other
	// days swing between 1 and 10, more than a Poisson count would.
	vals := []float64{10, 2, 9, 1, 8, 2, 9, 12, 1, 10, 2, 9, 1, 8, 30}
	bands := Compute(Count, counts(vals...))
	for d := range 5 {
		if bands[d].OK {
			t.Errorf("day %d has a band with less than 5 days of history: %+v", d, bands[d])
		}
	}
	// Day 5: the mean of the 5 days before it, (10+2+9+1+8)/5 = 6.
	if b := bands[5]; !b.OK || !near(b.Expected, 6) {
		t.Errorf("day 5: %+v, want expected 6", b)
	}
	// Day 7: one same weekday (day 0) only, so the mean of the previous 7
	// days: 41/7.
	if b := bands[7]; !b.OK || !near(b.Expected, 41.0/7) {
		t.Errorf("day 7: %+v, want expected 41/7", b)
	}
	// Day 14: same weekday days 7 and 0 → (12+10)/2 = 11.
	if b := bands[14]; !b.OK || !near(b.Expected, 11) {
		t.Errorf("day 14: %+v, want expected 11", b)
	}
	// φ for day 14 is the mean of (x−e)²/e over days 5..13, each with the
	// mean of the (up to 7) days before it as expected: none of them has two
	// same weekdays before it.
	var sum float64
	for d := 5; d < 14; d++ {
		var s, n float64
		for j := max(0, d-7); j < d; j++ {
			s += vals[j]
			n++
		}
		e := s / n
		sum += (vals[d] - e) * (vals[d] - e) / e
	}
	phi := max(1, sum/9)
	if phi <= 1 {
		t.Fatalf("the test's data should be overdispersed, φ = %v", phi)
	}
	if b := bands[14]; !near(b.High, 11+3*math.Sqrt(phi*11)) || !near(b.Low, max(0, 11-3*math.Sqrt(phi*11))) {
		t.Errorf("day 14: band [%v, %v], want 11 ± 3·sqrt(%v·11)", b.Low, b.High, phi)
	}
	if 30 <= bands[14].High {
		t.Errorf("30 orders against 11 expected is inside the band %+v", bands[14])
	}
}

func TestCountBandNeedsHistory(t *testing.T) {
	nan := math.NaN()
	// Four days of history before day 7 (days 3–6): neither rule applies.
	bands := Compute(Count, counts(nan, nan, nan, 4, 4, 4, 4, 4))
	if bands[7].OK {
		t.Errorf("a band from 4 days: %+v", bands[7])
	}
	// Five days: the previous-7-days mean.
	bands = Compute(Count, counts(nan, nan, 4, 4, 4, 4, 4, 4))
	if !bands[7].OK || !near(bands[7].Expected, 4) {
		t.Errorf("a band from 5 days: %+v, want expected 4", bands[7])
	}
}

func TestRateBand(t *testing.T) {
	days := make([]Day, 29)
	// 28 days of 2 declines in 40 payments: p0 = 0.05.
	for i := range 28 {
		days[i] = Day{Value: 0.05, Num: 2, Den: 40, OK: true}
	}
	days[28] = Day{Value: 0.3, Num: 30, Den: 100, OK: true}
	bands := Compute(Rate, days)
	half := 3 * math.Sqrt(0.05*0.95/100)
	if b := bands[28]; !b.OK || !near(b.Expected, 0.05) || !near(b.High, 0.05+half) || !near(b.Low, 0) {
		t.Errorf("day 28: %+v, want 0.05 ± %v clipped at 0", b, half)
	}
	// Six days of history are too few; seven are enough.
	if bands[6].OK || !bands[7].OK {
		t.Errorf("day 6 %+v (want none), day 7 %+v (want a band)", bands[6], bands[7])
	}
	// A day without payments has no rate and no band.
	days[28] = Day{}
	if b := Compute(Rate, days)[28]; b.OK {
		t.Errorf("a band on a day without a denominator: %+v", b)
	}
	// High rates clip at 1.
	for i := range 28 {
		days[i] = Day{Value: 0.9, Num: 9, Den: 10, OK: true}
	}
	days[28] = Day{Value: 1, Num: 1, Den: 1, OK: true}
	if b := Compute(Rate, days)[28]; !b.OK || b.High != 1 {
		t.Errorf("high rate band not clipped at 1: %+v", b)
	}
}

func TestDurationBand(t *testing.T) {
	// Seven days: 100, 110, 120, 130, 140, 150, 1000 (a stuck order's day).
	// Median 130; deviations 30,20,10,0,10,20,870 → MAD 20.
	days := counts(100, 110, 120, 130, 140, 150, 1000, 125)
	bands := Compute(Duration, days)
	if bands[6].OK {
		t.Errorf("a band from 6 values: %+v", bands[6])
	}
	half := 3 * 1.4826 * 20
	if b := bands[7]; !b.OK || !near(b.Expected, 130) || !near(b.Low, 130-half) || !near(b.High, 130+half) {
		t.Errorf("day 7: %+v, want 130 ± %v", b, half)
	}
	// Only the previous 28 days count: day 40 sees days 12–39.
	long := make([]Day, 41)
	for i := range long {
		v := 60.0
		if i < 12 {
			v = 6000
		}
		long[i] = Day{Value: v, OK: true}
	}
	if b := Compute(Duration, long)[40]; !near(b.Expected, 60) || !near(b.High, 60) {
		t.Errorf("day 40: %+v, want 60 ± 0 (days before the lookback ignored)", b)
	}
}
