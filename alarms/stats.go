package alarms

import "math"

// poissonUpper is P(X ≥ k) for X ~ Poisson(lambda), continuous in k: the
// regularized lower incomplete gamma function P(k, lambda). k ≤ 0 gives 1.
func poissonUpper(k, lambda float64) float64 {
	if k <= 0 {
		return 1
	}
	if lambda <= 0 {
		return 0
	}
	return gammaP(k, lambda)
}

// poissonLower is P(X ≤ k) for X ~ Poisson(lambda), continuous in k: the
// regularized upper incomplete gamma function Q(k+1, lambda).
func poissonLower(k, lambda float64) float64 {
	if k < 0 {
		return 0
	}
	if lambda <= 0 {
		return 1
	}
	return 1 - gammaP(k+1, lambda)
}

// normalUpper is P(Z ≥ z) for a standard normal Z.
func normalUpper(z float64) float64 {
	return 0.5 * math.Erfc(z/math.Sqrt2)
}

// gammaP is the regularized lower incomplete gamma function P(a, x), by its
// series for x < a+1 and by Lentz's continued fraction for Q otherwise
// (Numerical Recipes, 6.2).
func gammaP(a, x float64) float64 {
	if x <= 0 {
		return 0
	}
	lg, _ := math.Lgamma(a)
	if x < a+1 {
		sum, term := 1/a, 1/a
		for n := 1; n < 1000; n++ {
			term *= x / (a + float64(n))
			sum += term
			if math.Abs(term) < math.Abs(sum)*1e-15 {
				break
			}
		}
		return math.Min(1, sum*math.Exp(-x+a*math.Log(x)-lg))
	}
	const tiny = 1e-300
	b := x + 1 - a
	c := 1 / tiny
	d := 1 / b
	h := d
	for i := 1; i < 1000; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-15 {
			break
		}
	}
	q := math.Exp(-x+a*math.Log(x)-lg) * h
	return math.Max(0, 1-q)
}
