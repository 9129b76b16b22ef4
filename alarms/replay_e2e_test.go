package alarms_test

import (
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/adapters/postgres"
	"github.com/everywherecommerce/fulfilment/adapters/postgres/pgtest"
	"github.com/everywherecommerce/fulfilment/alarms"
	"github.com/everywherecommerce/fulfilment/kpis/journeygen"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// TestReplayAGeneratedMonth is the whole way a month of history takes into a
// fresh system: journeys generated with one injected shift (a busy store's
// payment declines tripled for a week) are loaded into PostgreSQL, the
// replay recomputes the KPIs from the records and evaluates the bell hour by
// hour. The shifted store's declines ring within a day of the shift and
// resolve after it; the other stores ring nothing; a second replay gives the
// same alarms.
func TestReplayAGeneratedMonth(t *testing.T) {
	ctx := t.Context()
	pool := pgtest.New(t)
	store := postgres.NewStore(pool)
	start := time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC) // a Monday
	cfg := journeygen.DefaultConfig(start, 11)
	cfg.Days = 35
	cfg.Stores = []journeygen.StoreSpec{
		{ID: "berlin-mitte", OrdersPerDay: 380, HomeDeliveryShare: 0.15, TransferShare: 0.25, TimeZone: "Europe/Berlin"},
		{ID: "koeln-ehrenfeld", OrdersPerDay: 35, HomeDeliveryShare: 0.10, TransferShare: 0.40, TimeZone: "Europe/Berlin"},
		{ID: "leipzig-versand", OrdersPerDay: 40, HomeDeliveryShare: 0.75, TransferShare: 0.30, TimeZone: "Europe/Berlin"},
	}
	shiftFrom, shiftTo := start.AddDate(0, 0, 22), start.AddDate(0, 0, 29) // Tuesday to Tuesday
	cfg.Shifts = []journeygen.Shift{{Store: "berlin-mitte", Kind: journeygen.KindDeclines, From: shiftFrom, To: shiftTo, Factor: 3}}
	began := time.Now()
	m := journeygen.Generate(cfg)
	if err := journeygen.Load(ctx, pool, m); err != nil {
		t.Fatal(err)
	}
	t.Logf("generated and loaded %d orders in %s", len(m.Orders), time.Since(began).Round(time.Millisecond))

	bell := &alarms.Bell{Store: store, Config: alarms.DefaultConfig(), Signals: alarms.Signals()}
	replay := func() []records.Alarm {
		t.Helper()
		began := time.Now()
		ev, err := bell.Replay(ctx, start, cfg.End(), false)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("replayed %s to %s in %s: %d opened, %d resolved", ev.From.Format(time.DateOnly), ev.Through.Format(time.DateOnly),
			time.Since(began).Round(time.Millisecond), ev.Opened, ev.Resolved)
		list, err := store.Alarms(ctx, records.AlarmFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return list
	}
	list := replay()
	var hit *records.Alarm
	var false_ []records.Alarm
	for _, a := range list {
		t.Logf("%s: %s", a.OpenedAt.Format(time.RFC3339), alarms.Summary(a))
		switch {
		case a.Signal == "payment_declines" && a.StoreID == "berlin-mitte":
			a := a
			hit = &a
		case a.Signal == "payment_declines" && a.StoreID == records.KPIAll:
			// berlin-mitte is most of all stores' payments: the total moved too.
		case a.Signal == "cancellations" && (a.StoreID == "berlin-mitte" || a.StoreID == records.KPIAll) && !a.OpenedAt.Before(shiftFrom) && a.OpenedAt.Before(shiftTo):
			// A declined payment cancels its order: the shift moves this too.
		default:
			t.Logf("rang without a shift: %s", alarms.Summary(a))
			false_ = append(false_, a)
		}
	}
	// 3 stores and all stores, every signal with data, 35 days: about 1.2
	// months per series.
	series := 4 * len(alarms.Signals())
	t.Logf("%d false alarms in about %.0f store-signal-months (%.1f per 100)", len(false_), float64(series)*35/30,
		100*float64(len(false_))/(float64(series)*35/30))
	if float64(len(false_)) > float64(series)*35/30/10 {
		t.Errorf("%d false alarms: more than 1 per 10 store-signal-months", len(false_))
	}
	if hit == nil {
		t.Fatal("the tripled declines of berlin-mitte rang no alarm")
	}
	if d := hit.OpenedAt.Sub(shiftFrom); d < 0 || d > 24*time.Hour {
		t.Errorf("rang %s after the shift began, want within 24 h", d)
	}
	if hit.ResolvedAt == nil || hit.ResolvedAt.Before(shiftTo) || hit.ResolvedAt.Sub(shiftTo) > 96*time.Hour {
		t.Errorf("resolved at %v, want within 96 h after the shift ended at %s", hit.ResolvedAt, shiftTo)
	}
	again := replay()
	if len(again) != len(list) {
		t.Fatalf("a second replay wrote %d alarms, the first %d", len(again), len(list))
	}
	for i := range list {
		if again[i].Signal != list[i].Signal || again[i].StoreID != list[i].StoreID || !again[i].OpenedAt.Equal(list[i].OpenedAt) {
			t.Errorf("second replay: %s, first: %s", alarms.Summary(again[i]), alarms.Summary(list[i]))
		}
	}
}
