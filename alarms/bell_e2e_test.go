package alarms_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/everywherecommerce/fulfilment/adapters/postgres"
	"github.com/everywherecommerce/fulfilment/adapters/postgres/pgtest"
	"github.com/everywherecommerce/fulfilment/alarms"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// insertKPIs writes hourly values as the KPI job would.
func insertKPIs(t *testing.T, pool *pgxpool.Pool, vals []records.KPIValue) {
	t.Helper()
	rows := make([][]any, len(vals))
	for i, v := range vals {
		rows[i] = []any{v.KPI, v.StoreID, v.Method, v.Granularity, v.BucketStart, v.Value, v.Numerator, v.Denominator, v.Samples, v.BucketStart}
	}
	_, err := pool.CopyFrom(t.Context(), pgx.Identifier{"kpi_values"},
		[]string{"kpi", "store_id", "method", "granularity", "bucket_start", "value", "numerator", "denominator", "samples", "computed_at"},
		pgx.CopyFromRows(rows))
	if err != nil {
		t.Fatal(err)
	}
}

// webhook is a Slack-compatible webhook that records what it is sent and
// answers with the next status of its script (200 when the script is done).
type webhook struct {
	mu       sync.Mutex
	messages []map[string]any
	script   []int
}

func (w *webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.mu.Lock()
	defer w.mu.Unlock()
	status := http.StatusOK
	if len(w.script) > 0 {
		status, w.script = w.script[0], w.script[1:]
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		status = http.StatusBadRequest
	}
	if status == http.StatusOK {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			status = http.StatusBadRequest
		} else {
			w.messages = append(w.messages, m)
		}
	}
	rw.WriteHeader(status)
	_, _ = io.WriteString(rw, http.StatusText(status))
}

func (w *webhook) sent() []map[string]any {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]map[string]any(nil), w.messages...)
}

// TestBellInPostgreSQL runs the bell the way the schedule does — an
// evaluation every few hours, each catching up the hours since the last —
// over a simulated month in kpi_values with one shift, and checks that the
// episodes written are the ones the detector finds in one pass, that an
// evaluation repeated for the same hour changes nothing, and that each
// opening and resolution is sent to the webhook once.
func TestBellInPostgreSQL(t *testing.T) {
	ctx := t.Context()
	pool := pgtest.New(t)
	store := postgres.NewStore(pool)
	shift := alarms.SimShift{Store: "big", What: "expiry", From: 21 * 24, To: 28 * 24, Factor: 2}
	data, vals := alarms.Simulate(7, alarms.SimStart, 35, []alarms.SimShift{shift})
	insertKPIs(t, pool, vals)

	// What the detector finds in one pass from day 14 on.
	start := alarms.SimStart.Add(14 * 24 * time.Hour)
	det := alarms.NewDetector(alarms.DefaultConfig(), data, alarms.Signals(), nil)
	var changes []alarms.Change
	for h := start; !h.After(data.End()); h = h.Add(time.Hour) {
		changes = append(changes, det.Step(h)...)
	}
	want := alarms.Episodes(changes)
	if len(want) == 0 {
		t.Fatal("the simulated shift rang no alarm in one pass")
	}

	hook := &webhook{script: []int{http.StatusInternalServerError}}
	srv := httptest.NewServer(hook)
	defer srv.Close()
	bell := &alarms.Bell{Store: store, Config: alarms.DefaultConfig(), Signals: alarms.Signals(), Channels: []string{"webhook"}}
	notifier := &alarms.Notifier{Store: store, WebhookURL: srv.URL, ConsoleURL: "https://shop.example"}
	for h := start; !h.After(data.End()); h = h.Add(5 * time.Hour) {
		if _, err := bell.EvaluateThrough(ctx, h.Add(17*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, err := notifier.SendPending(ctx); err != nil {
			t.Fatal(err)
		}
	}
	last, err := bell.EvaluateThrough(ctx, data.End())
	if err != nil {
		t.Fatal(err)
	}
	again, err := bell.EvaluateThrough(ctx, data.End().Add(30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if again.Opened != 0 || again.Resolved != 0 || !again.Through.Equal(last.Through) {
		t.Fatalf("evaluating the same hour again: %+v after %+v", again, last)
	}
	if _, err := notifier.SendPending(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := store.Alarms(ctx, records.AlarmFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d alarms written, the detector found %d: %+v", len(got), len(want), got)
	}
	byKey := map[string]records.Alarm{}
	for _, a := range got {
		byKey[a.Signal+"/"+a.StoreID+"/"+a.OpenedAt.String()] = a
	}
	resolved := 0
	for _, e := range want {
		a, ok := byKey[e.Alarm.Signal+"/"+e.Alarm.StoreID+"/"+e.Alarm.OpenedAt.String()]
		if !ok {
			t.Fatalf("episode %s of %s opened %s was not written", e.Alarm.Signal, e.Alarm.StoreID, e.Alarm.OpenedAt)
		}
		if (a.ResolvedAt == nil) != (e.Alarm.ResolvedAt == nil) || (a.ResolvedAt != nil && !a.ResolvedAt.Equal(*e.Alarm.ResolvedAt)) {
			t.Errorf("%s of %s: resolved %v, the detector says %v", a.Signal, a.StoreID, a.ResolvedAt, e.Alarm.ResolvedAt)
		}
		if a.Observed != e.Alarm.Observed || a.Expected != e.Alarm.Expected || a.Baseline != e.Alarm.Baseline {
			t.Errorf("%s of %s: observed %g expected %g (%s), the detector says %g %g (%s)", a.Signal, a.StoreID,
				a.Observed, a.Expected, a.Baseline, e.Alarm.Observed, e.Alarm.Expected, e.Alarm.Baseline)
		}
		if a.BaselineParts == nil || e.Alarm.BaselineParts == nil || *a.BaselineParts != *e.Alarm.BaselineParts {
			t.Errorf("%s of %s: baseline parts %+v, the detector says %+v", a.Signal, a.StoreID, a.BaselineParts, e.Alarm.BaselineParts)
		}
		if a.ResolvedAt != nil {
			resolved++
		}
	}
	// Each opening and each resolution once; the first try answered 500 and
	// was sent again on the next run.
	msgs := hook.sent()
	if len(msgs) != len(want)+resolved {
		t.Fatalf("%d webhook messages for %d openings and %d resolutions", len(msgs), len(want), resolved)
	}
	var first string
	for _, m := range msgs {
		text, _ := m["text"].(string)
		if strings.Contains(text, "pickup_expiries at store big") && strings.HasPrefix(text, "Alarm:") {
			first = text
		}
		blocks, _ := m["blocks"].([]any)
		if len(blocks) != 1 {
			t.Errorf("message %q: %d blocks, want 1 section", text, len(blocks))
		}
	}
	if first == "" {
		t.Fatalf("no webhook message about the big store's pickup expiries: %v", msgs)
	}
	t.Logf("webhook: %s", first)
	var statuses []string
	if err := pool.QueryRow(ctx, `select array_agg(distinct status) from alarm_notifications`).Scan(&statuses); err != nil {
		t.Fatal(err)
	}
	if len(statuses) != 1 || statuses[0] != "sent" {
		t.Fatalf("message statuses %v, want all sent", statuses)
	}
}

// TestInterruptedWebhookIsNotSentAgain: a sender that dies between claiming a
// message and recording it leaves it "sending"; the next sender marks it
// unconfirmed and does not send it (the webhook has no idempotency key).
func TestInterruptedWebhookIsNotSentAgain(t *testing.T) {
	ctx := t.Context()
	pool := pgtest.New(t)
	store := postgres.NewStore(pool)
	at := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	err := store.ApplyAlarms(ctx, records.AlarmApply{Through: at, Channels: []string{"webhook"}, NotifyStatus: "pending",
		Episodes: []records.AlarmEpisode{{New: true, Alarm: records.Alarm{Signal: "payment_declines", KPI: "payment_decline_rate", StoreID: "s1",
			Direction: "up", OpenedAt: at, WindowHours: 24, Observed: 0.09, Expected: 0.03, Baseline: "b", PValue: 1e-7, PeakRatio: 3, LastEvaluatedAt: at}}}})
	if err != nil {
		t.Fatal(err)
	}
	claimed, err := store.ClaimAlarmNotifications(ctx, 10, time.Hour)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claimed %v, %v", claimed, err)
	}
	// The sender dies here. Much later the next one runs.
	if _, err := pool.Exec(ctx, `update alarm_notifications set claimed_at = claimed_at - interval '1 hour'`); err != nil {
		t.Fatal(err)
	}
	hook := &webhook{}
	srv := httptest.NewServer(hook)
	defer srv.Close()
	s, err := (&alarms.Notifier{Store: store, WebhookURL: srv.URL}).SendPending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(hook.sent()) != 0 || s.Sent != 0 {
		t.Fatalf("sent %d after an interrupted send: %v", s.Sent, hook.sent())
	}
	var status string
	if err := pool.QueryRow(ctx, `select status from alarm_notifications`).Scan(&status); err != nil || status != "unconfirmed" {
		t.Fatalf("status %q (%v), want unconfirmed", status, err)
	}
	// A webhook that refuses for good (400) is failed, not retried.
	err = store.ApplyAlarms(ctx, records.AlarmApply{ExpectedThrough: at, Through: at.Add(time.Hour), Channels: []string{"webhook"}, NotifyStatus: "pending",
		Episodes: []records.AlarmEpisode{{New: true, Alarm: records.Alarm{Signal: "email_bounces", KPI: "messages_bounced_email", StoreID: "s1",
			Direction: "up", OpenedAt: at.Add(time.Hour), WindowHours: 24, Observed: 0.05, Expected: 0.01, Baseline: "b", PValue: 1e-7, PeakRatio: 5, LastEvaluatedAt: at}}}})
	if err != nil {
		t.Fatal(err)
	}
	hook.script = []int{http.StatusBadRequest}
	if s, err = (&alarms.Notifier{Store: store, WebhookURL: srv.URL}).SendPending(ctx); err != nil || s.Failed != 1 {
		t.Fatalf("%+v, %v: want one failed", s, err)
	}
	// The watermark refuses an outcome computed from an old state.
	err = store.ApplyAlarms(ctx, records.AlarmApply{ExpectedThrough: at, Through: at.Add(2 * time.Hour)})
	if err == nil || !strings.Contains(err.Error(), "another alarm evaluation") {
		t.Fatalf("apply on a stale watermark: %v", err)
	}
}
