package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/adapters/postgres"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// TestAlarmsAPI: alarms as the bell writes them, listed for support (all
// stores) and staff (their own), filtered, with a summary; bad input names
// every field.
func TestAlarmsAPI(t *testing.T) {
	t.Parallel()
	s := newSystem(t, fastPolicy())
	store := postgres.NewStore(s.db)
	t0 := time.Date(2026, 11, 9, 14, 0, 0, 0, time.UTC)
	episode := func(signal, kpi, storeID string, opened time.Time) records.Alarm {
		return records.Alarm{Signal: signal, KPI: kpi, StoreID: storeID, Direction: "up", OpenedAt: opened, WindowHours: 24,
			Observed: 0.12, Expected: 0.05, ObservedEvents: 24, ExpectedEvents: 10, Volume: 200, Baseline: "rate over the previous 28 days",
			PValue: 2e-6, PeakRatio: 2.4, LastEvaluatedAt: opened, LastObserved: 0.12, LastExpected: 0.05}
	}
	resolved := episode("payment_declines", "payment_decline_rate", "hamburg-altona", t0.Add(-72*time.Hour))
	r := t0.Add(-48 * time.Hour)
	resolved.ResolvedAt = &r
	err := store.ApplyAlarms(t.Context(), records.AlarmApply{Through: t0, Episodes: []records.AlarmEpisode{
		{New: true, Alarm: episode("pickup_expiries", "pickup_expiry_rate", "berlin-mitte", t0)},
		{New: true, Alarm: resolved, NewlyResolved: true},
		{New: true, Alarm: episode("email_bounces", "messages_bounced_email", "*", t0.Add(-time.Hour))},
	}})
	if err != nil {
		t.Fatal(err)
	}
	list := func(token, query string) []string {
		t.Helper()
		status, h, body := s.getRaw("/v1/alarms"+query, s.tokens[token])
		if status != http.StatusOK || h.Get("Content-Type") != "application/json" {
			t.Fatalf("%s %s: %d %s %v", token, query, status, h.Get("Content-Type"), body)
		}
		out := []string{}
		for _, a := range body["alarms"].([]any) {
			m := a.(map[string]any)
			if !strings.Contains(m["summary"].(string), m["signal"].(string)) {
				t.Errorf("summary %q", m["summary"])
			}
			state := "resolved"
			if m["open"] == true {
				state = "open"
			}
			out = append(out, m["signal"].(string)+" "+m["store_id"].(string)+" "+state)
		}
		return out
	}
	for _, tc := range []struct {
		token, query string
		want         []string
	}{
		{"support", "", []string{"pickup_expiries berlin-mitte open", "email_bounces * open", "payment_declines hamburg-altona resolved"}},
		{"support", "?open=true", []string{"pickup_expiries berlin-mitte open", "email_bounces * open"}},
		{"support", "?store_id=*", []string{"email_bounces * open"}},
		{"support", "?signal=payment_declines", []string{"payment_declines hamburg-altona resolved"}},
		{"support", "?from=2026-11-08T00:00:00Z", []string{"pickup_expiries berlin-mitte open", "email_bounces * open"}},
		{"support", "?to=2026-11-09T00:00:00Z", []string{"payment_declines hamburg-altona resolved"}},
		{"berlin", "", []string{"pickup_expiries berlin-mitte open"}},
		{"hamburg", "?open=true", []string{}},
	} {
		if got := list(tc.token, tc.query); !slices.Equal(got, tc.want) {
			t.Errorf("%s %s:\n got %q\nwant %q", tc.token, tc.query, got, tc.want)
		}
	}
	s.checkStoreScope(t, "/v1/alarms")
	status, _, body := s.getRaw("/v1/alarms?store_id=..%2Fx&signal=vibes&open=yes&from=yesterday&to=2026-13-01&colour=red", s.tokens["support"])
	fields := problemFields(body)
	if want := []string{"store_id", "signal", "open", "from", "to", "colour"}; status != http.StatusBadRequest || !slices.Equal(fields, want) {
		t.Errorf("bad query: %d %q, want 400 %q (%v)", status, fields, want, body)
	}
}
