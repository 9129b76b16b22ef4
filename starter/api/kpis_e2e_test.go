package api_test

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"slices"
	"testing"
	"time"
)

// seedKPIValues writes computed KPI values as the kpis schedule would: two
// stores and the totals, hour and day buckets.
func seedKPIValues(t *testing.T, s *system) {
	t.Helper()
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	computed := day.Add(23 * time.Hour)
	for _, v := range []struct {
		kpi, store, method, gran string
		bucket                   time.Time
		value                    float64
		num, den                 any
		samples                  int
	}{
		{"orders_placed", "berlin-mitte", "ship_to_store", "day", day, 4, nil, nil, 4},
		{"orders_placed", "berlin-mitte", "ship_to_store", "hour", day.Add(8 * time.Hour), 2, nil, nil, 2},
		{"orders_placed", "hamburg-altona", "home_delivery", "day", day, 3, nil, nil, 3},
		{"orders_placed", "*", "*", "day", day, 7, nil, nil, 7},
		{"payment_decline_rate", "berlin-mitte", "ship_to_store", "day", day, 0.25, 1.0, 4.0, 4},
		{"payment_decline_rate", "hamburg-altona", "home_delivery", "day", day.AddDate(0, 0, -1), 0, 0.0, 2.0, 2},
		{"attention_age_max", "*", "*", "hour", day.Add(23 * time.Hour), 3600, nil, nil, 2},
	} {
		if _, err := s.db.Exec(t.Context(), `insert into kpi_values (kpi, store_id, method, granularity, bucket_start, value, numerator, denominator, samples, computed_at)
			values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, v.kpi, v.store, v.method, v.gran, v.bucket, v.value, v.num, v.den, v.samples, computed); err != nil {
			t.Fatal(err)
		}
	}
}

// kpiRows is what a JSON answer lists: "kpi store method granularity bucket=value".
func kpiRows(t *testing.T, body map[string]any) []string {
	t.Helper()
	vals, ok := body["values"].([]any)
	if !ok {
		t.Fatalf("no values array: %v", body)
	}
	out := []string{}
	for _, v := range vals {
		m := v.(map[string]any)
		out = append(out, m["kpi"].(string)+" "+m["store_id"].(string)+" "+m["method"].(string)+" "+m["granularity"].(string)+" "+m["bucket_start"].(string))
	}
	slices.Sort(out)
	return out
}

func TestKPIAPIScopesFiltersAndFormats(t *testing.T) {
	t.Parallel()
	s := newSystem(t, fastPolicy())
	seedKPIValues(t, s)
	const (
		bDay  = "berlin-mitte ship_to_store day 2026-03-02T00:00:00Z"
		bHour = "berlin-mitte ship_to_store hour 2026-03-02T08:00:00Z"
		hDay  = "hamburg-altona home_delivery day 2026-03-02T00:00:00Z"
		hPrev = "hamburg-altona home_delivery day 2026-03-01T00:00:00Z"
		total = "* * day 2026-03-02T00:00:00Z"
		snap  = "* * hour 2026-03-02T23:00:00Z"
	)
	// Every KPI added in the second round is accepted as a filter.
	added := ""
	for _, k := range []string{"cancellation_rate", "pickup_expiry_rate", "transfer_time_p50", "transfer_time_p90",
		"late_transfer_rate", "placed_to_ready_p50", "placed_to_ready_p90", "short_picks", "short_pick_rate",
		"carrier_problems", "orders_needing_attention", "attention_age_p50", "attention_age_max",
		"message_failure_rate_email", "message_failure_rate_sms", "message_failure_rate_push", "email_bounce_rate"} {
		added += "&kpi=" + k
	}
	t.Run("scopes and filters", func(t *testing.T) {
		for _, tc := range []struct {
			token, query string
			want         []string
		}{
			{"support", "", []string{"attention_age_max " + snap, "orders_placed " + total, "orders_placed " + bDay, "orders_placed " + bHour, "orders_placed " + hDay, "payment_decline_rate " + bDay, "payment_decline_rate " + hPrev}},
			{"support", "?kpi=payment_decline_rate", []string{"payment_decline_rate " + bDay, "payment_decline_rate " + hPrev}},
			{"support", "?kpi=payment_decline_rate&kpi=orders_placed&store_id=*", []string{"orders_placed " + total}},
			{"support", "?store_id=hamburg-altona&method=home_delivery", []string{"orders_placed " + hDay, "payment_decline_rate " + hPrev}},
			{"support", "?granularity=hour", []string{"attention_age_max " + snap, "orders_placed " + bHour}},
			{"support", "?granularity=hour" + added, []string{"attention_age_max " + snap}},
			{"support", "?from=2026-03-02T00:00:00Z&to=2026-03-02T08:00:00Z&store_id=berlin-mitte", []string{"orders_placed " + bDay, "payment_decline_rate " + bDay}},
			{"support", "?to=2026-03-02T00:00:00%2B01:00", []string{"payment_decline_rate " + hPrev}},
			{"support", "?kpi=messages_sent_email", []string{}},
			// Staff: their own store whether they say so or not.
			{"berlin", "", []string{"orders_placed " + bDay, "orders_placed " + bHour, "payment_decline_rate " + bDay}},
			{"berlin", "?store_id=berlin-mitte&granularity=day&kpi=orders_placed", []string{"orders_placed " + bDay}},
			{"hamburg", "?method=ship_to_store", []string{}},
		} {
			status, h, body := s.getRaw("/v1/kpis"+tc.query, s.tokens[tc.token])
			if status != http.StatusOK || h.Get("Content-Type") != "application/json" {
				t.Errorf("%s %s: %d %s %v", tc.token, tc.query, status, h.Get("Content-Type"), body)
				continue
			}
			if got := kpiRows(t, body); !slices.Equal(got, tc.want) {
				t.Errorf("%s %s:\n got %q\nwant %q", tc.token, tc.query, got, tc.want)
			}
			if body["truncated"] != false {
				t.Errorf("%s %s: truncated %v", tc.token, tc.query, body["truncated"])
			}
		}
	})
	t.Run("a value as stored", func(t *testing.T) {
		_, _, body := s.getRaw("/v1/kpis?kpi=payment_decline_rate&store_id=berlin-mitte", s.tokens["support"])
		v := body["values"].([]any)[0].(map[string]any)
		if v["value"] != 0.25 || v["numerator"] != 1.0 || v["denominator"] != 4.0 || v["samples"] != 4.0 || v["computed_at"] != "2026-03-02T23:00:00Z" {
			t.Errorf("value %v", v)
		}
	})
	t.Run("refused", func(t *testing.T) {
		s.checkStoreScope(t, "/v1/kpis")
	})
	t.Run("bad input names every field", func(t *testing.T) {
		status, h, body := s.getRaw("/v1/kpis?kpi=orders_placed&kpi=nope&store_id=..%2Fx&method=drone&granularity=week&from=yesterday&to=2026-13-01&format=xml&colour=red", s.tokens["support"])
		if status != http.StatusBadRequest || h.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("%d %s %v", status, h.Get("Content-Type"), body)
		}
		fields := problemFields(body)
		want := []string{"kpi", "store_id", "method", "granularity", "from", "to", "format", "colour"}
		if !slices.Equal(fields, want) {
			t.Errorf("fields %q, want %q (%v)", fields, want, body)
		}
		status, _, body = s.getRaw("/v1/kpis?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z&granularity=day&granularity=hour", s.tokens["berlin"])
		if status != http.StatusBadRequest || len(body["errors"].([]any)) != 2 {
			t.Errorf("to before from, granularity twice: %d %v", status, body)
		}
	})
	t.Run("CSV", func(t *testing.T) {
		req := func(query, accept string) (int, http.Header, [][]string) {
			r, err := http.NewRequest(http.MethodGet, s.url+"/v1/kpis"+query, nil)
			if err != nil {
				t.Fatal(err)
			}
			r.Header.Set("Authorization", "Bearer "+s.tokens["berlin"])
			if accept != "" {
				r.Header.Set("Accept", accept)
			}
			res, err := s.http.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var buf bytes.Buffer
			if _, err := buf.ReadFrom(res.Body); err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(&buf).ReadAll()
			if err != nil {
				t.Fatalf("%s: not CSV: %v: %s", query, err, buf.String())
			}
			return res.StatusCode, res.Header, rows
		}
		want := [][]string{
			{"kpi", "store_id", "method", "granularity", "bucket_start", "value", "numerator", "denominator", "samples", "computed_at"},
			{"orders_placed", "berlin-mitte", "ship_to_store", "day", "2026-03-02T00:00:00Z", "4", "", "", "4", "2026-03-02T23:00:00Z"},
			{"payment_decline_rate", "berlin-mitte", "ship_to_store", "day", "2026-03-02T00:00:00Z", "0.25", "1", "4", "4", "2026-03-02T23:00:00Z"},
		}
		for _, tc := range []struct{ query, accept string }{
			{"?granularity=day", "text/csv"},
			{"?granularity=day", "application/json;q=0.5, text/csv"},
			{"?granularity=day&format=csv", ""},
		} {
			status, h, rows := req(tc.query, tc.accept)
			if status != http.StatusOK || h.Get("Content-Type") != "text/csv; charset=utf-8" || !slices.EqualFunc(rows, want, slices.Equal) {
				t.Errorf("%s %q: %d %s\n got %q\nwant %q", tc.query, tc.accept, status, h.Get("Content-Type"), rows, want)
			}
		}
	})
}
