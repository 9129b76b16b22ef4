package postgres_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/everywherecommerce/fulfilment/adapters/postgres"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// kpiDay is the day of the generated journeys; the window ends at 23:30 on it.
var kpiDay = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// at is a time on kpiDay (day 0) or a day around it.
func at(day int, hhmm string) time.Time {
	var h, m int
	if _, err := fmt.Sscanf(hhmm, "%d:%d", &h, &m); err != nil {
		panic(err)
	}
	return kpiDay.AddDate(0, 0, day).Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
}

func mustExec(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	if _, err := pool.Exec(t.Context(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// seedKPIJourneys inserts a small set of journeys whose KPIs are worked out by
// hand in TestKPIFormulas. Stores s1 and s2; s1 ship to store, s2 home delivery.
func seedKPIJourneys(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	order := func(id, method, store, location string, placed time.Time, promised *time.Time) {
		mustExec(t, pool, `insert into orders (order_id, customer_id, method, store_id, location_id, stage, total, currency, placed_at, updated_at, promised_ready_at)
			values ($1, 'c', $2, $3, $4, 'accepted', 100, 'EUR', $5, $5, $6)`, id, method, store, location, placed, promised)
	}
	stage := func(id, stage, actor string, at time.Time) {
		mustExec(t, pool, `insert into order_journey (order_id, kind, entry_key, stage, actor, at) values ($1, 'stage', 'stage:' || $2, $2, $3, $4)`, id, stage, actor, at)
	}
	pick := func(id, location string, created, picked, due time.Time) {
		mustExec(t, pool, `insert into pick_tasks (order_id, location_id, lines, due_at, status, picked_at, created_at) values ($1, $2, '[]', $3, 'done', $4, $5)`,
			id, location, due, picked, created)
	}
	note := func(key, id, channel, status string, created time.Time) {
		mustExec(t, pool, `insert into notifications (key, order_id, touchpoint, channel, status, created_at) values ($1, $2, 'x', $3, $4, $5)`,
			key, id, channel, status, created)
	}
	promisedA1, promisedA2 := at(2, "10:00"), at(0, "08:00")
	// A1: picked in 50 min (SLA missed), ready 2 days early, picked up 2 h later.
	order("A1", "ship_to_store", "s1", "s1", at(0, "07:55"), &promisedA1)
	stage("A1", "payment_captured", "", at(0, "07:56"))
	pick("A1", "s1", at(0, "08:00"), at(0, "08:50"), at(0, "08:30"))
	stage("A1", "ready_for_pickup", "", at(0, "10:00"))
	stage("A1", "picked_up", "staff:s1", at(0, "12:00"))
	note("A1-ready-email", "A1", "email", "sent", at(0, "10:00"))
	note("A1-ready-sms", "A1", "sms", "failed", at(0, "10:00"))
	note("A1-review-email", "A1", "email", "sending", at(0, "12:00"))
	// A2: picked in 30 min, ready an hour late, expired (cancelled by the system).
	order("A2", "ship_to_store", "s1", "s1", at(0, "08:20"), &promisedA2)
	stage("A2", "payment_captured", "", at(0, "08:21"))
	pick("A2", "s1", at(0, "08:21"), at(0, "08:51"), at(0, "09:00"))
	stage("A2", "ready_for_pickup", "", at(0, "09:00"))
	stage("A2", "cancelled", "", at(0, "09:30"))
	note("A2-ready-email", "A2", "email", "undeliverable", at(0, "09:00"))
	// A1's ready email bounces later (SendGrid's webhook), so does an SMS of A4.
	entry := func(id, kind, key string, at time.Time) {
		mustExec(t, pool, `insert into order_journey (order_id, kind, entry_key, at) values ($1, $2, $3, $4)`, id, kind, key, at)
	}
	entry("A1", "notification", "webhook:sendgrid:ev1", at(0, "10:05"))
	entry("A1", "notification", "notification:ready:email", at(0, "10:00")) // the send itself: not a bounce
	entry("A4", "notification", "webhook:twilio:ev2", at(0, "16:10"))
	// A3: payment declined.
	order("A3", "ship_to_store", "s1", "s1", at(0, "09:05"), nil)
	stage("A3", "payment_failed", "", at(0, "09:06"))
	// A5: picked in 10 min, then cancelled by support.
	order("A5", "ship_to_store", "s1", "s1", at(0, "08:30"), nil)
	pick("A5", "s1", at(0, "08:31"), at(0, "08:41"), at(0, "09:00"))
	stage("A5", "cancelled", "support:x", at(0, "08:40"))
	// A4: home delivery from s2 placed the day before, delivered in 4 h.
	order("A4", "home_delivery", "", "s2", at(-1, "22:00"), nil)
	stage("A4", "payment_captured", "", at(-1, "22:01"))
	pick("A4", "s2", at(-1, "22:05"), at(-1, "22:15"), at(-1, "23:00"))
	note("A4-confirm-email", "A4", "email", "sent", at(-1, "22:01"))
	stage("A4", "shipped", "", at(0, "10:00"))
	stage("A4", "delivered", "", at(0, "14:00"))
	stage("A4", "review_requested", "", at(0, "15:00"))
	// Old: outside the 14-day window.
	order("OLD", "ship_to_store", "s1", "s1", at(-20, "10:00"), nil)
}

type kpiKey struct{ kpi, store, method, gran string }

func kpiIndex(t *testing.T, st *postgres.Store) map[kpiKey]map[time.Time]records.KPIValue {
	t.Helper()
	vals, err := st.KPIs(t.Context(), records.KPIFilter{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[kpiKey]map[time.Time]records.KPIValue{}
	for _, v := range vals {
		k := kpiKey{v.KPI, v.StoreID, v.Method, v.Granularity}
		if out[k] == nil {
			out[k] = map[time.Time]records.KPIValue{}
		}
		out[k][v.BucketStart] = v
	}
	return out
}

func TestKPIFormulas(t *testing.T) {
	t.Parallel()
	st, pool := newStore(t)
	seedKPIJourneys(t, pool)
	w := records.NewKPIWindow(at(0, "23:30"), 48, 14)
	if !w.HoursFrom.Equal(at(-1, "00:00")) || !w.DaysFrom.Equal(at(-13, "00:00")) {
		t.Fatalf("window %+v", w)
	}
	if _, err := st.ComputeKPIs(t.Context(), w); err != nil {
		t.Fatal(err)
	}
	got := kpiIndex(t, st)
	day0, dayM1, hour8 := at(0, "00:00"), at(-1, "00:00"), at(0, "08:00")
	f := func(v float64) *float64 { return &v }
	cases := []struct {
		key     kpiKey
		bucket  time.Time
		value   float64
		num     *float64
		den     *float64
		samples int64
	}{
		{kpiKey{"orders_placed", "s1", "ship_to_store", "day"}, day0, 4, nil, nil, 4},
		{kpiKey{"orders_placed", "s2", "home_delivery", "day"}, dayM1, 1, nil, nil, 1},
		{kpiKey{"orders_placed", "*", "*", "day"}, day0, 4, nil, nil, 4},
		{kpiKey{"orders_placed", "s1", "ship_to_store", "hour"}, hour8, 2, nil, nil, 2},
		{kpiKey{"orders_placed", "s1", "*", "hour"}, at(0, "07:00"), 1, nil, nil, 1},
		{kpiKey{"payment_decline_rate", "s1", "ship_to_store", "day"}, day0, 1.0 / 3, f(1), f(3), 3},
		{kpiKey{"payment_decline_rate", "s2", "home_delivery", "day"}, dayM1, 0, f(0), f(1), 1},
		{kpiKey{"payment_decline_rate", "*", "*", "day"}, day0, 1.0 / 3, f(1), f(3), 3},
		{kpiKey{"cancellations", "s1", "ship_to_store", "day"}, day0, 2, nil, nil, 2},
		{kpiKey{"expired_pickups", "s1", "ship_to_store", "day"}, day0, 1, nil, nil, 1},
		{kpiKey{"ready_on_time_rate", "s1", "ship_to_store", "day"}, day0, 0.5, f(1), f(2), 2},
		{kpiKey{"ready_early_rate", "s1", "ship_to_store", "day"}, day0, 0.5, f(1), f(2), 2},
		{kpiKey{"pickups", "s1", "ship_to_store", "day"}, day0, 1, nil, nil, 1},
		{kpiKey{"time_to_pickup_p50", "s1", "ship_to_store", "day"}, day0, 7200, nil, nil, 1},
		{kpiKey{"time_to_pick_p50", "s1", "ship_to_store", "day"}, day0, 1800, nil, nil, 3},
		{kpiKey{"time_to_pick_p90", "s1", "ship_to_store", "day"}, day0, 2760, nil, nil, 3},
		{kpiKey{"time_to_pick_p50", "s1", "ship_to_store", "hour"}, hour8, 1800, nil, nil, 3},
		{kpiKey{"time_to_pick_p50", "*", "*", "day"}, dayM1, 600, nil, nil, 1},
		{kpiKey{"picking_sla_miss_rate", "s1", "ship_to_store", "day"}, day0, 1.0 / 3, f(1), f(3), 3},
		{kpiKey{"picking_sla_miss_rate", "s2", "home_delivery", "day"}, dayM1, 0, f(0), f(1), 1},
		{kpiKey{"deliveries", "s2", "home_delivery", "day"}, day0, 1, nil, nil, 1},
		{kpiKey{"delivery_time_p50", "s2", "home_delivery", "day"}, day0, 14400, nil, nil, 1},
		{kpiKey{"delivery_time_p90", "*", "home_delivery", "hour"}, at(0, "14:00"), 14400, nil, nil, 1},
		{kpiKey{"review_requests", "s2", "home_delivery", "day"}, day0, 1, nil, nil, 1},
		{kpiKey{"messages_sent_email", "s1", "ship_to_store", "day"}, day0, 1, nil, nil, 1},
		{kpiKey{"messages_sent_email", "*", "*", "day"}, dayM1, 1, nil, nil, 1},
		{kpiKey{"messages_failed_sms", "s1", "ship_to_store", "day"}, day0, 1, nil, nil, 1},
		{kpiKey{"messages_undeliverable_email", "s1", "ship_to_store", "hour"}, at(0, "09:00"), 1, nil, nil, 1},
		{kpiKey{"messages_bounced_email", "s1", "ship_to_store", "hour"}, at(0, "10:00"), 1, nil, nil, 1},
		{kpiKey{"messages_bounced_email", "*", "*", "day"}, day0, 1, nil, nil, 1},
		{kpiKey{"messages_bounced_sms", "s2", "home_delivery", "day"}, day0, 1, nil, nil, 1},
	}
	for _, c := range cases {
		v, ok := got[c.key][c.bucket]
		if !ok {
			t.Errorf("%+v at %s: missing", c.key, c.bucket)
			continue
		}
		if math.Abs(v.Value-c.value) > 1e-9 || !sameFloat(v.Numerator, c.num) || !sameFloat(v.Denominator, c.den) || v.Samples != c.samples {
			t.Errorf("%+v at %s: value %v num %v den %v samples %d; want %v %v %v %d", c.key, c.bucket,
				v.Value, deref(v.Numerator), deref(v.Denominator), v.Samples, c.value, deref(c.num), deref(c.den), c.samples)
		}
	}
	// Absent: a late-only hour bucket before the window, the old order, buckets
	// that have no records, and sending messages.
	for _, k := range []kpiKey{
		{"orders_placed", "s1", "ship_to_store", "day"},
	} {
		if _, ok := got[k][at(-20, "00:00")]; ok {
			t.Errorf("%+v: the order 20 days old is outside the window", k)
		}
	}
	for _, k := range []kpiKey{
		{"expired_pickups", "s2", "home_delivery", "day"},
		{"messages_sending_email", "*", "*", "day"},
		{"ready_on_time_rate", "s2", "home_delivery", "day"},
	} {
		if len(got[k]) != 0 {
			t.Errorf("%+v: want no values, got %v", k, got[k])
		}
	}
}

func TestKPIRecomputationIsIdempotentAndFollowsLateChanges(t *testing.T) {
	t.Parallel()
	st, pool := newStore(t)
	seedKPIJourneys(t, pool)
	w := records.NewKPIWindow(at(0, "23:30"), 48, 14)
	n1, err := st.ComputeKPIs(t.Context(), w)
	if err != nil {
		t.Fatal(err)
	}
	first := kpiIndex(t, st)
	w.At = w.At.Add(15 * time.Minute)
	n2, err := st.ComputeKPIs(t.Context(), w)
	if err != nil {
		t.Fatal(err)
	}
	second := kpiIndex(t, st)
	if n1 != n2 || len(first) != len(second) || n1 == 0 {
		t.Fatalf("recomputing wrote %d values in %d series, first %d in %d", n2, len(second), n1, len(first))
	}
	for k, buckets := range first {
		for b, v := range buckets {
			v2 := second[k][b]
			if v2.Value != v.Value || v2.Samples != v.Samples || !v2.ComputedAt.Equal(w.At) {
				t.Errorf("%+v at %s: %+v then %+v", k, b, v, v2)
			}
		}
	}
	// A late change: A4 turns out to be fulfilled from dc. Its s2 buckets go,
	// except the pick at s2 (picking KPIs count where the pick happened).
	mustExec(t, pool, `update orders set location_id = 'dc' where order_id = 'A4'`)
	if _, err := st.ComputeKPIs(t.Context(), w); err != nil {
		t.Fatal(err)
	}
	third := kpiIndex(t, st)
	if v, ok := third[kpiKey{"orders_placed", "s2", "home_delivery", "day"}]; ok {
		t.Errorf("s2's orders_placed still there after the order moved: %v", v)
	}
	if v := third[kpiKey{"orders_placed", "dc", "home_delivery", "day"}][at(-1, "00:00")]; v.Value != 1 {
		t.Errorf("dc's orders_placed %v, want 1", v.Value)
	}
	if v := third[kpiKey{"time_to_pick_p50", "s2", "home_delivery", "day"}][at(-1, "00:00")]; v.Value != 600 {
		t.Errorf("s2's time to pick %v, want 600", v.Value)
	}
}

func sameFloat(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return math.Abs(*a-*b) < 1e-9
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
