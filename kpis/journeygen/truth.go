package journeygen

import (
	"slices"
	"time"
)

// Truth is what was injected and what it did: per shift and store, the events
// the shift's kind decides in its window, how many were expected without and
// with the shift, and how many happened (for durations, the mean without and
// with it). Written by cmd/journeygen -truth for the detector's tests.
type Truth struct {
	Seed       uint64       `json:"seed"`
	Start      time.Time    `json:"start"`
	End        time.Time    `json:"end"`
	WarmupDays int          `json:"warmup_days"`
	Shifts     []ShiftTruth `json:"shifts"`
	// Summary: the month's realised rates, for comparison with Rates.
	Summary Summary `json:"summary"`
}

// ShiftTruth is one shift and its effect per store it touched.
type ShiftTruth struct {
	Shift   Shift    `json:"shift"`
	KeyTime string   `json:"key_time"`
	Effects []Effect `json:"effects"`
}

// Effect is a shift's effect in one store. For kind orders, Decisions is 0,
// BaseExpected and Expected are the expected numbers of orders placed in the
// window without and with the shift, Realised the orders placed. For the
// probability kinds, Decisions counts the events decided in the window (the
// denominator: payments, ready pickups, sent emails, ...), BaseExpected and
// Expected sum their probabilities without and with the shift, Realised counts
// the outcomes (declines, expiries, bounces, ...). For the duration kinds
// (slow_pickup, slow_delivery) the means are given in seconds.
type Effect struct {
	Store               string  `json:"store"`
	Decisions           int     `json:"decisions"`
	BaseExpected        float64 `json:"base_expected"`
	Expected            float64 `json:"expected"`
	Realised            int     `json:"realised"`
	BaseRate            float64 `json:"base_rate,omitempty"`
	ShiftedRate         float64 `json:"shifted_rate,omitempty"`
	RealisedRate        float64 `json:"realised_rate,omitempty"`
	BaseMeanSeconds     float64 `json:"base_mean_seconds,omitempty"`
	RealisedMeanSeconds float64 `json:"realised_mean_seconds,omitempty"`
}

// truthCounter counts the effects while the month is generated.
type truthCounter struct {
	cfg     Config
	effects []map[string]*Effect // per shift, per store
}

func newTruthCounter(cfg Config) *truthCounter {
	t := &truthCounter{cfg: cfg, effects: make([]map[string]*Effect, len(cfg.Shifts))}
	for i := range t.effects {
		t.effects[i] = map[string]*Effect{}
	}
	return t
}

func (t *truthCounter) effect(i int, store string) *Effect {
	e := t.effects[i][store]
	if e == nil {
		e = &Effect{Store: store}
		t.effects[i][store] = e
	}
	return e
}

// decide counts one decision of a probability kind.
func (t *truthCounter) decide(kind Kind, store string, at time.Time, base, shifted float64, outcome bool) {
	for i, sh := range t.cfg.Shifts {
		if sh.applies(store, kind, at) {
			e := t.effect(i, store)
			e.Decisions++
			e.BaseExpected += base
			e.Expected += shifted
			if outcome {
				e.Realised++
			}
		}
	}
}

// duration counts one duration of a duration kind (means kept as sums until
// result).
func (t *truthCounter) duration(kind Kind, store string, at time.Time, base, realised time.Duration) {
	for i, sh := range t.cfg.Shifts {
		if sh.applies(store, kind, at) {
			e := t.effect(i, store)
			e.Decisions++
			e.BaseMeanSeconds += base.Seconds()
			e.RealisedMeanSeconds += realised.Seconds()
		}
	}
}

// expectOrders integrates a store-day's arrival rate (orders per hour) over
// each orders shift's window, minute by minute.
func (t *truthCounter) expectOrders(store string, day, dayEnd time.Time, perHour func(time.Time, bool) float64) {
	for i, sh := range t.cfg.Shifts {
		if sh.Kind != KindOrders || (sh.Store != AllStores && sh.Store != store) {
			continue
		}
		from, to := sh.From, sh.To
		if from.Before(day) {
			from = day
		}
		if to.After(dayEnd) {
			to = dayEnd
		}
		for m := from; m.Before(to); m = m.Add(time.Minute) {
			e := t.effect(i, store)
			e.BaseExpected += perHour(m, false) / 60
			e.Expected += perHour(m, true) / 60
		}
	}
}

// orderPlaced counts an order placed in an orders shift's window.
func (t *truthCounter) orderPlaced(store string, at time.Time) {
	for i, sh := range t.cfg.Shifts {
		if sh.applies(store, KindOrders, at) {
			t.effect(i, store).Realised++
		}
	}
}

func (t *truthCounter) result() Truth {
	out := Truth{Seed: t.cfg.Seed, Start: t.cfg.Start, End: t.cfg.End(), WarmupDays: t.cfg.WarmupDays, Shifts: []ShiftTruth{}}
	for i, sh := range t.cfg.Shifts {
		st := ShiftTruth{Shift: sh, KeyTime: sh.Kind.KeyTime(), Effects: []Effect{}}
		for _, e := range t.effects[i] {
			if e.Decisions > 0 {
				n := float64(e.Decisions)
				if sh.Kind == KindSlowPickup || sh.Kind == KindSlowDelivery {
					e.BaseMeanSeconds /= n
					e.RealisedMeanSeconds /= n
				} else {
					e.BaseRate, e.ShiftedRate, e.RealisedRate = e.BaseExpected/n, e.Expected/n, float64(e.Realised)/n
				}
			}
			st.Effects = append(st.Effects, *e)
		}
		slices.SortFunc(st.Effects, func(a, b Effect) int {
			if a.Store < b.Store {
				return -1
			}
			if a.Store > b.Store {
				return 1
			}
			return 0
		})
		out.Shifts = append(out.Shifts, st)
	}
	return out
}
