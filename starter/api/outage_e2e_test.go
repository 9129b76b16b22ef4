package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/everywherecommerce/fulfilment/adapters/postgres"
	"github.com/everywherecommerce/fulfilment/starter/api"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// Timeouts of the starters under outage: short, so that a hung dependency
// answers 503 within seconds.
const (
	outageReadTimeout   = time.Second
	outageUpdateTimeout = 2 * time.Second
	// outageAnswerWithin is when every answer must have come: a request may take
	// ReadTimeout + UpdateTimeout, plus the test machine's slack.
	outageAnswerWithin = outageReadTimeout + outageUpdateTimeout + 3*time.Second
)

// closedPort is an address where nothing listens: connections are refused.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// blackHole is an address that accepts connections and never answers: a hung
// server.
func blackHole(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return // closed by the cleanup
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close() // the test is over; nothing waits on it
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().String()
}

// outageStarter serves the API of s with another Temporal client or store and
// the outage timeouts.
func outageStarter(t *testing.T, s *system, tc api.TemporalClient, store api.Store) string {
	t.Helper()
	cfg := api.Config{TaskQueue: "outage-" + s.suffix, Policy: fastPolicy(), Sandbox: true,
		ReadTimeout: outageReadTimeout, UpdateTimeout: outageUpdateTimeout, PickupCodes: s.providers.PickupCodes}
	srv := httptest.NewServer(api.New(cfg, tc, store, nil, slog.New(slog.NewTextHandler(io.Discard, nil))).Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

// getFrom sends a GET with the token to the starter at base and decodes the
// answer; it waits no longer than checkUnavailable does.
func getFrom(t *testing.T, s *system, base, path, token string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.tokens[token])
	resp, err := (&http.Client{Timeout: 4 * outageAnswerWithin}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("GET %s: %d: %v", path, resp.StatusCode, err)
	}
	return resp.StatusCode, out
}

// outageRequest is one request that needs the dependency that is down.
type outageRequest struct {
	method, path, token string
	body                any
}

// checkUnavailable sends each request and wants a 503 problem with Retry-After,
// in time.
func checkUnavailable(t *testing.T, s *system, base string, requests []outageRequest) {
	t.Helper()
	for _, rq := range requests {
		t.Run(strings.TrimSpace(rq.token+" "+rq.method+" "+rq.path), func(t *testing.T) {
			var body io.Reader
			if rq.body != nil {
				b, err := json.Marshal(rq.body)
				if err != nil {
					t.Fatal(err)
				}
				body = strings.NewReader(string(b))
			}
			req, err := http.NewRequest(rq.method, base+rq.path, body)
			if err != nil {
				t.Fatal(err)
			}
			if rq.token != "" {
				req.Header.Set("Authorization", "Bearer "+s.tokens[rq.token])
			}
			if body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			start := time.Now()
			// The client waits longer than the starter may take: a hang is a failure.
			resp, err := (&http.Client{Timeout: 4 * outageAnswerWithin}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			took := time.Since(start)
			var p struct {
				Type string `json:"type"`
			}
			_ = json.Unmarshal(got, &p) // a body that is no problem fails below
			if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
				!isProblem(resp.Header) || p.Type != "https://everywhere-fulfilment.dev/problems/unavailable" {
				t.Errorf("%d (Retry-After %q) %s, want 503 unavailable with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"), got)
			}
			if took > outageAnswerWithin {
				t.Errorf("answered after %s, want within %s", took, outageAnswerWithin)
			}
		})
	}
}

// TestTemporalOutage: with Temporal refusing connections or hanging, every
// route that needs it answers 503 with Retry-After within its timeout, never
// 500 and never a client timeout; nothing changes, and the checkout's order ID
// stays usable. Reading an order needs it only when asked to be consistent.
func TestTemporalOutage(t *testing.T) {
	t.Parallel()
	s := newSystem(t, fastPolicy())
	id, newID := "OUT-T-"+s.suffix, "OUT-TN-"+s.suffix
	s.place(id, "ship_to_store")
	s.waitStage(id, "picking")

	for name, addr := range map[string]string{"refused": closedPort(t), "hung": blackHole(t)} {
		t.Run(name, func(t *testing.T) {
			tc, err := client.NewLazyClient(client.Options{HostPort: addr, Namespace: "default",
				Logger: tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(tc.Close)
			base := outageStarter(t, s, tc, s.store)
			// Reading an order needs no Temporal: it comes from the projection.
			for _, token := range []string{"support", "berlin"} {
				if st, b := getFrom(t, s, base, "/v1/orders/"+id, token); st != http.StatusOK || b["stage"] != "picking" {
					t.Errorf("GET /v1/orders/%s as %s with Temporal down: %d %v, want 200 from the projection", id, token, st, b)
				}
			}
			checkUnavailable(t, s, base, []outageRequest{
				{method: http.MethodGet, path: "/readyz"},
				{method: http.MethodGet, path: "/v1/orders/" + id + "?consistent=true", token: "support"},
				{method: http.MethodGet, path: "/v1/orders/" + id + "?consistent=true", token: "berlin"},
				{method: http.MethodPost, path: "/v1/orders", token: "checkout", body: s.orderBody(newID, "ship_to_store")},
				{method: http.MethodPost, path: "/v1/orders/" + id + "/cancel", token: "support", body: map[string]string{"reason": "outage test"}},
				{method: http.MethodPost, path: "/v1/orders/" + id + "/resend-notification", token: "support", body: map[string]string{"touchpoint": "order-confirmed"}},
				{method: http.MethodPost, path: "/v1/stores/berlin-mitte/orders/" + id + "/start-pick", token: "berlin", body: map[string]any{}},
				{method: http.MethodPost, path: "/v1/stores/berlin-mitte/orders/" + id + "/pick", token: "berlin",
					body: map[string]any{"lines": []map[string]any{{"sku": "WATCH-001", "quantity": 1}, {"sku": "STRAP-LEA-20", "quantity": 2}}}},
			})
		})
	}
	// Temporal is back: nothing happened to the order, and the checkout that
	// failed goes through under the same order ID.
	if st, b := s.do(http.MethodGet, "/v1/orders/"+id, s.tokens["support"], nil); st != http.StatusOK || b["stage"] != "picking" {
		t.Errorf("the order after the outage: %d %v, want still picking", st, b)
	}
	s.place(newID, "ship_to_store")
}

// deadDatabase is a PostgreSQL that does not answer, but for the token lookup:
// the handlers' own reads and writes fail, not the authentication before them.
type deadDatabase struct {
	api.Store
	tokens *postgres.Store
}

func (d deadDatabase) Authenticate(ctx context.Context, token string) (records.Principal, error) {
	return d.tokens.Authenticate(ctx, token)
}

// TestPostgreSQLOutage: with PostgreSQL refusing connections or hanging, every
// route that reads or writes it answers 503 with Retry-After within its
// timeout; nothing changes, and the checkout's order ID stays usable.
func TestPostgreSQLOutage(t *testing.T) {
	t.Parallel()
	s := newSystem(t, fastPolicy())
	id, newID := "OUT-P-"+s.suffix, "OUT-PN-"+s.suffix
	s.place(id, "ship_to_store")
	s.waitStage(id, "picking")

	for name, addr := range map[string]string{"refused": closedPort(t), "hung": blackHole(t)} {
		t.Run(name, func(t *testing.T) {
			pool, err := pgxpool.New(context.Background(), "postgres://app@"+addr+"/fulfilment?sslmode=disable&connect_timeout=60")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(pool.Close)
			dead := postgres.NewStore(pool)
			base := outageStarter(t, s, s.client, deadDatabase{Store: dead, tokens: s.store})
			checkUnavailable(t, s, base, []outageRequest{
				{method: http.MethodGet, path: "/readyz"},
				{method: http.MethodGet, path: "/v1/orders?store=berlin-mitte", token: "support"},
				{method: http.MethodGet, path: "/v1/orders/" + id, token: "berlin"},
				{method: http.MethodGet, path: "/v1/orders/" + id, token: "support"},
				{method: http.MethodGet, path: "/v1/stores/berlin-mitte/work", token: "berlin"},
				{method: http.MethodPost, path: "/v1/orders", token: "checkout", body: s.orderBody(newID, "ship_to_store")},
				{method: http.MethodPut, path: "/v1/customers/C-" + id + "/preferences", token: "support",
					body: map[string]any{"email": "mia@example.com", "locale": "en", "time_zone": "Europe/London", "channels": []string{"email"}}},
				{method: http.MethodPost, path: "/v1/stores/berlin-mitte/orders/" + id + "/start-pick", token: "berlin", body: map[string]any{}},
				{method: http.MethodPost, path: "/v1/stores/berlin-mitte/orders/" + id + "/pickup", token: "berlin", body: map[string]string{"code": "123456"}},
			})
			// The token lookup itself: every authenticated route is a 503.
			checkUnavailable(t, s, outageStarter(t, s, s.client, dead), []outageRequest{
				{method: http.MethodGet, path: "/v1/me", token: "support"},
				{method: http.MethodGet, path: "/v1/orders/" + id, token: "support"},
			})
		})
	}
	if st, b := s.do(http.MethodGet, "/v1/orders/"+id, s.tokens["support"], nil); st != http.StatusOK || b["stage"] != "picking" {
		t.Errorf("the order after the outage: %d %v, want still picking", st, b)
	}
	s.place(newID, "ship_to_store")
}
