package journeygen

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Kind is what a shift changes.
type Kind string

// Shift kinds. Each multiplies one base probability (capped at 1) or one
// duration, for the events whose KeyTime falls in the shift's window.
const (
	KindOrders        Kind = "orders"         // arrival rate
	KindDeclines      Kind = "declines"       // payment decline probability
	KindExpiry        Kind = "expiry"         // probability that a ready pickup expires
	KindBounces       Kind = "bounces"        // probability that a sent email bounces
	KindLateReady     Kind = "late_ready"     // probability of ready after the promise (all ship-to-store)
	KindLateTransfers Kind = "late_transfers" // the same, transferred orders only
	KindSLAMiss       Kind = "sla_miss"       // probability of a pick after its due time
	KindSMSFailures   Kind = "sms_failures"   // probability that a sent SMS fails to deliver
	KindSlowPickup    Kind = "slow_pickup"    // time from ready to pickup
	KindSlowDelivery  Kind = "slow_delivery"  // time from shipped to delivered
)

// Kinds lists every shift kind.
func Kinds() []Kind {
	return []Kind{KindOrders, KindDeclines, KindExpiry, KindBounces, KindLateReady, KindLateTransfers,
		KindSLAMiss, KindSMSFailures, KindSlowPickup, KindSlowDelivery}
}

// KeyTime names the time a shift of the kind keys on: an event is shifted when
// this time falls in [From, To). It is the time at which the KPI that shows the
// shift buckets the event, where the generator can know it when it decides.
func (k Kind) KeyTime() string {
	switch k {
	case KindOrders:
		return "placed_at"
	case KindDeclines:
		return "payment time (J(payment_captured|payment_failed).at)"
	case KindExpiry:
		return "pickup deadline (ready + 7 days: the expiry's J(cancelled).at)"
	case KindBounces:
		return "the email's notifications.created_at"
	case KindSMSFailures:
		return "the SMS's notifications.created_at"
	case KindLateReady, KindLateTransfers:
		return "orders.promised_ready_at"
	case KindSLAMiss:
		return "pick_tasks.created_at"
	case KindSlowPickup:
		return "J(ready_for_pickup).at"
	case KindSlowDelivery:
		return "J(shipped).at"
	}
	return ""
}

// Shift is a behaviour change injected into a store (or all: Store "*") for a
// window of time.
type Shift struct {
	Store  string    `json:"store"`
	Kind   Kind      `json:"kind"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Factor float64   `json:"factor"`
}

// AllStores is the Store of a shift that applies everywhere.
const AllStores = "*"

func (s Shift) validate(stores map[string]bool) error {
	var problems []string
	// Picks happen at the distribution centre too: an sla_miss shift may name it.
	dcPicks := s.Kind == KindSLAMiss && s.Store == DistributionCentre
	if s.Store != AllStores && !stores[s.Store] && !dcPicks {
		problems = append(problems, fmt.Sprintf("unknown store %q", s.Store))
	}
	if !slices.Contains(Kinds(), s.Kind) {
		problems = append(problems, fmt.Sprintf("unknown kind %q (one of %v)", s.Kind, Kinds()))
	}
	if s.From.IsZero() || s.To.IsZero() || !s.To.After(s.From) {
		problems = append(problems, "from and to must be set, to after from")
	}
	if s.Factor < 0 || s.Factor > 100 {
		problems = append(problems, fmt.Sprintf("factor %g must be 0 to 100", s.Factor))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}

// applies reports whether the shift covers store and kind at t.
func (s Shift) applies(store string, kind Kind, t time.Time) bool {
	return s.Kind == kind && (s.Store == AllStores || s.Store == store) && !t.Before(s.From) && t.Before(s.To)
}

// ParseShift reads the -shift flag:
// "store=s2,kind=expiry,from=2026-11-18T00:00:00Z,to=2026-11-25T00:00:00Z,factor=2.5".
// Every field is required; unknown fields are errors.
func ParseShift(s string) (Shift, error) {
	var sh Shift
	seen := map[string]bool{}
	for part := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return Shift{}, fmt.Errorf("shift %q: %q is not key=value", s, part)
		}
		var err error
		switch k {
		case "store":
			sh.Store = v
		case "kind":
			sh.Kind = Kind(v)
		case "from":
			sh.From, err = time.Parse(time.RFC3339, v)
		case "to":
			sh.To, err = time.Parse(time.RFC3339, v)
		case "factor":
			sh.Factor, err = strconv.ParseFloat(v, 64)
		default:
			return Shift{}, fmt.Errorf("shift %q: unknown field %q (store, kind, from, to, factor)", s, k)
		}
		if err != nil {
			return Shift{}, fmt.Errorf("shift %q: %s: %w", s, k, err)
		}
		seen[k] = true
	}
	var missing []string
	for _, k := range []string{"store", "kind", "from", "to", "factor"} {
		if !seen[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return Shift{}, fmt.Errorf("shift %q: missing %s", s, strings.Join(missing, ", "))
	}
	sh.From, sh.To = sh.From.UTC(), sh.To.UTC()
	return sh, nil
}

// factor multiplies the factors of every shift covering store, kind and t
// (1 when none does).
func factor(shifts []Shift, store string, kind Kind, t time.Time) float64 {
	f := 1.0
	for _, s := range shifts {
		if s.applies(store, kind, t) {
			f *= s.Factor
		}
	}
	return f
}
