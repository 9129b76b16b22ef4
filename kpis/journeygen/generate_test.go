package journeygen_test

import (
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/kpis/journeygen"
)

var month = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// defaultMonth is the default configuration's month for seed 1, generated once
// for the tests that only read it.
var defaultMonth = sync.OnceValue(func() journeygen.Month {
	return journeygen.Generate(journeygen.DefaultConfig(month, 1))
})

// within fails unless got is within 4 standard deviations of want: a
// binomial proportion of n trials with probability p (variance p(1-p)/n),
// plus, for a probability with a day factor, the variance of the mean of the
// day factors (p·RateDaySD)²/days, days being the number of days averaged
// (conservatively: as if one store; 0 for a probability without day factors).
// Four sd: a correct generator fails with probability 6e-5 per check, and the
// seed is fixed anyway, so a failure means the rate moved.
func within(t *testing.T, name string, got, p float64, n, days int) {
	t.Helper()
	if n == 0 {
		t.Errorf("%s: no trials", name)
		return
	}
	v := p * (1 - p) / float64(n)
	if days > 0 {
		d := p * journeygen.DefaultRates().RateDaySD
		v += d * d / float64(days)
	}
	sd := math.Sqrt(v)
	if math.Abs(got-p) > 4*sd {
		t.Errorf("%s = %.4f over %d; want %.4f ± %.4f (4 sd)", name, got, n, p, 4*sd)
	} else {
		t.Logf("%s = %.4f over %d (configured %.4f, 4 sd %.4f)", name, got, n, p, 4*sd)
	}
}

func TestGenerateIsDeterministicPerSeed(t *testing.T) {
	t.Parallel()
	cfg := journeygen.DefaultConfig(month, 7)
	cfg.Days, cfg.WarmupDays = 5, 2
	cfg.Shifts = []journeygen.Shift{{Store: "*", Kind: journeygen.KindBounces, From: month, To: month.AddDate(0, 0, 2), Factor: 3}}
	a, b := journeygen.Generate(cfg), journeygen.Generate(cfg)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same configuration generated two different months")
	}
	cfg.Seed = 8
	c := journeygen.Generate(cfg)
	if len(c.Orders) == len(a.Orders) && reflect.DeepEqual(c.Orders, a.Orders) {
		t.Fatal("another seed generated the same orders")
	}
	if len(a.Orders) < 5000 {
		t.Fatalf("%d orders in 7 days of the default stores; want about 1000 a day", len(a.Orders))
	}
}

func TestBaseRatesLandNearTheConfiguredOnes(t *testing.T) {
	t.Parallel()
	m := defaultMonth()
	s, r := m.Truth.Summary, journeygen.DefaultRates()
	within(t, "decline rate", s.DeclineRate, r.Decline, s.Payments, 30)
	within(t, "SLA miss rate", s.SLAMissRate, r.SLAMiss, s.Picks, 30)
	within(t, "short pick rate", s.ShortPickRate, r.ShortPick, s.Picks, 0)
	within(t, "expired share of pickups", s.ExpiryShare, r.Expiry, s.PickupsResolved, 30)
	within(t, "email bounce rate", s.BounceRate, r.Bounce, s.EmailsSent, 30)
	within(t, "SMS failure rate", s.SMSFailureRate, r.SMSFailure, s.SMSSent, 30)
	within(t, "messages sent", s.MessagesSentShare, 1-r.SendFailed-r.Undeliverable, s.Messages, 0)
	// The mixture rates: ready on time is 1 - the store picks' late rate (10 %
	// of the 70 % picked in store, a little less where the promise leaves no
	// late time within the SLA) - the transfers' (6 % of 30 %, plus a few whose
	// parcel needed longer); about 91.7 %. Early: 12 % of the 30 % transferred.
	if s.ReadyOnTimeRate < 0.89 || s.ReadyOnTimeRate > 0.94 {
		t.Errorf("ready on time %.4f; want about 0.915", s.ReadyOnTimeRate)
	}
	within(t, "ready early rate", s.ReadyEarlyRate, r.EarlyTransfer*s.TransferShare, s.Ready, 0)
	// Orders: the stores' means times the month's weekday mix (November 2026:
	// 5 Sundays and Mondays, 4 of the other days) times the mean of 30 gamma
	// day factors (sd 10 % / sqrt(30) = 1.8 %), Poisson noise aside.
	var want float64
	for _, st := range journeygen.DefaultStores() {
		for d := month; d.Before(month.AddDate(0, 1, 0)); d = d.AddDate(0, 0, 1) {
			want += st.OrdersPerDay * journeygen.WeekdayFactor(d.Weekday())
		}
	}
	if got := float64(s.Orders); math.Abs(got-want) > 4*0.1/math.Sqrt(30)*want {
		t.Errorf("%d orders in the month; want %.0f ± 4 sd", s.Orders, want)
	}
	if s.HomeDeliveryShare < 0.15 || s.HomeDeliveryShare > 0.19 {
		t.Errorf("home delivery share %.3f; want about 0.17 (the stores' shares weighted by volume)", s.HomeDeliveryShare)
	}
}

func TestSeasonalityByWeekdayAndHour(t *testing.T) {
	t.Parallel()
	m := defaultMonth()
	byWeekday := map[time.Weekday]int{}
	days := map[time.Weekday]map[int]bool{}
	byHour := make([]int, 24)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	for _, o := range m.Orders {
		if o.PlacedAt.Before(month) {
			continue
		}
		wd := o.PlacedAt.Weekday()
		byWeekday[wd]++
		if days[wd] == nil {
			days[wd] = map[int]bool{}
		}
		days[wd][o.PlacedAt.YearDay()] = true
		byHour[o.PlacedAt.In(berlin).Hour()]++
	}
	perDay := func(d time.Weekday) float64 { return float64(byWeekday[d]) / float64(len(days[d])) }
	// Saturday's mean is 1.35/0.62 = 2.2 times Sunday's; with 4-5 days each and
	// 10 % daily noise the ratio's sd is about 0.15, so 1.6 is 4 sd below.
	if ratio := perDay(time.Saturday) / perDay(time.Sunday); ratio < 1.6 {
		t.Errorf("Saturday/Sunday orders per day %.2f; want about 2.2", ratio)
	}
	for _, d := range []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Sunday} {
		if perDay(d) >= perDay(time.Saturday) {
			t.Errorf("%s has %.0f orders a day, Saturday %.0f: Saturday is the peak", d, perDay(d), perDay(time.Saturday))
		}
	}
	// The evening peak (20 h local) carries 25 times the orders of 3 h.
	if byHour[20] < 10*byHour[3] || byHour[20] <= byHour[12] {
		t.Errorf("orders by hour %v: want the peak at 19-21 h and quiet nights", byHour)
	}
}

// pickupOutcomes counts a store's resolved pickups (picked up or expired) by
// whether their pickup deadline (ready + 7 days) falls in [from, to).
func pickupOutcomes(m journeygen.Month, store string, from, to time.Time) (inN, inExp, outN, outExp int) {
	ready := map[string]time.Time{}
	storeOf := map[string]string{}
	for _, o := range m.Orders {
		storeOf[o.OrderID] = o.StoreID
	}
	for _, j := range m.Journey {
		if j.Kind != "stage" || storeOf[j.OrderID] != store {
			continue
		}
		switch j.Stage {
		case domain.StageReadyForPickup:
			ready[j.OrderID] = j.At
		case domain.StagePickedUp, domain.StageCancelled:
			r, ok := ready[j.OrderID]
			if !ok || (j.Stage == domain.StageCancelled && j.Actor != "") {
				continue
			}
			deadline := r.Add(7 * 24 * time.Hour)
			expired := j.Stage == domain.StageCancelled
			if !deadline.Before(from) && deadline.Before(to) {
				inN++
				if expired {
					inExp++
				}
			} else if !deadline.Before(m.Config.Start) && deadline.Before(m.Config.End()) {
				outN++
				if expired {
					outExp++
				}
			}
		}
	}
	return inN, inExp, outN, outExp
}

func TestAShiftChangesOnlyItsStoreKindAndWindow(t *testing.T) {
	t.Parallel()
	base := journeygen.DefaultConfig(month, 3)
	from, to := month.AddDate(0, 0, 10), month.AddDate(0, 0, 17)
	shifted := base
	shifted.Shifts = []journeygen.Shift{{Store: "hamburg-altona", Kind: journeygen.KindExpiry, From: from, To: to, Factor: 3}}
	a, b := journeygen.Generate(base), journeygen.Generate(shifted)

	// Everything outside hamburg-altona's pickups with a deadline in the window
	// is the same row for row.
	if len(a.Orders) != len(b.Orders) {
		t.Fatalf("the expiry shift changed the number of orders: %d, %d", len(a.Orders), len(b.Orders))
	}
	changed := map[string]bool{}
	ja, jb := journeys(a), journeys(b)
	for i, o := range a.Orders {
		if !reflect.DeepEqual(ja[o.OrderID], jb[o.OrderID]) || !reflect.DeepEqual(o, b.Orders[i]) {
			changed[o.OrderID] = true
			if o.StoreID != "hamburg-altona" || o.PickupDeadline == nil || o.PickupDeadline.Before(from) || !o.PickupDeadline.Before(to) {
				t.Errorf("order %s of %s (deadline %v) changed, outside the shift", o.OrderID, o.StoreID, o.PickupDeadline)
			}
		}
	}
	if len(changed) == 0 {
		t.Fatal("the shift changed nothing")
	}
	// In the window the expired share is 3 × 5 %, outside it 5 %.
	r := journeygen.DefaultRates()
	inN, inExp, outN, outExp := pickupOutcomes(b, "hamburg-altona", from, to)
	within(t, "expired share in the window", float64(inExp)/float64(inN), 3*r.Expiry, inN, 7)
	within(t, "expired share outside the window", float64(outExp)/float64(outN), r.Expiry, outN, 23)
	inN, inExp, _, _ = pickupOutcomes(b, "berlin-mitte", from, to)
	within(t, "berlin-mitte's expired share in the window", float64(inExp)/float64(inN), r.Expiry, inN, 7)

	// The truth says the same.
	if len(b.Truth.Shifts) != 1 || len(b.Truth.Shifts[0].Effects) != 1 {
		t.Fatalf("truth %+v", b.Truth.Shifts)
	}
	e := b.Truth.Shifts[0].Effects[0]
	sd := math.Sqrt(e.Expected * (1 - e.ShiftedRate))
	if e.Store != "hamburg-altona" || math.Abs(float64(e.Realised)-e.Expected) > 4*sd || math.Abs(e.Expected-3*e.BaseExpected) > 1e-6 {
		t.Errorf("truth effect %+v: want realised within 4 sd (%.1f) of expected = 3 × base", e, sd)
	}
}

func journeys(m journeygen.Month) map[string][]journeygen.JourneyRow {
	out := map[string][]journeygen.JourneyRow{}
	for _, j := range m.Journey {
		out[j.OrderID] = append(out[j.OrderID], j)
	}
	return out
}

func TestEveryKindShiftsItsTruth(t *testing.T) {
	t.Parallel()
	cfg := journeygen.DefaultConfig(month, 5)
	cfg.Days, cfg.WarmupDays = 21, 14
	cfg.Stores = cfg.Stores[:2]
	from, to := month.AddDate(0, 0, 7), month.AddDate(0, 0, 14)
	for _, k := range journeygen.Kinds() {
		cfg.Shifts = append(cfg.Shifts, journeygen.Shift{Store: "hamburg-altona", Kind: k, From: from, To: to, Factor: 2})
	}
	m := journeygen.Generate(cfg)
	for _, st := range m.Truth.Shifts {
		if len(st.Effects) != 1 || st.Effects[0].Store != "hamburg-altona" {
			t.Errorf("%s: effects %+v, want hamburg-altona's only", st.Shift.Kind, st.Effects)
			continue
		}
		e := st.Effects[0]
		switch st.Shift.Kind {
		case journeygen.KindSlowPickup, journeygen.KindSlowDelivery:
			// Pickups are capped by the window, so the mean grows a little less than 2×.
			if ratio := e.RealisedMeanSeconds / e.BaseMeanSeconds; e.Decisions < 30 || ratio < 1.6 || ratio > 2.0001 {
				t.Errorf("%s: %d durations, mean ×%.2f; want about ×2", st.Shift.Kind, e.Decisions, ratio)
			}
		default:
			// Poisson (orders) or a sum of Bernoulli trials: sd ≤ sqrt(expected).
			if math.Abs(float64(e.Realised)-e.Expected) > 4*math.Sqrt(e.Expected)+1 || e.Expected < 1.5*e.BaseExpected {
				t.Errorf("%s: realised %d, expected %.1f (base %.1f): want within 4 sd of about twice the base", st.Shift.Kind, e.Realised, e.Expected, e.BaseExpected)
			}
		}
		t.Logf("%-15s decisions %5d base %8.1f expected %8.1f realised %5d", st.Shift.Kind, e.Decisions, e.BaseExpected, e.Expected, e.Realised)
	}
}

func TestRowsAreWhatTheSystemWrites(t *testing.T) {
	t.Parallel()
	m := defaultMonth()
	end := m.Config.End()
	keys := map[string]bool{}
	for _, j := range m.Journey {
		if !j.At.Before(end) {
			t.Fatalf("entry %s of %s at %s, after the end %s", j.Key, j.OrderID, j.At, end)
		}
		k := j.OrderID + " " + j.Key
		if keys[k] {
			t.Fatalf("entry key %s twice", k)
		}
		keys[k] = true
		switch {
		case j.Kind == "stage" && j.Key != "stage:"+string(j.Stage):
			t.Fatalf("stage entry %+v: key must be stage:<stage>", j)
		case j.Kind == "notification" && !strings.HasPrefix(j.Key, "webhook:") && !strings.HasPrefix(j.Key, j.OrderID+":notify:"):
			t.Fatalf("notification entry %+v", j)
		}
	}
	for _, n := range m.Notifications {
		if !strings.HasPrefix(n.Key, n.OrderID+":notify:"+string(n.Touchpoint)) || !strings.HasSuffix(n.Key, ":"+string(n.Channel)) {
			t.Fatalf("notification key %s of %s via %s", n.Key, n.Touchpoint, n.Channel)
		}
	}
	for _, p := range m.PickTasks {
		if (p.Status == "done") != (p.PickedAt != nil) || (p.PickedAt != nil && !p.PickedAt.Before(end)) || !p.CreatedAt.Before(end) {
			t.Fatalf("pick task %+v", p)
		}
	}
}

func TestParseShiftAndStores(t *testing.T) {
	t.Parallel()
	sh, err := journeygen.ParseShift("store=s2,kind=expiry,from=2026-11-18T00:00:00Z,to=2026-11-25T00:00:00+01:00,factor=2.5")
	if err != nil || sh.Store != "s2" || sh.Kind != journeygen.KindExpiry || sh.Factor != 2.5 || !sh.To.Equal(time.Date(2026, 11, 24, 23, 0, 0, 0, time.UTC)) {
		t.Fatalf("ParseShift: %+v, %v", sh, err)
	}
	for in, want := range map[string]string{
		"store=s2,kind=expiry":                    "missing from, to, factor",
		"store=s2,colour=red":                     `unknown field "colour"`,
		"store=s2,kind=expiry,from=yesterday":     "from",
		"kind=expiry,from=2026-11-18T00:00:00Z,x": "not key=value",
	} {
		if _, err := journeygen.ParseShift(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseShift(%q) = %v; want an error naming %q", in, err, want)
		}
	}
	cfg := journeygen.DefaultConfig(month, 1)
	cfg.Shifts = []journeygen.Shift{{Store: "nowhere", Kind: "weather", From: month, To: month, Factor: -1}}
	err = cfg.Validate()
	for _, want := range []string{`unknown store "nowhere"`, `unknown kind "weather"`, "to after from", "factor -1"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v; want it to name %q", err, want)
		}
	}
	stores, err := journeygen.ParseStores("a:100,b:20:0.8:Europe/Vienna")
	if err != nil || len(stores) != 2 || stores[1].HomeDeliveryShare != 0.8 || stores[1].TimeZone != "Europe/Vienna" || stores[0].OrdersPerDay != 100 {
		t.Fatalf("ParseStores: %+v, %v", stores, err)
	}
	if _, err := journeygen.ParseStores("a"); err == nil {
		t.Error("ParseStores(a): want an error")
	}
}

// expiriesByDay counts expired pickups (cancelled by the workflow) per UTC day.
func expiriesByDay(m journeygen.Month) map[time.Time]int {
	out := map[time.Time]int{}
	for _, j := range m.Journey {
		if j.Stage == domain.StageCancelled && j.Actor == "" {
			out[j.At.Truncate(24*time.Hour)]++
		}
	}
	return out
}

func TestWarmupMakesTheFirstWeekOrdinary(t *testing.T) {
	t.Parallel()
	m := defaultMonth()
	exp := expiriesByDay(m)
	var first, rest float64
	for d := 0; d < m.Config.Days; d++ {
		if d < 7 {
			first += float64(exp[month.AddDate(0, 0, d)]) / 7
		} else {
			rest += float64(exp[month.AddDate(0, 0, d)]) / float64(m.Config.Days-7)
		}
	}
	// About 40 expiries a day: a week's mean has a sd of about 2.5 (Poisson and
	// the day factors), so 0.75 of the rest's mean is more than 4 sd below it.
	if first < 0.75*rest {
		t.Errorf("first week %.1f expired pickups a day, the rest %.1f: the warm-up should make them alike", first, rest)
	}
	// Without a warm-up nothing can expire in the first week: the reason for it.
	cold := journeygen.DefaultConfig(month, 1)
	cold.Days, cold.WarmupDays = 8, 0
	exp = expiriesByDay(journeygen.Generate(cold))
	for d := range 7 {
		if n := exp[month.AddDate(0, 0, d)]; n != 0 {
			t.Errorf("day %d without warm-up: %d expiries", d, n)
		}
	}
}
