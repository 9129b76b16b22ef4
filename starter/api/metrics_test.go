package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/starter/api"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// tokenStore knows one staff token and nothing else: the embedded api.Store is
// nil, so a handler that reads more fails the test.
type tokenStore struct{ api.Store }

const (
	staffToken   = "tok-anna-secret"
	staffSubject = "anna"
)

func (tokenStore) Authenticate(_ context.Context, token string) (records.Principal, error) {
	if token != staffToken {
		return records.Principal{}, activities.ErrNotFound
	}
	return records.Principal{Subject: staffSubject, Role: "staff", StoreID: "berlin-mitte"}, nil
}

// Location knows the token's store, which /v1/me names.
func (tokenStore) Location(_ context.Context, id string) (activities.Location, error) {
	return activities.Location{ID: id, Kind: activities.KindStore, Name: "Berlin Mitte", TimeZone: "Europe/Berlin"}, nil
}

// observedServer is the starter on tokenStore, logging JSON lines into the buffer.
func observedServer(t *testing.T) (http.Handler, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return api.New(api.Config{}, nil, tokenStore{}, nil, logger).Handler(), &logs
}

// personal is what the requests below carry that no log line or metric may
// show: order IDs and customer names in paths, query strings, bodies, tokens.
var personal = []string{"A-10001", "Jane", "customer=", "A-secret", staffToken, "Bearer"}

func send(h http.Handler, method, target, token, body string) int {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

func TestMetricsCountRequestsByRoutePattern(t *testing.T) {
	t.Parallel()
	h, _ := observedServer(t)
	for _, req := range []struct {
		method, target string
		want           int
	}{
		{http.MethodGet, "/healthz", http.StatusOK},
		{http.MethodGet, "/v1/orders/A-10001?customer=Jane+Doe", http.StatusUnauthorized},
		{http.MethodGet, "/v1/orders/A-10002", http.StatusUnauthorized},
		{http.MethodGet, "/nowhere/A-secret", http.StatusNotFound},
	} {
		if got := send(h, req.method, req.target, "", ""); got != req.want {
			t.Fatalf("%s %s = %d, want %d", req.method, req.target, got, req.want)
		}
	}

	// /metrics needs no token.
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics = %d %q, want 200 text/plain", rec.Code, rec.Header().Get("Content-Type"))
	}
	body := rec.Body.String()
	for _, want := range []string{
		`fulfilment_http_requests_total{route="GET /healthz",status="200"} 1`,
		`fulfilment_http_requests_total{route="GET /v1/orders/{id}",status="401"} 2`,
		`fulfilment_http_requests_total{route="unmatched",status="404"} 1`,
		`fulfilment_http_request_duration_seconds_count{route="GET /v1/orders/{id}"} 2`,
		`fulfilment_http_request_duration_seconds_bucket{route="GET /healthz",le="+Inf"} 1`,
		"go_goroutines ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, p := range personal {
		if strings.Contains(body, p) {
			t.Errorf("/metrics shows %q", p)
		}
	}
}

func TestMetricsRegistryIsTheServers(t *testing.T) {
	t.Parallel()
	// Two servers in one process (as in the tests) count apart: no global registry.
	a, _ := observedServer(t)
	b, _ := observedServer(t)
	send(a, http.MethodGet, "/healthz", "", "")
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	rec := httptest.NewRecorder()
	b.ServeHTTP(rec, req)
	if strings.Contains(rec.Body.String(), `route="GET /healthz"`) {
		t.Error("a request to one server is counted by another")
	}
}

// logLine is one "http request" line.
type logLine struct {
	Level      string   `json:"level"`
	Msg        string   `json:"msg"`
	Method     string   `json:"method"`
	Route      string   `json:"route"`
	Status     int      `json:"status"`
	DurationMS *float64 `json:"duration_ms"`
	Subject    string   `json:"subject"`
	Role       string   `json:"role"`
}

func requestLines(t *testing.T, logs *bytes.Buffer) []logLine {
	t.Helper()
	var lines []logLine
	for _, raw := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var l logLine
		if err := json.Unmarshal([]byte(raw), &l); err != nil {
			t.Fatalf("log line %q: %v", raw, err)
		}
		if l.Msg == "http request" {
			lines = append(lines, l)
		}
	}
	return lines
}

func TestRequestLogLineWithoutPersonalData(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                        string
		method, target, token, body string
		want                        logLine
	}{
		{name: "authenticated", method: http.MethodGet, target: "/v1/me?customer=Jane+Doe", token: staffToken,
			want: logLine{Level: "INFO", Method: "GET", Route: "GET /v1/me", Status: 200, Subject: staffSubject, Role: "staff"}},
		{name: "refused role still names the caller", method: http.MethodPost, target: "/v1/orders", token: staffToken,
			body: `{"order_id":"A-10001","customer":{"name":"Jane Doe"}}`,
			want: logLine{Level: "INFO", Method: "POST", Route: "POST /v1/orders", Status: 403, Subject: staffSubject, Role: "staff"}},
		{name: "no token", method: http.MethodGet, target: "/v1/orders/A-10001?customer=Jane", token: "",
			want: logLine{Level: "INFO", Method: "GET", Route: "GET /v1/orders/{id}", Status: 401}},
		{name: "unknown token", method: http.MethodGet, target: "/v1/orders/A-10001", token: "A-secret",
			want: logLine{Level: "INFO", Method: "GET", Route: "GET /v1/orders/{id}", Status: 401}},
		{name: "no route", method: http.MethodGet, target: "/nowhere/A-secret?customer=Jane", token: staffToken,
			want: logLine{Level: "INFO", Method: "GET", Route: "unmatched", Status: 404}},
		{name: "probe at debug level", method: http.MethodGet, target: "/healthz",
			want: logLine{Level: "DEBUG", Method: "GET", Route: "GET /healthz", Status: 200}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, logs := observedServer(t)
			if got := send(h, tc.method, tc.target, tc.token, tc.body); got != tc.want.Status {
				t.Fatalf("%s %s = %d, want %d", tc.method, tc.target, got, tc.want.Status)
			}
			lines := requestLines(t, logs)
			if len(lines) != 1 {
				t.Fatalf("%d request lines, want 1:\n%s", len(lines), logs)
			}
			got := lines[0]
			if got.DurationMS == nil || *got.DurationMS < 0 {
				t.Errorf("the line has no duration_ms: %s", logs)
			}
			got.DurationMS, got.Msg = nil, ""
			if got != tc.want {
				t.Errorf("request line = %+v, want %+v", got, tc.want)
			}
			for _, p := range personal {
				if strings.Contains(logs.String(), p) {
					t.Errorf("the log shows %q:\n%s", p, logs)
				}
			}
		})
	}
}
