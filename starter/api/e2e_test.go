package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"github.com/jackc/pgx/v5/pgxpool"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/adapters/postgres"
	"github.com/everywherecommerce/fulfilment/adapters/postgres/pgtest"
	tadapter "github.com/everywherecommerce/fulfilment/adapters/temporal"
	"github.com/everywherecommerce/fulfilment/adapters/temporal/temporaltest"
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/links"
	"github.com/everywherecommerce/fulfilment/messages"
	"github.com/everywherecommerce/fulfilment/pickupcode"
	"github.com/everywherecommerce/fulfilment/starter/api"
	"github.com/everywherecommerce/fulfilment/tracing"
	"github.com/everywherecommerce/fulfilment/worker/registry"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// system is the whole stack in one process: the real dev server and PostgreSQL
// (from make test), the worker with sandbox providers, and the starter over HTTP.
type system struct {
	t    *testing.T
	url  string
	http *http.Client
	// dataConverter decrypts this system's payloads (for replaying histories).
	dataConverter converter.DataConverter
	store         *postgres.Store
	db            *pgxpool.Pool // the store's database, for rows no API shows
	client        client.Client
	tokens        map[string]string
	suffix        string
	// providers are the sandbox fakes the worker uses.
	providers registry.Providers
	// patience is how long waitStage and pickupCode wait.
	patience time.Duration
	// taskQueue is the one this system's worker polls and its starter starts on.
	taskQueue string
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// systemSettings are what a systemOption may change; the webhook tests give the
// starter provider secrets and slow the sandbox carrier down.
type systemSettings struct {
	api         api.Config
	carrierStep time.Duration
	// faultRate fails that share of sandbox provider calls (chaos tests).
	faultRate float64
	faultSeed uint64
	// tracing, when set, traces the client (worker and starter), the store's
	// pool and the API as the worker and the starter do with tracing on.
	tracing *tracing.Tracing
	// logs, when set, receives the system's log lines (text, with trace IDs
	// as the processes log them); they are discarded otherwise.
	logs io.Writer
	// carrier, when set, stands between the worker and the sandbox carrier.
	carrier *testCarrier
}

// systemOption changes the system newSystem builds.
type systemOption func(*systemSettings)

func newSystem(t *testing.T, policy workflows.Policy, opts ...systemOption) *system {
	t.Helper()
	ns := os.Getenv("TEMPORAL_NAMESPACE")
	if ns == "" {
		ns = "default"
	}
	return newSystemIn(t, policy, ns, opts...)
}

// newSystemIn builds the system on the given Temporal namespace.
func newSystemIn(t *testing.T, policy workflows.Policy, ns string, opts ...systemOption) *system {
	t.Helper()
	settings := systemSettings{carrierStep: 300 * time.Millisecond}
	for _, o := range opts {
		o(&settings)
	}
	addr := temporaltest.Address(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	logs := settings.logs
	if logs == nil {
		logs = io.Discard
	}
	logger := slog.New(tracing.LogHandler(slog.NewTextHandler(logs, nil)))

	db := pgtest.New(t)
	store := postgres.NewStore(db)
	var interceptors []interceptor.ClientInterceptor
	if settings.tracing != nil {
		pc := db.Config()
		pc.ConnConfig.Tracer = postgres.NewTracer(settings.tracing.Provider())
		traced, err := pgxpool.NewWithConfig(ctx, pc)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(traced.Close)
		store = postgres.NewStore(traced)
		if interceptors, err = settings.tracing.Interceptors(); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	// The test-only key of the recorded histories, so that they can be replayed.
	secret, err := os.ReadFile(replayKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := tadapter.ParseKeys("replay:" + strings.TrimSpace(string(secret)))
	if err != nil {
		t.Fatal(err)
	}
	codec, err := tadapter.NewCodec(keys)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(tadapter.ClientOptions(client.Options{HostPort: addr, Namespace: ns, Interceptors: interceptors}, codec, logger))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)

	// A task queue of its own, so parallel tests never run each other's orders.
	tq := "e2e-" + randomHex(t, 6)
	providers, sim := registry.Sandbox(store, c, registry.SandboxConfig{
		TrackingBaseURL: "http://tracking.test/", CarrierStep: settings.carrierStep, FaultRate: settings.faultRate, FaultSeed: settings.faultSeed, Logger: logger,
	})
	if settings.carrier != nil {
		settings.carrier.Carrier = providers.Carrier
		providers.Carrier = settings.carrier
	}
	w := worker.New(c, tq, worker.Options{})
	providers.Links = mustSigner(t, keys)
	if providers.PickupCodes, err = pickupcode.New(tadapter.Secrets(keys)...); err != nil {
		t.Fatal(err)
	}
	if err := registry.Register(w, store, providers); err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	go func() { _ = sim.Run(ctx) }() // returns nil when the test's context ends

	cfg := settings.api
	cfg.TaskQueue, cfg.Policy, cfg.Sandbox, cfg.Links, cfg.PickupCodes = tq, policy, true, providers.Links, providers.PickupCodes
	server := api.New(cfg, c, store, codec, logger)
	// As the starter does; stopped before the pool closes (cleanups run last first).
	lctx, stopListening := context.WithCancel(ctx)
	listening := make(chan struct{})
	go func() { _ = server.ListenForRevocations(lctx); close(listening) }()
	t.Cleanup(func() { stopListening(); <-listening })
	handler := server.Handler()
	if settings.tracing != nil {
		handler = settings.tracing.Handler(handler, "starter")
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)

	s := &system{t: t, url: srv.URL, http: srv.Client(), dataConverter: tadapter.DataConverter(codec), store: store, db: db, client: c,
		tokens: map[string]string{}, suffix: randomHex(t, 4), providers: providers, patience: 30 * time.Second, taskQueue: tq}
	if settings.faultRate > 0 {
		s.patience = 4 * time.Minute // retries back off up to a minute each
	}
	for name, spec := range map[string][2]string{
		"checkout": {"checkout", ""}, "support": {"support", ""},
		"berlin": {"staff", "berlin-mitte"}, "hamburg": {"staff", "hamburg-altona"}, "dc": {"staff", "dc-erfurt"},
	} {
		tok, err := store.CreateToken(ctx, "e2e-"+name, spec[0], spec[1])
		if err != nil {
			t.Fatal(err)
		}
		s.tokens[name] = tok
	}
	return s
}

// mustSigner signs message links with the system's payload keys, as the worker
// and the starter do.
func mustSigner(t *testing.T, keys []tadapter.Key) *links.Signer {
	t.Helper()
	s, err := links.New("http://starter.test", tadapter.Secrets(keys)...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// replayKeyFile holds the payload key of the e2e tests (test data only), shared
// with the replay test in workflows/.
const replayKeyFile = "../../workflows/testdata/replay.key"

// fastPolicy shrinks the week until the review request to two seconds.
func fastPolicy() workflows.Policy {
	p := workflows.DefaultPolicy()
	p.ReviewDelay = 2 * time.Second
	// No quiet hours: the tests run at any hour of the day.
	p.QuietHours = activities.QuietHours{}
	return p
}

func (s *system) do(method, path, token string, body any) (int, map[string]any) {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	status, _, out := s.raw(method, path, token, rd)
	return status, out
}

// raw sends a request and returns the status, the headers and the decoded JSON
// body (nil when there is none).
func (s *system) raw(method, path, token string, body io.Reader) (int, http.Header, map[string]any) {
	s.t.Helper()
	status, h, data := s.send(s.t, method, path, token, body)
	var out map[string]any
	if len(data) > 0 {
		if err := json.Unmarshal(data, &out); err != nil {
			s.t.Fatalf("%s %s: %d %s: %v", method, path, status, data, err)
		}
	}
	return status, h, out
}

// send sends a request (with the bearer token, when given) and returns the
// status, the headers and the body as it came; failures end t.
// A body goes as application/json, as every JSON client sends it.
func (s *system) send(t *testing.T, method, path, token string, body io.Reader) (int, http.Header, []byte) {
	t.Helper()
	contentType := ""
	if body != nil {
		contentType = "application/json"
	}
	return s.sendAs(t, method, path, token, contentType, body)
}

// sendAs is send with the given Content-Type ("" sends none).
func (s *system) sendAs(t *testing.T, method, path, token, contentType string, body io.Reader) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, data
}

func (s *system) orderBody(id, method string) map[string]any {
	body := map[string]any{
		"order_id": id,
		"customer": map[string]string{"id": "C-" + id, "name": "Mia Schmidt", "email": "mia@example.com",
			"locale": "de-DE", "time_zone": "Europe/Berlin"},
		"marketing_consent": true,
		"method":            method,
		"currency":          "EUR",
		"payment_intent_id": "pi_" + id,
		"lines": []map[string]any{
			{"sku": "WATCH-001", "name": "Automatic watch", "quantity": 1, "unit_price": 24900},
			{"sku": "STRAP-LEA-20", "name": "Leather strap", "quantity": 2, "unit_price": 3900},
		},
	}
	if method == "ship_to_store" {
		body["store_id"] = "berlin-mitte"
	} else {
		body["address"] = map[string]string{"name": "Mia Schmidt", "line1": "Torstraße 1", "postal_code": "10119", "city": "Berlin", "country": "DE"}
	}
	return body
}

// waitStage polls the orders projection until the order reaches stage.
func (s *system) waitStage(id string, stage domain.Stage) {
	s.t.Helper()
	deadline := time.Now().Add(s.patience)
	for {
		row, err := s.store.OrderRow(context.Background(), id)
		if err == nil && row.Stage == stage {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("order %s did not reach %s: now %q (%v)", id, stage, row.Stage, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// result waits for the order's workflow to end and returns its result.
func (s *system) result(id string) workflows.Result {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), s.patience)
	defer cancel()
	var res workflows.Result
	if err := s.client.GetWorkflow(ctx, workflows.WorkflowID(id), "").Get(ctx, &res); err != nil {
		s.t.Fatalf("order %s: %v", id, err)
	}
	return res
}

func (s *system) journeyStages(id string) []string {
	s.t.Helper()
	entries, err := s.store.Journey(context.Background(), id)
	if err != nil {
		s.t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.Kind == "stage" {
			out = append(out, strings.TrimPrefix(e.Key, "stage:"))
		}
	}
	return out
}

func (s *system) stock(loc, sku string) int {
	s.t.Helper()
	q, err := s.store.StockQuantity(context.Background(), loc, sku)
	if err != nil {
		s.t.Fatal(err)
	}
	return q
}

// pickupCode reads the code from the customer's ready-for-pickup email in the
// sandbox outbox, waiting for it to be sent.
func (s *system) pickupCode(id string) string {
	s.t.Helper()
	key := id + ":notify:ready-for-pickup:email"
	msgs := s.waitOutbox(id, key)[key]
	if len(msgs) != 1 {
		s.t.Fatalf("ready-for-pickup emails of %s: %d, want 1", id, len(msgs))
	}
	return messages.FindPickupCode(msgs[0].Body)
}

// wrongCode is a pickup code that is not code.
func wrongCode(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

// outboxByKey returns the order's sandbox outbox by notification key.
func (s *system) outboxByKey(id string) map[string][]postgres.OutboxMessage {
	s.t.Helper()
	msgs, err := s.store.OutboxFor(context.Background(), id+":notify:")
	if err != nil {
		s.t.Fatal(err)
	}
	out := map[string][]postgres.OutboxMessage{}
	for _, m := range msgs {
		out[m.NotificationKey] = append(out[m.NotificationKey], m)
	}
	return out
}

// waitOutbox waits until the sandbox outbox holds a message with the key (messages
// of one step go out one after another) and returns the order's outbox.
func (s *system) waitOutbox(id, key string) map[string][]postgres.OutboxMessage {
	s.t.Helper()
	deadline := time.Now().Add(s.patience)
	for {
		byKey := s.outboxByKey(id)
		if len(byKey[key]) > 0 || time.Now().After(deadline) {
			return byKey
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// place places an order as the checkout service and expects a capture.
func (s *system) place(id, method string) {
	s.t.Helper()
	if st, b := s.do(http.MethodPost, "/v1/orders", s.tokens["checkout"], s.orderBody(id, method)); st != http.StatusCreated {
		s.t.Fatalf("place %s: %d %v", id, st, b)
	}
}

// post sends a staff or support request and expects 200.
func (s *system) post(path, token string, body any) map[string]any {
	s.t.Helper()
	st, b := s.do(http.MethodPost, path, token, body)
	if st != http.StatusOK {
		s.t.Fatalf("POST %s: %d %v", path, st, b)
	}
	return b
}

// pickAll waits for the pick task and confirms every line in full.
func (s *system) pickAll(id, location, token string) {
	s.t.Helper()
	s.waitStage(id, "picking")
	s.post("/v1/stores/"+location+"/orders/"+id+"/pick", s.tokens[token],
		map[string]any{"lines": []map[string]any{{"sku": "WATCH-001", "quantity": 1}, {"sku": "STRAP-LEA-20", "quantity": 2}}})
}

// handOver waits until the order is ready and hands it over with the customer's code.
func (s *system) handOver(id string) {
	s.t.Helper()
	s.waitStage(id, "ready_for_pickup")
	s.post("/v1/stores/berlin-mitte/orders/"+id+"/pickup", s.tokens["berlin"], map[string]string{"code": s.pickupCode(id)})
}

func (s *system) setStock(loc, sku string, qty int) {
	s.t.Helper()
	if err := s.store.SetStock(context.Background(), loc, sku, qty); err != nil {
		s.t.Fatal(err)
	}
}
