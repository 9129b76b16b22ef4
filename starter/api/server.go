// Package api is the starter's HTTP service: the checkout API, the store staff
// API, the support API, the codec endpoint for the Temporal Web UI and, in
// sandbox mode, the outbox of messages the sandbox "sent".
package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/links"
	"github.com/everywherecommerce/fulfilment/pickupcode"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
	"github.com/everywherecommerce/fulfilment/starter/oidc"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// TemporalClient is the part of client.Client the handlers use.
type TemporalClient interface {
	NewWithStartWorkflowOperation(options client.StartWorkflowOptions, workflow any, args ...any) client.WithStartWorkflowOperation
	UpdateWithStartWorkflow(ctx context.Context, options client.UpdateWithStartWorkflowOptions) (client.WorkflowUpdateHandle, error)
	UpdateWorkflow(ctx context.Context, options client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error)
	QueryWorkflow(ctx context.Context, workflowID string, runID string, queryType string, args ...any) (converter.EncodedValue, error)
	CheckHealth(ctx context.Context, request *client.CheckHealthRequest) (*client.CheckHealthResponse, error)
	SignalWorkflow(ctx context.Context, workflowID string, runID string, signalName string, arg any) error
}

var _ TemporalClient = client.Client(nil)

// Store is the starter's database port: what the handlers read and write in
// PostgreSQL, in the starter's own words (package records, which the adapter can
// import without importing this HTTP package), so that no handler knows an
// adapter. starter/main.go wires *postgres.Store and checks it against Store.
type Store interface {
	Authenticate(ctx context.Context, token string) (records.Principal, error)
	Location(ctx context.Context, id string) (activities.Location, error)
	OrderRow(ctx context.Context, orderID string) (records.OrderRow, error)
	OrderDetail(ctx context.Context, orderID string) (records.OrderDetail, error)
	StoreWork(ctx context.Context, storeID string) (records.StoreWork, error)
	SavePreferences(ctx context.Context, p records.ContactPreferences) error
	Preferences(ctx context.Context, customerID string) (records.ContactPreferences, error)
	WithdrawConsent(ctx context.Context, customerID string, at time.Time) error
	RecordPaymentOrder(ctx context.Context, paymentID, orderID string) error
	Outbox(ctx context.Context, limit int) ([]records.OutboxMessage, error)
	Tracking(ctx context.Context, code string) (records.TrackingView, error)
	ClaimPickupAttempt(ctx context.Context, tokenHash, orderID string, limit int, window time.Duration) (int64, time.Duration, error)
	ReleasePickupAttempt(ctx context.Context, id int64) error
	ListOrders(ctx context.Context, f records.OrderFilter) ([]records.OrderRow, error)
	Ping(ctx context.Context) error
	CheckoutFacts(ctx context.Context, q records.CheckoutLookup) (records.CheckoutFacts, error)
	Journey(ctx context.Context, orderID string) ([]activities.JourneyEntry, error)
	KPIs(ctx context.Context, f records.KPIFilter) ([]records.KPIValue, error)
	WorkflowTaskFailures(ctx context.Context, since time.Time, limit int) ([]records.WorkflowTaskFailure, error)
	Alarms(ctx context.Context, f records.AlarmFilter) ([]records.Alarm, error)
	StoreTimeZones(ctx context.Context) (map[string]string, error)
	WebhookStore
}

// Config is the service's configuration.
type Config struct {
	// TaskQueue is where orders are started; workflows.TaskQueue unless set.
	TaskQueue string
	// Policy is put into every new order's workflow input.
	Policy workflows.Policy
	// Sandbox serves /dev/outbox and lets the local Web UI use the codec endpoint
	// without a token.
	Sandbox bool
	// UIOrigins may call the codec endpoint from a browser (CORS).
	UIOrigins []string
	// Registry, when set, is where /metrics's request metrics go, next to what
	// the caller put there (the Temporal client's SDK metrics); it must not hold
	// the Go and process collectors yet. Unset: a registry of the Server's own.
	Registry *prometheus.Registry
	// OIDC, when set, admits the retailer's SSO access tokens (JWTs) with a
	// support claim to the codec endpoint, and to no other route: the Temporal
	// Web UI forwards its user's token there (docs/support.md).
	OIDC AccessTokenVerifier
	// Now is the clock; time.Now unless a test sets it.
	Now func() time.Time
	// PickupTokenLimit is how many wrong pickup codes one token may enter within
	// PickupTokenWindow, across all orders, before its tries answer 429: a counter
	// mistypes a few codes an hour, a script guessing codes hundreds. 20 unless set.
	PickupTokenLimit int
	// PickupTokenWindow is the sliding window of PickupTokenLimit; 10 minutes unless set.
	PickupTokenWindow time.Duration
	// Links checks the signed links in customer messages (unsubscribe); without it
	// /unsubscribe answers that the link does not work.
	Links *links.Signer
	// PickupCodes turns the code staff type in into the proof the workflow checks
	// (the code itself never reaches Temporal); without it no order can be handed
	// over.
	PickupCodes *pickupcode.Codes

	// Provider webhook secrets: a provider's route (POST /v1/webhooks/<provider>)
	// exists only when its secret is set, and answers 404 otherwise.

	// StripeWebhookSecret is the endpoint's signing secret (whsec_...).
	StripeWebhookSecret string
	// EasyPostWebhookSecret is the secret EasyPost signs the webhook's HMAC with.
	EasyPostWebhookSecret string
	// SendGridWebhookPublicKey is the Event Webhook's verification key, base64 ECDSA.
	SendGridWebhookPublicKey string
	// TwilioAuthToken is the account's auth token, with which Twilio signs callbacks.
	TwilioAuthToken string
	// PublicURL is the exact public https base URL Twilio posts to and signs
	// (https://fulfilment.example.com): behind a proxy the starter cannot see it.
	PublicURL string

	// ReadTimeout bounds a read: a token lookup, a workflow query, a read of the
	// projection. 5 s unless set: a healthy Temporal answers a query in
	// milliseconds, and a hung one must yield a 503 with Retry-After while the
	// client still waits, not a client timeout.
	ReadTimeout time.Duration
	// UpdateTimeout bounds a checkout or an update waiting for its result. 25 s
	// unless set: a checkout reserves stock and captures a payment, whose retries
	// take seconds, and every answer must leave before the server's 45 s write
	// timeout. A request as a whole may take ReadTimeout + UpdateTimeout.
	UpdateTimeout time.Duration
	// TokenCacheTTL is how long an admitted API token is remembered, so that a
	// caller's requests do not each look it up in PostgreSQL. A revocation the
	// store announces is applied at once (ListenForRevocations); the TTL bounds
	// the delay when an announcement is lost. 5 s unless set; negative turns the
	// cache off.
	TokenCacheTTL time.Duration
}

// AccessTokenVerifier checks an OIDC access token and returns its subject;
// errors wrap oidc.ErrInvalid, oidc.ErrForbidden or oidc.ErrUnavailable
// (*oidc.Verifier).
type AccessTokenVerifier interface {
	Verify(ctx context.Context, token string) (string, error)
}

var _ AccessTokenVerifier = (*oidc.Verifier)(nil)

// Server holds the handlers' dependencies.
type Server struct {
	cfg      Config
	temporal TemporalClient
	store    Store
	codec    converter.PayloadCodec
	logger   *slog.Logger
	metrics  *metrics
	tokens   *tokenCache
}

// New builds the service.
func New(cfg Config, tc TemporalClient, store Store, codec converter.PayloadCodec, logger *slog.Logger) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.TaskQueue == "" {
		cfg.TaskQueue = workflows.TaskQueue
	}
	if cfg.PickupTokenLimit <= 0 {
		cfg.PickupTokenLimit = 20
	}
	if cfg.PickupTokenWindow <= 0 {
		cfg.PickupTokenWindow = 10 * time.Minute
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = 5 * time.Second
	}
	if cfg.UpdateTimeout <= 0 {
		cfg.UpdateTimeout = 25 * time.Second
	}
	if cfg.TokenCacheTTL == 0 {
		cfg.TokenCacheTTL = DefaultTokenCacheTTL
	}
	return &Server{cfg: cfg, temporal: tc, store: store, codec: codec, logger: logger, metrics: newMetrics(cfg.Registry),
		tokens: newTokenCache(cfg.TokenCacheTTL, cfg.Now)}
}

// tokenRevocations is a Store that announces revoked tokens (PostgreSQL's
// LISTEN/NOTIFY in the postgres adapter).
type tokenRevocations interface {
	ListenTokenRevocations(ctx context.Context, revoked func(hash string), missed func(error)) error
}

// ListenForRevocations drops a revoked token from the token cache as soon as the
// store announces its revocation, on every starter, until ctx ends. When the
// announcements may have been missed (the listening connection failed) it
// forgets every cached token. A store that cannot announce leaves the TTL as the
// revocation delay; then it waits for ctx and returns nil.
func (s *Server) ListenForRevocations(ctx context.Context) error {
	l, ok := s.store.(tokenRevocations)
	if !ok {
		<-ctx.Done()
		return nil
	}
	return l.ListenTokenRevocations(ctx, s.tokens.forget, func(err error) {
		s.tokens.reset()
		s.logger.Warn("token revocations: listening again; every cached token forgotten", "error", err)
	})
}

// DefaultTokenCacheTTL is the token cache's TTL, and so the revocation delay when
// an announcement is lost, unless configured: a few seconds saves nearly every
// lookup of a busy caller.
const DefaultTokenCacheTTL = 5 * time.Second

// maxBody caps request bodies: an order of 50 lines is a few kilobytes.
const maxBody = 64 << 10

// Handler returns the routes, each request counted, timed and logged (observe)
// and given at most ReadTimeout + UpdateTimeout: a PostgreSQL or Temporal that
// hangs yields a 503 then, before the server's write timeout cuts the answer off.
func (s *Server) Handler() http.Handler {
	return s.deadline(s.observe(s.routes()))
}

// deadline gives every request at most ReadTimeout + UpdateTimeout: a write
// route reads (the token, the order's row) and then waits for one update.
func (s *Server) deadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.ReadTimeout+s.cfg.UpdateTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// within bounds the request's calls from here on to d; the handler defers cancel.
func within(r *http.Request, d time.Duration) (*http.Request, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(r.Context(), d)
	return r.WithContext(ctx), cancel
}

// routes registers every route on a mux that remembers their patterns, so that
// the OpenAPI test compares the document with this list and no copy of it.
func (s *Server) routes() *routeMux {
	mux := newRouteMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", s.metrics.handler())
	mux.HandleFunc("GET /v1/openapi.json", serveOpenAPI)

	mux.Handle("GET /v1/me", s.auth(s.me, records.RoleCheckout, records.RoleStaff, records.RoleSupport))
	mux.Handle("POST /v1/orders", s.auth(s.placeOrder, records.RoleCheckout))
	mux.Handle("GET /v1/orders", s.auth(s.listOrders, records.RoleSupport, records.RoleStaff))
	mux.Handle("GET /v1/orders/{id}", s.auth(s.getOrder, records.RoleCheckout, records.RoleSupport, records.RoleStaff))
	mux.Handle("PUT /v1/customers/{id}/preferences", s.auth(s.putPreferences, records.RoleCheckout, records.RoleSupport))
	mux.HandleFunc("GET /unsubscribe", s.unsubscribe)
	mux.HandleFunc("POST /unsubscribe", s.unsubscribe)
	mux.Handle("POST /v1/orders/{id}/cancel", s.auth(s.cancelOrder, records.RoleSupport))
	mux.Handle("POST /v1/orders/{id}/extend-pickup", s.auth(s.extendPickup, records.RoleSupport))
	mux.Handle("POST /v1/orders/{id}/unlock-pickup", s.auth(s.unlockPickup, records.RoleSupport))
	mux.Handle("POST /v1/orders/{id}/resend-notification", s.auth(s.resendNotification, records.RoleSupport))
	mux.Handle("POST /v1/orders/{id}/resolve", s.auth(s.resolveOrder, records.RoleSupport))
	mux.Handle("GET /v1/kpis", s.auth(s.listKPIs, records.RoleSupport, records.RoleStaff))
	mux.Handle("GET /v1/workflow-problems", s.auth(s.listWorkflowProblems, records.RoleSupport))
	mux.Handle("GET /v1/alarms", s.auth(s.listAlarms, records.RoleSupport, records.RoleStaff))
	mux.Handle("GET /v1/kpis/charts", s.auth(s.kpiCharts, records.RoleSupport, records.RoleStaff))
	mux.Handle("GET /v1/stores/{store}/work", s.auth(s.storeWork, records.RoleStaff, records.RoleSupport))
	mux.Handle("POST /v1/stores/{store}/orders/{id}/start-pick", s.auth(s.startPick, records.RoleStaff, records.RoleSupport))
	mux.Handle("POST /v1/stores/{store}/orders/{id}/pick", s.auth(s.completePick, records.RoleStaff, records.RoleSupport))
	mux.Handle("POST /v1/stores/{store}/orders/{id}/arrival", s.auth(s.confirmArrival, records.RoleStaff, records.RoleSupport))
	mux.Handle("POST /v1/stores/{store}/orders/{id}/pickup", s.auth(s.completePickup, records.RoleStaff, records.RoleSupport))
	s.webhookRoutes(mux)

	mux.Handle("GET /store/", consoleHandler())
	mux.Handle("GET /store", http.RedirectHandler("/store/", http.StatusMovedPermanently))

	codec := http.StripPrefix("/codec", converter.NewPayloadCodecHTTPHandler(s.codec))
	mux.Handle("/codec/", s.cors(s.codecAuth(codec)))
	if s.cfg.Sandbox {
		mux.HandleFunc("GET /dev/outbox", s.outbox)
		mux.HandleFunc("GET /dev/tracking/{code}", s.tracking)
	}
	return mux
}

// routeMux is a ServeMux that records each pattern as it is registered.
type routeMux struct {
	*http.ServeMux
	patterns []string
}

func newRouteMux() *routeMux { return &routeMux{ServeMux: http.NewServeMux()} }

// Handle registers h for pattern and records the pattern.
func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.ServeMux.Handle(pattern, h)
	m.patterns = append(m.patterns, pattern)
}

// HandleFunc registers h for pattern and records the pattern.
func (m *routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(h))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.problem(w, r, unavailable("PostgreSQL is not reachable", err))
		return
	}
	if _, err := s.temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		s.problem(w, r, unavailable("Temporal is not reachable", err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
