// Command starter is the HTTP service through which checkout services, store
// staff and support reach the order workflows. Subcommands: `starter token create|revoke`
// manages API tokens, `starter demo seed|orders` sets up and drives the demo.
// It is one of the two places that read the environment (docs/configuration.md).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	"golang.org/x/sync/errgroup"

	"github.com/everywherecommerce/fulfilment/adapters/metrics"
	"github.com/everywherecommerce/fulfilment/adapters/postgres"
	tadapter "github.com/everywherecommerce/fulfilment/adapters/temporal"
	"github.com/everywherecommerce/fulfilment/admin"
	"github.com/everywherecommerce/fulfilment/envvar"
	"github.com/everywherecommerce/fulfilment/links"
	"github.com/everywherecommerce/fulfilment/pickupcode"
	"github.com/everywherecommerce/fulfilment/preview"
	"github.com/everywherecommerce/fulfilment/starter/api"
	"github.com/everywherecommerce/fulfilment/starter/oidc"
	"github.com/everywherecommerce/fulfilment/tracing"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// postgres.Store implements the starter's database port. The check lives here,
// where the two are wired, because the adapter does not import the HTTP package.
var _ api.Store = (*postgres.Store)(nil)

func main() {
	logger := slog.New(tracing.LogHandler(slog.NewTextHandler(os.Stderr, nil)))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, logger); err != nil {
		logger.Error("starter stopped", "error", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, logger *slog.Logger) error {
	cmd := strings.Join(args[:min(2, len(args))], " ")
	switch {
	case len(args) == 0:
		return serve(ctx, getenv, logger)
	case cmd == "token create" || cmd == "token revoke":
		return tokenCommand(ctx, args[1], args[2:], getenv)
	case cmd == "demo seed" || cmd == "demo orders":
		return demoCommand(ctx, args[1], args[2:], getenv, logger)
	case args[0] == "preview-notifications":
		return previewCommand(ctx, args[1:], os.Stdout)
	}
	return fmt.Errorf("unknown command %q: want no argument (serve), token create|revoke, demo seed|orders, or preview-notifications", strings.Join(args, " "))
}

// previewCommand renders every touchpoint of a sample order into files a person
// can open: starter preview-notifications --locale de --out DIR. It needs no
// database, Temporal or provider: the sandbox catches what would be sent.
func previewCommand(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("preview-notifications", flag.ContinueOnError)
	locale := fs.String("locale", "en", "the customer's locale: de, en (others fall back to English)")
	out := fs.String("out", "notification-preview", "directory to write the files to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("preview-notifications: unexpected arguments %q", fs.Args())
	}
	files, err := preview.Write(ctx, *locale, *out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d files to %s; open %s\n", len(files), *out, filepath.Join(*out, "index.html"))
	return nil
}

// webhookSecrets verify the providers' webhooks; a provider without one has no
// webhook route.
type webhookSecrets struct {
	stripe, easyPost, sendGridKey, twilioToken, publicURL string
}

// config is the HTTP service's configuration.
type config struct {
	addr        string
	adminAddr   string // profiles and expvar; "" = off
	databaseURL string
	pool        *pgxpool.Config
	providers   string
	payloadKeys []tadapter.Key
	uiOrigins   []string
	taskQueue   string
	webhooks    webhookSecrets
	policy      workflows.Policy
	temporal    client.Options
	// tokenCacheTTL is api.Config.TokenCacheTTL: zero the default, negative off.
	tokenCacheTTL time.Duration
	// oidc admits the SSO's access tokens to the codec endpoint; nil = off.
	oidc *oidc.Verifier
	// stopTimeout is how long requests in flight may finish on SIGTERM.
	stopTimeout time.Duration
}

// defaultStopTimeout drains requests in flight on SIGTERM: the longest a
// request is given (ReadTimeout + UpdateTimeout, 30 s), so that a checkout
// waiting for its capture gets its answer. Kubernetes'
// terminationGracePeriodSeconds must be longer (45 s).
const defaultStopTimeout = 30 * time.Second

func loadConfig(getenv func(string) string) (config, error) {
	env := envvar.Lookup(getenv)
	c := config{
		addr:        env.Or("STARTER_ADDR", "127.0.0.1:8080"),
		adminAddr:   getenv("STARTER_ADMIN_ADDR"),
		databaseURL: getenv("DATABASE_URL"),
		providers:   env.Or("FULFILMENT_PROVIDERS", "sandbox"),
		uiOrigins:   strings.Split(env.Or("FULFILMENT_UI_ORIGINS", "http://127.0.0.1:8233,http://localhost:8233"), ","),
		policy:      workflows.DefaultPolicy(),
		stopTimeout: defaultStopTimeout,
		taskQueue:   env.Or("FULFILMENT_TASK_QUEUE", workflows.TaskQueue),
		webhooks: webhookSecrets{
			stripe: getenv("STRIPE_WEBHOOK_SECRET"), easyPost: getenv("EASYPOST_WEBHOOK_SECRET"),
			sendGridKey: getenv("SENDGRID_WEBHOOK_PUBLIC_KEY"), twilioToken: getenv("TWILIO_AUTH_TOKEN"),
			publicURL: getenv("STARTER_PUBLIC_URL"),
		},
	}
	var problems []error
	if c.databaseURL == "" {
		problems = append(problems, errors.New("DATABASE_URL is not set"))
	} else if pool, err := env.Pool(c.databaseURL); err != nil {
		problems = append(problems, err)
	} else {
		c.pool = pool
	}
	if v := getenv("STARTER_TOKEN_CACHE_TTL"); v != "" {
		ttl, err := time.ParseDuration(v)
		if err != nil {
			problems = append(problems, fmt.Errorf("STARTER_TOKEN_CACHE_TTL=%q: want a duration such as 5s (0 turns the cache off)", v))
		}
		c.tokenCacheTTL = ttl
		if ttl == 0 {
			c.tokenCacheTTL = -1 // api.Config: negative is off, zero the default
		}
	}
	switch c.providers {
	case "sandbox":
	case "live":
		if missing := env.Missing("STRIPE_WEBHOOK_SECRET", "EASYPOST_WEBHOOK_SECRET", "SENDGRID_WEBHOOK_PUBLIC_KEY", "TWILIO_AUTH_TOKEN", "STARTER_PUBLIC_URL"); len(missing) > 0 {
			problems = append(problems, fmt.Errorf("FULFILMENT_PROVIDERS=live needs %s", strings.Join(missing, ", ")))
		}
	default:
		problems = append(problems, fmt.Errorf("FULFILMENT_PROVIDERS=%q: want sandbox or live", c.providers))
	}
	if k, err := env.PayloadKeys(); err != nil {
		problems = append(problems, err)
	} else {
		c.payloadKeys = k
	}
	if dc := getenv("FULFILMENT_DISTRIBUTION_CENTRE"); dc != "" {
		c.policy.DistributionCentre = dc
	}
	durations := []struct {
		name string
		dst  *time.Duration
	}{
		{"FULFILMENT_PICKING_SLA", &c.policy.PickingSLA},
		{"FULFILMENT_TRANSFER_TIMEOUT", &c.policy.TransferTimeout},
		{"FULFILMENT_PICKUP_WINDOW", &c.policy.PickupWindow},
		{"FULFILMENT_DELIVERY_TIMEOUT", &c.policy.DeliveryTimeout},
		{"FULFILMENT_REVIEW_DELAY", &c.policy.ReviewDelay},
		{"FULFILMENT_STUCK_AFTER", &c.policy.StuckAfter},
	}
	for _, d := range durations {
		v := getenv(d.name)
		if v == "" {
			continue
		}
		parsed, err := time.ParseDuration(v)
		if err != nil || parsed <= 0 {
			problems = append(problems, fmt.Errorf("%s=%q: want a positive duration such as 168h", d.name, v))
			continue
		}
		*d.dst = parsed
	}
	if v := getenv("STARTER_STOP_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			problems = append(problems, fmt.Errorf("STARTER_STOP_TIMEOUT=%q: want a positive duration such as 30s", v))
		}
		c.stopTimeout = d
	}
	if v, err := loadOIDC(getenv); err != nil {
		problems = append(problems, err)
	} else {
		c.oidc = v
	}
	opts, err := env.Temporal()
	if err != nil {
		problems = append(problems, err)
	}
	c.temporal = opts
	return c, errors.Join(problems...)
}

// oidcTimeout bounds a fetch of the issuer's discovery document or keys.
const oidcTimeout = 10 * time.Second

// loadOIDC reads FULFILMENT_OIDC_*: with an issuer set, the codec endpoint
// also admits that issuer's access tokens carrying a support value.
func loadOIDC(getenv func(string) string) (*oidc.Verifier, error) {
	issuer := strings.TrimSpace(getenv("FULFILMENT_OIDC_ISSUER"))
	if issuer == "" {
		return nil, nil
	}
	var values []string
	for _, v := range strings.Split(getenv("FULFILMENT_OIDC_SUPPORT_VALUES"), ",") {
		if v = strings.TrimSpace(v); v != "" {
			values = append(values, v)
		}
	}
	return oidc.New(oidc.Config{
		Issuer:     issuer,
		Audience:   strings.TrimSpace(getenv("FULFILMENT_OIDC_AUDIENCE")),
		Claim:      envvar.Lookup(getenv).Or("FULFILMENT_OIDC_SUPPORT_CLAIM", "groups"),
		Values:     values,
		HTTPClient: &http.Client{Timeout: oidcTimeout},
	})
}

func serve(ctx context.Context, getenv func(string) string, logger *slog.Logger) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	tr, err := tracing.FromEnv(ctx, getenv, "starter")
	if err != nil {
		return err
	}
	defer flushTraces(tr, logger)
	if tr.Enabled() {
		ics, err := tr.Interceptors()
		if err != nil {
			return err
		}
		cfg.temporal.Interceptors = append(cfg.temporal.Interceptors, ics...)
		cfg.pool.ConnConfig.Tracer = postgres.NewTracer(tr.Provider())
		logger.Info("tracing on: spans exported by OTLP")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg.pool)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer pool.Close()
	// The Temporal client's SDK metrics (temporal_request, ...) join the API's
	// in one registry, served at /metrics (docs/observability.md).
	reg := prometheus.NewRegistry()
	if cfg.temporal.MetricsHandler, err = metrics.TemporalHandler(reg, logger); err != nil {
		return err
	}
	c, codec, err := tadapter.Dial(ctx, cfg.temporal, cfg.payloadKeys, logger)
	if err != nil {
		return err
	}
	defer c.Close()
	signer, err := links.New(envvar.Lookup(getenv).Or("STARTER_PUBLIC_URL", "http://"+cfg.addr), tadapter.Secrets(cfg.payloadKeys)...)
	if err != nil {
		return err
	}
	codes, err := pickupcode.New(tadapter.Secrets(cfg.payloadKeys)...)
	if err != nil {
		return err
	}
	srv := api.New(api.Config{
		TaskQueue: cfg.taskQueue, Policy: cfg.policy, Sandbox: cfg.providers == "sandbox", UIOrigins: cfg.uiOrigins, Links: signer,
		PickupCodes: codes, Registry: reg, TokenCacheTTL: cfg.tokenCacheTTL, OIDC: accessTokens(cfg.oidc),
		StripeWebhookSecret: cfg.webhooks.stripe, EasyPostWebhookSecret: cfg.webhooks.easyPost,
		SendGridWebhookPublicKey: cfg.webhooks.sendGridKey, TwilioAuthToken: cfg.webhooks.twilioToken, PublicURL: cfg.webhooks.publicURL,
	}, c, postgres.NewStore(pool), codec, logger)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return listen(gctx, cfg.addr, cfg.stopTimeout, tr.Handler(srv.Handler(), "starter"), logger)
	})
	g.Go(func() error { return srv.ListenForRevocations(gctx) })
	g.Go(func() error { return admin.Serve(gctx, cfg.adminAddr, nil, nil, logger) })
	return g.Wait()
}

// flushTraces exports the spans still buffered, for at most five seconds.
func flushTraces(tr *tracing.Tracing, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tr.Shutdown(ctx); err != nil {
		logger.Warn("traces not all exported", "error", err)
	}
}

// accessTokens keeps a nil *oidc.Verifier a nil interface (OIDC off).
func accessTokens(v *oidc.Verifier) api.AccessTokenVerifier {
	if v == nil {
		return nil
	}
	return v
}

// listen serves until ctx ends, then stops accepting connections and drains
// in-flight requests for up to grace (STARTER_STOP_TIMEOUT). The timeouts bound
// slow clients; 30 s covers a checkout waiting for a capture.
func listen(ctx context.Context, addr string, grace time.Duration, h http.Handler, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      45 * time.Second,
		IdleTimeout:       90 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	logger.Info("starter listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("starter stopping: draining requests in flight", "grace", grace)
	shutdown, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shut down: requests still running after STARTER_STOP_TIMEOUT=%s: %w", grace, err)
	}
	logger.Info("starter stopped")
	return nil
}
