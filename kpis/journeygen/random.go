package journeygen

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"time"
)

// Randomness is split into independent streams, each seeded by the seed and a
// key that does not depend on other streams' outcomes: one per store-day (the
// arrivals), one per order (its fate), one per notification (its fate). A shift
// of a store's expiries therefore changes only the orders whose expiry it
// changes; everything else is generated exactly as without it.

// stream returns a generator for the seed and key.
func stream(seed uint64, key ...string) *rand.Rand {
	h := fnv.New64a()
	for _, k := range key {
		_, _ = h.Write([]byte(k)) // hash writes never fail
		_, _ = h.Write([]byte{0})
	}
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// slot is a fixed position in an order's draws: each decision reads its own,
// so the number of draws never depends on earlier outcomes.
type slot int

const (
	uMethod slot = iota
	uTransfer
	uCustomerNew
	uCustomerPick
	uLines
	uLineSKU
	uLineQty
	uDecline
	uCancel
	uCancelTime
	uShort
	uShortLine
	uPick
	uPickTime
	uStaff
	uLabel
	uReady
	uReadyTime
	uExpiry
	uPickupTime1
	uPickupTime2
	uDelivery
	uReviewDelay
	uSeconds
	slots
)

// draws are an order's uniforms in [0, 1).
type draws [slots]float64

func newDraws(r *rand.Rand) *draws {
	var d draws
	for i := range d {
		d[i] = r.Float64()
	}
	return &d
}

func (d *draws) u(s slot) float64 { return d[s] }

// exp is an exponential duration of the mean from a uniform.
func exp(u float64, mean time.Duration) time.Duration {
	return time.Duration(-math.Log1p(-u) * float64(mean))
}

// logNormal is a log-normal duration with the median and the log's sd, from
// two uniforms (Box–Muller).
func logNormal(u1, u2 float64, median time.Duration, sd float64) time.Duration {
	z := math.Sqrt(-2*math.Log1p(-u1)) * math.Cos(2*math.Pi*u2)
	return time.Duration(float64(median) * math.Exp(sd*z))
}

// between is a time between lo and hi at fraction u.
func between(lo, hi time.Time, u float64) time.Time {
	return lo.Add(time.Duration(u * float64(hi.Sub(lo))))
}

// gamma draws from Gamma(shape, 1) (Marsaglia and Tsang; shape ≥ 1).
func gamma(r *rand.Rand, shape float64) float64 {
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if math.Log(u) < 0.5*x*x+d-d*v+d*math.Log(v) {
			return d * v
		}
	}
}

// dayFactor is the day's volume factor: gamma with mean 1 and standard
// deviation sd (1 when sd is 0).
func dayFactor(r *rand.Rand, sd float64) float64 {
	if sd <= 0 {
		return 1
	}
	shape := 1 / (sd * sd)
	return gamma(r, shape) / shape
}

// hexID is a provider-style ID of n hex digits from r.
func hexID(r *rand.Rand, n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[r.IntN(16)]
	}
	return string(b)
}
