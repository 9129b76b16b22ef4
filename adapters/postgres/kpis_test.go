package postgres_test

import (
	"fmt"
	"math"
	"strings"
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
	seedTransferJourneys(t, pool)
}

// seedTransferJourneys adds, two days before kpiDay, ship-to-store orders of
// store s3 picked at the distribution centre dc and transferred (short picks, a
// late transfer, an expired pickup, a carrier problem), and orders needing
// attention at the run.
func seedTransferJourneys(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	order := func(id string, placed time.Time, promised *time.Time, needsAttention bool) {
		mustExec(t, pool, `insert into orders (order_id, customer_id, method, store_id, location_id, stage, total, currency, placed_at, updated_at, promised_ready_at, needs_attention)
			values ($1, 'c', 'ship_to_store', 's3', 'dc', 'accepted', 100, 'EUR', $2, $2, $3, $4)`, id, placed, promised, needsAttention)
	}
	stage := func(id, stage, actor string, at time.Time) {
		mustExec(t, pool, `insert into order_journey (order_id, kind, entry_key, stage, actor, at) values ($1, 'stage', 'stage:' || $2, $2, $3, $4)`, id, stage, actor, at)
	}
	entry := func(id, kind, key, detail string, at time.Time) {
		mustExec(t, pool, `insert into order_journey (order_id, kind, entry_key, detail, at) values ($1, $2, $3, $4, $5)`, id, kind, key, detail, at)
	}
	pick := func(id, lines, picked string, created, done time.Time) {
		mustExec(t, pool, `insert into pick_tasks (order_id, location_id, lines, picked, due_at, status, picked_at, created_at) values ($1, 'dc', $2, $3, $4, 'done', $4, $5)`,
			id, lines, picked, done, created)
	}
	note := func(key, id, channel, status string, created time.Time) {
		mustExec(t, pool, `insert into notifications (key, order_id, touchpoint, channel, status, created_at) values ($1, $2, 'x', $3, $4, $5)`,
			key, id, channel, status, created)
	}
	promisedB1, promisedB2, promisedB4 := at(-2, "12:00"), at(-2, "10:00"), at(-2, "09:00")
	// B1: 2 of 3 units picked, 3 h in transit, ready on time 15 h after it was
	// placed, picked up; its ready email bounces, its push failed.
	order("B1", at(-3, "20:00"), &promisedB1, false)
	pick("B1", `[{"sku":"a","quantity":2},{"sku":"b","quantity":1}]`, `[{"sku":"a","quantity":1},{"sku":"b","quantity":1}]`, at(-2, "06:00"), at(-2, "07:00"))
	stage("B1", "in_transit_to_store", "", at(-2, "08:00"))
	stage("B1", "ready_for_pickup", "", at(-2, "11:00"))
	stage("B1", "picked_up", "staff:s3", at(-2, "15:00"))
	note("B1-ready-email", "B1", "email", "sent", at(-2, "11:00"))
	note("B1-ready-push", "B1", "push", "failed", at(-2, "11:00"))
	entry("B1", "notification", "webhook:sendgrid:ev3", "email bounced", at(-2, "16:00"))
	// B2: fully picked, a carrier exception, 9 h in transit, ready 3 h late
	// (12 h after it was placed), not picked up (expired).
	order("B2", at(-2, "01:00"), &promisedB2, false)
	pick("B2", `[{"sku":"a","quantity":1}]`, `[{"sku":"a","quantity":1}]`, at(-2, "02:00"), at(-2, "03:00"))
	stage("B2", "in_transit_to_store", "", at(-2, "04:00"))
	entry("B2", "attention", "attention:in_transit_to_store:5", "carrier reports failure", at(-2, "06:00"))
	entry("B2", "notification", "delivery-problem:ev4", "carrier reports failure: customer told", at(-2, "06:00")) // not counted twice
	stage("B2", "ready_for_pickup", "", at(-2, "13:00"))
	stage("B2", "cancelled", "", at(-2, "20:00"))
	note("B2-ready-email", "B2", "email", "sent", at(-2, "13:00"))
	note("B2-ready-push", "B2", "push", "sent", at(-2, "13:00"))
	note("B2-cancel-push", "B2", "push", "sending", at(-2, "20:00"))
	// B3: nothing could be picked (a short pick too), cancelled.
	order("B3", at(-2, "02:00"), nil, false)
	pick("B3", `[{"sku":"a","quantity":2}]`, `[{"sku":"a","quantity":0}]`, at(-2, "02:30"), at(-2, "04:00"))
	stage("B3", "cancelled", "staff:dc", at(-2, "04:00"))
	// B4: ready without a transfer, 3 h after it was placed; needs attention
	// since 12:00 (raised at 09:00, resolved at 10:00, raised again at 12:00,
	// another reason at 13:00).
	order("B4", at(-2, "05:00"), &promisedB4, true)
	stage("B4", "ready_for_pickup", "", at(-2, "08:00"))
	entry("B4", "attention", "attention:ready_for_pickup:1", "handover locked after 5 wrong pickup codes", at(-2, "09:00"))
	entry("B4", "attention_resolved", "attention_resolved:ready_for_pickup:2", "unlocked", at(-2, "10:00"))
	entry("B4", "attention", "attention:ready_for_pickup:3", "handover locked after 5 wrong pickup codes", at(-2, "12:00"))
	entry("B4", "attention", "attention:ready_for_pickup:4", "payment provider reports a dispute", at(-2, "13:00"))
	// B5: needs attention since an hour before the run (a parcel returned).
	order("B5", at(-2, "06:00"), nil, true)
	entry("B5", "attention", "attention:in_transit_to_store:3", "carrier reports return_to_sender", at(0, "22:30"))
	// B6: flagged by a writer that left no attention entry: counted, no age.
	order("B6", at(-2, "07:00"), nil, true)
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
	day0, dayM1, dayM2, hour8 := at(0, "00:00"), at(-1, "00:00"), at(-2, "00:00"), at(0, "08:00")
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
		// Ended: A1 picked up, A2 and A5 cancelled; A4 delivered.
		{kpiKey{"cancellation_rate", "s1", "ship_to_store", "day"}, day0, 2.0 / 3, f(2), f(3), 3},
		{kpiKey{"cancellation_rate", "s2", "home_delivery", "day"}, day0, 0, f(0), f(1), 1},
		{kpiKey{"cancellation_rate", "*", "*", "day"}, day0, 0.5, f(2), f(4), 4},
		{kpiKey{"cancellation_rate", "s3", "ship_to_store", "day"}, dayM2, 2.0 / 3, f(2), f(3), 3},
		// A1 picked up, A2 expired; A5 (cancelled by support) does not count.
		{kpiKey{"pickup_expiry_rate", "s1", "ship_to_store", "day"}, day0, 0.5, f(1), f(2), 2},
		{kpiKey{"pickup_expiry_rate", "s1", "ship_to_store", "hour"}, at(0, "09:00"), 1, f(1), f(1), 1},
		{kpiKey{"pickup_expiry_rate", "s3", "ship_to_store", "day"}, dayM2, 0.5, f(1), f(2), 2},
		{kpiKey{"transfer_time_p50", "s3", "ship_to_store", "day"}, dayM2, 21600, nil, nil, 2},
		{kpiKey{"transfer_time_p90", "s3", "ship_to_store", "day"}, dayM2, 30240, nil, nil, 2},
		{kpiKey{"transfer_time_p50", "*", "*", "day"}, dayM2, 21600, nil, nil, 2},
		{kpiKey{"late_transfer_rate", "s3", "ship_to_store", "day"}, dayM2, 0.5, f(1), f(2), 2},
		{kpiKey{"ready_on_time_rate", "s3", "ship_to_store", "day"}, dayM2, 2.0 / 3, f(2), f(3), 3},
		// Placed to ready for pickup (ship to store) or shipped (home delivery).
		{kpiKey{"placed_to_ready_p50", "s1", "ship_to_store", "day"}, day0, 4950, nil, nil, 2},
		{kpiKey{"placed_to_ready_p90", "s1", "ship_to_store", "day"}, day0, 6990, nil, nil, 2},
		{kpiKey{"placed_to_ready_p50", "s2", "home_delivery", "day"}, day0, 43200, nil, nil, 1},
		{kpiKey{"placed_to_ready_p50", "*", "*", "day"}, day0, 7500, nil, nil, 3},
		{kpiKey{"placed_to_ready_p50", "s3", "ship_to_store", "day"}, dayM2, 43200, nil, nil, 3},
		{kpiKey{"placed_to_ready_p90", "s3", "ship_to_store", "day"}, dayM2, 51840, nil, nil, 3},
		// Short picks count where the pick happened (dc); s1's tasks have no lines.
		{kpiKey{"short_picks", "dc", "ship_to_store", "day"}, dayM2, 2, nil, nil, 2},
		{kpiKey{"short_pick_rate", "dc", "ship_to_store", "day"}, dayM2, 2.0 / 3, f(2), f(3), 3},
		{kpiKey{"short_pick_rate", "dc", "*", "day"}, dayM2, 2.0 / 3, f(2), f(3), 3},
		{kpiKey{"short_pick_rate", "s1", "ship_to_store", "day"}, day0, 0, f(0), f(3), 3},
		{kpiKey{"carrier_problems", "s3", "ship_to_store", "day"}, dayM2, 1, nil, nil, 1},
		{kpiKey{"carrier_problems", "*", "*", "hour"}, at(0, "22:00"), 1, nil, nil, 1},
		// Snapshot at the run (23:30): B4 flagged since 12:00 two days before
		// (59.5 h), B5 for an hour, B6 without an entry (no age).
		{kpiKey{"orders_needing_attention", "s3", "ship_to_store", "hour"}, at(0, "23:00"), 3, nil, nil, 3},
		{kpiKey{"orders_needing_attention", "*", "*", "day"}, day0, 3, nil, nil, 3},
		{kpiKey{"attention_age_p50", "s3", "ship_to_store", "hour"}, at(0, "23:00"), 108900, nil, nil, 2},
		{kpiKey{"attention_age_max", "s3", "ship_to_store", "hour"}, at(0, "23:00"), 214200, nil, nil, 2},
		{kpiKey{"attention_age_max", "*", "*", "day"}, day0, 214200, nil, nil, 2},
		// Sent, failed, undeliverable (unconfirmed): failed or undeliverable.
		{kpiKey{"message_failure_rate_email", "s1", "ship_to_store", "day"}, day0, 0.5, f(1), f(2), 2},
		{kpiKey{"message_failure_rate_sms", "s1", "ship_to_store", "day"}, day0, 1, f(1), f(1), 1},
		{kpiKey{"message_failure_rate_email", "*", "*", "day"}, dayM1, 0, f(0), f(1), 1},
		{kpiKey{"message_failure_rate_push", "s3", "ship_to_store", "day"}, dayM2, 0.5, f(1), f(2), 2},
		// Bounces in the bucket per email sent in it.
		{kpiKey{"email_bounce_rate", "s1", "ship_to_store", "day"}, day0, 1, f(1), f(1), 1},
		{kpiKey{"email_bounce_rate", "*", "*", "day"}, dayM1, 0, f(0), f(1), 1},
		{kpiKey{"email_bounce_rate", "s3", "ship_to_store", "day"}, dayM2, 0.5, f(1), f(2), 2},
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
		{"short_picks", "s1", "ship_to_store", "day"},
		{"transfer_time_p50", "s1", "ship_to_store", "day"},
		{"late_transfer_rate", "s1", "*", "day"},
		{"pickup_expiry_rate", "s2", "home_delivery", "day"},
		{"orders_needing_attention", "s1", "*", "day"},
		{"message_failure_rate_push", "s1", "*", "day"},
	} {
		if len(got[k]) != 0 {
			t.Errorf("%+v: want no values, got %v", k, got[k])
		}
	}
	// A bounce in an hour without emails sent has no rate; the snapshot is in
	// the run's buckets only.
	if v, ok := got[kpiKey{"email_bounce_rate", "s3", "ship_to_store", "hour"}][at(-2, "16:00")]; ok {
		t.Errorf("bounce rate of an hour without sends: %+v", v)
	}
	if n := len(got[kpiKey{"orders_needing_attention", "*", "*", "hour"}]); n != 1 {
		t.Errorf("orders needing attention in %d hour buckets, want the run's one", n)
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
			want := v.Value
			if strings.HasPrefix(k.kpi, "attention_age_") {
				want += 15 * 60 // the snapshot's ages grow with the run's time
			}
			if v2.Value != want || v2.Samples != v.Samples || !v2.ComputedAt.Equal(w.At) {
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
	// The snapshot: B5's flag is lowered within the hour, so the run's hour is
	// rewritten; the next hour's run leaves it as it was and adds its own.
	mustExec(t, pool, `update orders set needs_attention = false where order_id = 'B5'`)
	if _, err := st.ComputeKPIs(t.Context(), w); err != nil {
		t.Fatal(err)
	}
	next := records.NewKPIWindow(w.At.Add(time.Hour), 48, 14)
	mustExec(t, pool, `update orders set needs_attention = false where order_id = 'B6'`)
	if _, err := st.ComputeKPIs(t.Context(), next); err != nil {
		t.Fatal(err)
	}
	fourth := kpiIndex(t, st)
	for _, c := range []struct {
		key    kpiKey
		bucket time.Time
		want   float64
	}{
		{kpiKey{"orders_needing_attention", "*", "*", "hour"}, at(0, "23:00"), 2},
		{kpiKey{"orders_needing_attention", "*", "*", "day"}, at(0, "00:00"), 2},
		{kpiKey{"attention_age_max", "*", "*", "hour"}, at(0, "23:00"), 214200 + 900},
		{kpiKey{"orders_needing_attention", "*", "*", "hour"}, at(1, "00:00"), 1},
		{kpiKey{"orders_needing_attention", "*", "*", "day"}, at(1, "00:00"), 1},
		{kpiKey{"attention_age_p50", "s3", "ship_to_store", "hour"}, at(1, "00:00"), 214200 + 900 + 3600},
	} {
		v, ok := fourth[c.key][c.bucket]
		if !ok || v.Value != c.want {
			t.Errorf("%+v at %s: %v (present %t), want %v", c.key, c.bucket, v.Value, ok, c.want)
		}
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

// TestMarketingConsentRate: the share of the last 30 days' orders whose
// customer consents to marketing now, a snapshot in the run's bucket.
func TestMarketingConsentRate(t *testing.T) {
	t.Parallel()
	st, pool := newStore(t)
	seedKPIJourneys(t, pool)
	// Every seeded order is customer c's (s1: A1, A2, A3, A5, OLD; s2: A4;
	// s3: B1-B6); A1 and A2 become c2's, who does not consent.
	mustExec(t, pool, `update orders set customer_id = 'c2' where order_id in ('A1', 'A2')`)
	mustExec(t, pool, `insert into contact_preferences (customer_id, marketing_consent) values ('c', true), ('c2', false)`)
	run := at(0, "23:30")
	if _, err := st.ComputeKPIs(t.Context(), records.NewKPIWindow(run, 48, 14)); err != nil {
		t.Fatal(err)
	}
	got := kpiIndex(t, st)
	f := func(v float64) *float64 { return &v }
	for _, c := range []struct {
		key      kpiKey
		num, den float64
	}{
		{kpiKey{"marketing_consent_rate", "s1", "ship_to_store", "hour"}, 3, 5},
		{kpiKey{"marketing_consent_rate", "s2", "home_delivery", "day"}, 1, 1},
		{kpiKey{"marketing_consent_rate", "s3", "*", "hour"}, 6, 6},
		{kpiKey{"marketing_consent_rate", "*", "*", "day"}, 10, 12},
	} {
		bucket := at(0, "23:00")
		if c.key.gran == "day" {
			bucket = at(0, "00:00")
		}
		v, ok := got[c.key][bucket]
		if !ok {
			t.Errorf("%+v: no value at %s", c.key, bucket)
			continue
		}
		if v.Value != c.num/c.den || deref(v.Numerator) != deref(f(c.num)) || deref(v.Denominator) != deref(f(c.den)) {
			t.Errorf("%+v: %g (%g/%g), want %g/%g", c.key, v.Value, deref(v.Numerator), deref(v.Denominator), c.num, c.den)
		}
	}
	if n := len(got[kpiKey{"marketing_consent_rate", "*", "*", "hour"}]); n != 1 {
		t.Errorf("consent rate in %d hour buckets, want the run's one", n)
	}
}
