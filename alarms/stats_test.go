package alarms

import (
	"math"
	"testing"
)

// TestPoissonTails checks the tails against sums of the probability mass
// function at integer k.
func TestPoissonTails(t *testing.T) {
	pmf := func(k int, l float64) float64 {
		lg, _ := math.Lgamma(float64(k) + 1)
		return math.Exp(float64(k)*math.Log(l) - l - lg)
	}
	for _, l := range []float64{0.5, 3, 13.5, 40, 250} {
		cdf := 0.0
		for k := 0; k < int(l*3)+20; k++ {
			lower := cdf + pmf(k, l) // P(X ≤ k)
			upper := 1 - cdf         // P(X ≥ k)
			if got := poissonUpper(float64(k), l); k > 0 && math.Abs(got-upper) > 1e-9 {
				t.Errorf("P(X ≥ %d | %g) = %g, want %g", k, l, got, upper)
			}
			if got := poissonLower(float64(k), l); math.Abs(got-lower) > 1e-9 {
				t.Errorf("P(X ≤ %d | %g) = %g, want %g", k, l, got, lower)
			}
			cdf = lower
		}
	}
	if got := normalUpper(1.959963985); math.Abs(got-0.025) > 1e-9 {
		t.Errorf("P(Z ≥ 1.96) = %g", got)
	}
}
