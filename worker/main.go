// Command worker runs the order fulfilment Temporal worker; `worker migrate`
// applies the PostgreSQL schema. It is one of the two places that read the
// environment (see docs/configuration.md).
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
	"golang.org/x/sync/errgroup"

	"github.com/everywherecommerce/fulfilment/adapters/easypost"
	"github.com/everywherecommerce/fulfilment/adapters/metrics"
	"github.com/everywherecommerce/fulfilment/adapters/postgres"
	"github.com/everywherecommerce/fulfilment/adapters/sandbox"
	tadapter "github.com/everywherecommerce/fulfilment/adapters/temporal"
	"github.com/everywherecommerce/fulfilment/adapters/twilio"
	"github.com/everywherecommerce/fulfilment/admin"
	"github.com/everywherecommerce/fulfilment/alarms"
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/envvar"
	"github.com/everywherecommerce/fulfilment/kpis"
	"github.com/everywherecommerce/fulfilment/links"
	"github.com/everywherecommerce/fulfilment/pickupcode"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
	"github.com/everywherecommerce/fulfilment/tracing"
	"github.com/everywherecommerce/fulfilment/worker/registry"
	"github.com/everywherecommerce/fulfilment/workflows"
)

func main() {
	logger := slog.New(tracing.LogHandler(slog.NewTextHandler(os.Stderr, nil)))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, logger); err != nil {
		logger.Error("worker stopped", "error", err)
		os.Exit(1)
	}
}

// defaultWorkflowCache is how many workflows the worker keeps in memory between
// their tasks (Temporal's sticky cache; the SDK's own default is 10,000). A
// cached open order costs the worker about 46 KB of live memory (its heap and
// the stacks of its two goroutines) and the collector's headroom on top
// (docs/performance.md, "Worker memory"); an order evicted from it replays its
// history on its next task, which costs milliseconds of CPU. Orders are busy
// for seconds and then wait for hours or days (for staff, a parcel, the
// customer), so a cache far smaller than the open orders keeps the busy ones
// and bounds memory: 500 is many times the orders busy at once at ~15 orders/s.
const defaultWorkflowCache = 500

// The worker's soft memory limit (debug.SetMemoryLimit) when neither
// FULFILMENT_MEMORY_LIMIT nor GOMEMLIMIT sets one: memoryLimitBase plus
// memoryLimitPerWorkflow for every workflow the cache may hold (about 95 MiB at
// the default cache). It bounds the memory the Go runtime keeps (heap, stacks, and
// what it has not yet returned to the OS): near it, the collector runs more
// often instead of growing the heap. It is set well above what the cache keeps
// alive (about 46 KB a workflow), so that the collector does not run
// continuously, and it grows with FULFILMENT_WORKFLOW_CACHE for the same reason.
const (
	memoryLimitBase        = 64 << 20
	memoryLimitPerWorkflow = 64 << 10
)

// defaultStopTimeout is the grace period on SIGTERM
// (FULFILMENT_WORKER_STOP_TIMEOUT, worker.Options.WorkerStopTimeout): the
// worker stops polling at once, and running activities have this long to
// finish before their contexts are cancelled and the server retries them on
// another worker. An activity here is a few database writes and one provider
// call with a 10-20 s timeout, so 30 s lets nearly all finish; Kubernetes'
// terminationGracePeriodSeconds must be longer (45 s: the grace, stopMargin,
// and the client's close).
const defaultStopTimeout = 30 * time.Second

// stopMargin is how long past the grace period the worker waits for the SDK
// to finish stopping (it stops its workflow and activity workers in turn)
// before it exits anyway, so that a stop never outlasts the grace by more.
const stopMargin = 5 * time.Second

// config is the worker's configuration, read once from the environment.
type config struct {
	databaseURL     string
	pool            *pgxpool.Config
	providers       string
	payloadKeys     []tadapter.Key
	carrierStep     time.Duration
	faultRate       float64
	publicURL       string
	trackingBaseURL string
	taskQueue       string
	adminAddr       string // profiles, expvar and the probes; "" = off
	stopTimeout     time.Duration
	messageDelay    time.Duration // sandbox: each message takes this long to send
	workflowCache   int           // workflows kept in memory between their tasks (sticky cache)
	kpiInterval     time.Duration // how often the kpis schedule recomputes the journey KPIs; 0 = leave the schedule alone
	alarmWebhook    string        // Slack-compatible webhook for journey alarms; "" = none
	alarmEmail      string        // address journey alarms are emailed to; "" = none
	memoryLimit     int64         // soft memory limit in bytes to set; 0 = leave the runtime's (GOMEMLIMIT, or none)
	memoryLimitFrom string        // where memoryLimit comes from, for the log
	live            registry.LiveConfig
	temporal        client.Options
}

func loadConfig(getenv func(string) string, needTemporal bool) (config, error) {
	env := envvar.Lookup(getenv)
	c := config{
		databaseURL:     getenv("DATABASE_URL"),
		providers:       env.Or("FULFILMENT_PROVIDERS", "sandbox"),
		trackingBaseURL: env.Or("FULFILMENT_SANDBOX_TRACKING_URL", "http://127.0.0.1:8080/dev/tracking/"),
		taskQueue:       env.Or("FULFILMENT_TASK_QUEUE", workflows.TaskQueue),
		publicURL:       env.Or("STARTER_PUBLIC_URL", "http://127.0.0.1:8080"),
		adminAddr:       getenv("FULFILMENT_ADMIN_ADDR"),
		workflowCache:   defaultWorkflowCache,
		stopTimeout:     defaultStopTimeout,
		kpiInterval:     kpis.DefaultInterval,
	}
	var problems []error
	if c.databaseURL == "" {
		problems = append(problems, errors.New("DATABASE_URL is not set"))
	}
	if v := getenv("FULFILMENT_WORKFLOW_CACHE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			problems = append(problems, fmt.Errorf("FULFILMENT_WORKFLOW_CACHE=%q: want a positive number of workflows such as %d", v, defaultWorkflowCache))
		}
		c.workflowCache = n
	}
	if err := c.loadMemoryLimit(getenv); err != nil {
		problems = append(problems, err)
	}
	if v := getenv("FULFILMENT_WORKER_STOP_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			problems = append(problems, fmt.Errorf("FULFILMENT_WORKER_STOP_TIMEOUT=%q: want a duration such as 30s (0 cancels running activities at once)", v))
		}
		c.stopTimeout = d
	}
	switch v := getenv("FULFILMENT_KPI_INTERVAL"); v {
	case "":
	case "off":
		c.kpiInterval = 0
	default:
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute {
			problems = append(problems, fmt.Errorf("FULFILMENT_KPI_INTERVAL=%q: want a duration of at least 1m such as 15m, or off", v))
		}
		c.kpiInterval = d
	}
	c.alarmWebhook, c.alarmEmail = getenv("FULFILMENT_ALARM_WEBHOOK_URL"), getenv("FULFILMENT_ALARM_EMAIL")
	if v := c.alarmWebhook; v != "" {
		if u, err := url.Parse(v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			problems = append(problems, errors.New("FULFILMENT_ALARM_WEBHOOK_URL: want an absolute http(s) URL such as https://hooks.slack.com/services/…"))
		}
	}
	if v := c.alarmEmail; v != "" {
		if a, err := mail.ParseAddress(v); err != nil || a.Address != v {
			problems = append(problems, fmt.Errorf("FULFILMENT_ALARM_EMAIL=%q: want one email address such as ops@example.com", v))
		}
	}
	if !needTemporal {
		return c, errors.Join(problems...)
	}
	if c.databaseURL != "" {
		pool, err := env.Pool(c.databaseURL)
		if err != nil {
			problems = append(problems, err)
		}
		c.pool = pool
	}
	switch c.providers {
	case "sandbox":
	case "live":
		c.live = registry.LiveConfig{
			StripeSecretKey: getenv("STRIPE_SECRET_KEY"),
			EasyPostAPIKey:  getenv("EASYPOST_API_KEY"),
			EasyPostRate:    easypost.RatePreference{Carrier: getenv("EASYPOST_CARRIER"), Service: getenv("EASYPOST_SERVICE")},
			SendGridAPIKey:  getenv("SENDGRID_API_KEY"),
			EmailFrom:       getenv("SENDGRID_FROM_EMAIL"),
			EmailFromName:   getenv("SENDGRID_FROM_NAME"),
		}
		required := []string{"STRIPE_SECRET_KEY", "EASYPOST_API_KEY", "SENDGRID_API_KEY", "SENDGRID_FROM_EMAIL"}
		channels, err := liveChannels(getenv("FULFILMENT_CHANNELS"))
		if err != nil {
			problems = append(problems, err)
		}
		if channels[domain.ChannelSMS] {
			required = append(required, "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")
			if getenv("TWILIO_FROM") == "" && getenv("TWILIO_MESSAGING_SERVICE_SID") == "" {
				required = append(required, "TWILIO_FROM (or TWILIO_MESSAGING_SERVICE_SID)")
			}
			c.live.SMS = &twilio.Config{
				AccountSID: getenv("TWILIO_ACCOUNT_SID"), AuthToken: getenv("TWILIO_AUTH_TOKEN"),
				From: getenv("TWILIO_FROM"), MessagingServiceSID: getenv("TWILIO_MESSAGING_SERVICE_SID"),
			}
			if base := getenv("STARTER_PUBLIC_URL"); base != "" {
				c.live.SMS.StatusCallback = strings.TrimSuffix(base, "/") + "/v1/webhooks/twilio"
			}
		}
		if channels[domain.ChannelPush] {
			required = append(required, "FCM_PROJECT_ID", "GOOGLE_APPLICATION_CREDENTIALS")
			c.live.FCMProjectID, c.live.FCMCredentialsFile = getenv("FCM_PROJECT_ID"), getenv("GOOGLE_APPLICATION_CREDENTIALS")
		}
		if missing := env.Missing(required...); len(missing) > 0 {
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
	step, err := time.ParseDuration(env.Or("FULFILMENT_SANDBOX_CARRIER_STEP", "30s"))
	if err != nil || step <= 0 {
		problems = append(problems, fmt.Errorf("FULFILMENT_SANDBOX_CARRIER_STEP=%q: want a positive duration such as 30s", getenv("FULFILMENT_SANDBOX_CARRIER_STEP")))
	}
	c.carrierStep = step
	if v := getenv("FULFILMENT_SANDBOX_FAULT_RATE"); v != "" {
		rate, err := strconv.ParseFloat(v, 64)
		if err != nil || rate < 0 || rate >= 1 {
			problems = append(problems, fmt.Errorf("FULFILMENT_SANDBOX_FAULT_RATE=%q: want a number from 0 up to (not including) 1, such as 0.3", v))
		}
		c.faultRate = rate
	}
	if v := getenv("FULFILMENT_SANDBOX_MESSAGE_DELAY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > time.Minute {
			problems = append(problems, fmt.Errorf("FULFILMENT_SANDBOX_MESSAGE_DELAY=%q: want a duration up to 1m such as 2s", v))
		}
		c.messageDelay = d
	}
	opts, err := env.Temporal()
	if err != nil {
		problems = append(problems, err)
	}
	c.temporal = opts
	return c, errors.Join(problems...)
}

// loadMemoryLimit reads FULFILMENT_MEMORY_LIMIT: a size in GOMEMLIMIT's syntax
// (such as 96MiB or 1GiB), "off" for none, or unset for the default
// (memoryLimitBase + memoryLimitPerWorkflow per cached workflow). GOMEMLIMIT,
// which the Go runtime reads itself, wins over the default but not over
// FULFILMENT_MEMORY_LIMIT.
func (c *config) loadMemoryLimit(getenv func(string) string) error {
	v := strings.TrimSpace(getenv("FULFILMENT_MEMORY_LIMIT"))
	switch {
	case v == "off":
		c.memoryLimit, c.memoryLimitFrom = 0, "FULFILMENT_MEMORY_LIMIT=off"
	case v != "":
		n, err := parseSize(v)
		if err != nil || n < 16<<20 {
			return fmt.Errorf("FULFILMENT_MEMORY_LIMIT=%q: want a size of at least 16MiB such as 96MiB or 1GiB, or off", v)
		}
		c.memoryLimit, c.memoryLimitFrom = n, "FULFILMENT_MEMORY_LIMIT"
	case getenv("GOMEMLIMIT") != "":
		c.memoryLimit, c.memoryLimitFrom = 0, "GOMEMLIMIT"
	default:
		c.memoryLimit = memoryLimitBase + memoryLimitPerWorkflow*int64(max(c.workflowCache, 0))
		c.memoryLimitFrom = "default for the workflow cache"
	}
	return nil
}

// parseSize reads a byte count in GOMEMLIMIT's syntax: a whole number with an
// optional unit B, KiB, MiB, GiB or TiB.
func parseSize(v string) (int64, error) {
	units := []struct {
		suffix string
		shift  uint
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}
	shift := uint(0)
	for _, u := range units {
		if num, ok := strings.CutSuffix(v, u.suffix); ok {
			v, shift = num, u.shift
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > (1<<62)>>shift {
		return 0, fmt.Errorf("size %q: want a whole number with B, KiB, MiB, GiB or TiB", v)
	}
	return n << shift, nil
}

func run(ctx context.Context, args []string, getenv func(string) string, logger *slog.Logger) error {
	if len(args) > 0 && args[0] == "migrate" {
		cfg, err := loadConfig(getenv, false)
		if err != nil {
			return err
		}
		return migrate(ctx, cfg.databaseURL, logger)
	}
	if len(args) > 0 && args[0] == "alarms" {
		cfg, err := loadConfig(getenv, false)
		if err != nil {
			return err
		}
		return alarmsCommand(ctx, args[1:], cfg, logger)
	}
	if len(args) > 0 {
		return fmt.Errorf("unknown command %q: want no argument (run the worker), \"migrate\" or \"alarms replay\"", args[0])
	}
	cfg, err := loadConfig(getenv, true)
	if err != nil {
		return err
	}
	if cfg.memoryLimit > 0 {
		debug.SetMemoryLimit(cfg.memoryLimit)
	}
	limit := "none"
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		limit = fmt.Sprintf("%dMiB", l>>20)
	}
	logger.Info("worker memory", "workflow_cache", cfg.workflowCache, "memory_limit", limit, "memory_limit_from", cfg.memoryLimitFrom)
	tr, err := traced(ctx, getenv, &cfg, logger)
	if err != nil {
		return err
	}
	defer flushTraces(tr, logger)
	pool, err := pgxpool.NewWithConfig(ctx, cfg.pool)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer pool.Close()
	// One registry for the SDK's metrics, ours and the runtime's, served at
	// /metrics on the admin address (docs/observability.md).
	reg := metrics.NewRegistry()
	if cfg.temporal.MetricsHandler, err = metrics.TemporalHandler(reg, logger); err != nil {
		return err
	}
	business, err := metrics.NewBusiness(reg)
	if err != nil {
		return fmt.Errorf("register business metrics: %w", err)
	}
	store := postgres.NewStore(pool)
	if err := metrics.RegisterAlarms(reg, func(ctx context.Context) ([]records.Alarm, error) {
		return store.Alarms(ctx, records.AlarmFilter{OpenOnly: true})
	}, logger); err != nil {
		return fmt.Errorf("register alarm metrics: %w", err)
	}
	// The SDK's log names every workflow task it could not process; support
	// sees those orders at GET /v1/workflow-problems.
	failures := newTaskFailures(logger.Handler())
	c, _, err := tadapter.Dial(ctx, cfg.temporal, cfg.payloadKeys, slog.New(failures))
	if err != nil {
		return err
	}
	defer c.Close()

	g, gctx := errgroup.WithContext(ctx)
	failuresCtx, stopFailures := context.WithCancel(context.WithoutCancel(ctx))
	defer stopFailures()
	go failures.run(failuresCtx, store.RecordWorkflowTaskFailure, logger)
	var providers registry.Providers
	if cfg.providers == "live" {
		if providers, err = registry.Live(ctx, cfg.live, store); err != nil {
			return err
		}
	} else {
		var sim *sandbox.CarrierSimulator
		providers, sim = registry.Sandbox(store, c, registry.SandboxConfig{
			TrackingBaseURL: cfg.trackingBaseURL, CarrierStep: cfg.carrierStep, FaultRate: cfg.faultRate, Logger: logger,
			MessageDelay: cfg.messageDelay,
		})
		g.Go(func() error { return sim.Run(gctx) })
	}
	if providers.Links, err = links.New(cfg.publicURL, tadapter.Secrets(cfg.payloadKeys)...); err != nil {
		return err
	}
	if providers.PickupCodes, err = pickupcode.New(tadapter.Secrets(cfg.payloadKeys)...); err != nil {
		return err
	}
	providers.Metrics = business
	// Process-wide, and read when the first worker is created: this is the one call.
	worker.SetStickyWorkflowCacheSize(cfg.workflowCache)
	d := &drain{}
	w := worker.New(c, cfg.taskQueue, worker.Options{
		WorkerStopTimeout: cfg.stopTimeout,
		Interceptors:      []interceptor.WorkerInterceptor{d},
	})
	if err := registry.Register(w, store, providers); err != nil {
		return err
	}
	notifier := &alarms.Notifier{Store: store, WebhookURL: cfg.alarmWebhook, HTTPClient: &http.Client{Timeout: 20 * time.Second},
		EmailTo: cfg.alarmEmail, Email: providers.Email, ConsoleURL: cfg.publicURL}
	kpis.Register(w, store, &alarms.Activities{
		Bell:     cfg.bell(store, logger),
		Notifier: notifier,
	})
	// Every worker makes sure the schedule exists with the configured interval;
	// the first creates it, the others find it. "off" leaves it as it is (bench).
	if cfg.kpiInterval > 0 {
		if err := kpis.EnsureSchedule(ctx, c, kpis.ScheduleOptions{ID: kpis.ScheduleID, TaskQueue: cfg.taskQueue, Every: cfg.kpiInterval}); err != nil {
			return err
		}
	}

	// The admin endpoints outlive gctx: /readyz says "stopping" while the
	// worker drains, and they close once it has stopped.
	adminCtx, stopAdmin := context.WithCancel(context.WithoutCancel(ctx))
	health := admin.NewHealth(
		admin.Check{Name: "postgres", Func: pool.Ping},
		admin.Check{Name: "temporal", Func: func(ctx context.Context) error {
			_, err := c.CheckHealth(ctx, &client.CheckHealthRequest{})
			return err
		}},
	)
	g.Go(func() error {
		defer stopAdmin()
		if err := w.Start(); err != nil {
			return fmt.Errorf("start worker: %w", err)
		}
		health.Started()
		logger.Info("worker started", "task_queue", cfg.taskQueue, "providers", cfg.providers, "stop_timeout", cfg.stopTimeout)
		<-gctx.Done()
		stopWorker(w, d, health, cfg.stopTimeout, logger)
		return nil
	})
	g.Go(func() error { return admin.Serve(adminCtx, cfg.adminAddr, health, metrics.Handler(reg), logger) })
	return g.Wait()
}

// stopWorker stops w gracefully: no new tasks, running activities get grace to
// finish, then the SDK cancels the rest (the server retries them elsewhere).
// It returns within grace + stopMargin whatever the SDK does, and logs what
// happened.
func stopWorker(w worker.Worker, d *drain, health *admin.Health, grace time.Duration, logger *slog.Logger) {
	health.Stopping()
	d.stopping.Store(true)
	logger.Info("worker stopping: no new tasks; waiting for running activities", "running_activities", d.running.Load(), "grace", grace)
	began := time.Now()
	done := make(chan struct{})
	go func() {
		w.Stop()
		close(done)
	}()
	timer := time.NewTimer(grace + stopMargin)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		logger.Warn("worker did not stop within the grace period; exiting anyway", "grace", grace, "running_activities", d.running.Load())
		return
	}
	// Cancelled activities return just after Stop; give them a moment to be counted.
	for wait := 0; d.running.Load() > 0 && wait < 100; wait++ {
		time.Sleep(10 * time.Millisecond)
	}
	logger.Info("worker stopped", "took", time.Since(began).Round(time.Millisecond),
		"activities_finished", d.finished.Load(), "activities_cancelled", d.cancelled.Load(),
		"activities_still_running", d.running.Load())
}

// liveChannels reads FULFILMENT_CHANNELS, the channels a live system sends on
// (comma-separated; email is always on). Empty means email, sms and push.
func liveChannels(v string) (map[domain.Channel]bool, error) {
	on := map[domain.Channel]bool{domain.ChannelEmail: true}
	if strings.TrimSpace(v) == "" {
		v = "email,sms,push"
	}
	var bad []string
	for _, name := range strings.Split(v, ",") {
		if ch := domain.Channel(strings.TrimSpace(name)); ch.Valid() {
			on[ch] = true
		} else {
			bad = append(bad, fmt.Sprintf("%q", ch))
		}
	}
	if len(bad) > 0 {
		return on, fmt.Errorf("FULFILMENT_CHANNELS: unknown channel %s: want a list of email, sms, push", strings.Join(bad, ", "))
	}
	return on, nil
}

func migrate(ctx context.Context, url string, logger *slog.Logger) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer func() {
		if err := conn.Close(context.Background()); err != nil {
			logger.Warn("close migration connection", "error", err)
		}
	}()
	if err := postgres.Migrate(ctx, conn); err != nil {
		return err
	}
	logger.Info("schema migrated")
	return nil
}

// traced sets tracing up from the OTEL_* variables (off unless an OTLP endpoint
// is set) and, when on, traces the Temporal client (workflows and activities),
// the PostgreSQL pool and the live providers' HTTP calls.
func traced(ctx context.Context, getenv func(string) string, cfg *config, logger *slog.Logger) (*tracing.Tracing, error) {
	tr, err := tracing.FromEnv(ctx, getenv, "worker")
	if err != nil {
		return nil, err
	}
	if !tr.Enabled() {
		return tr, nil
	}
	ics, err := tr.Interceptors()
	if err != nil {
		return nil, err
	}
	cfg.temporal.Interceptors = append(cfg.temporal.Interceptors, ics...)
	cfg.pool.ConnConfig.Tracer = postgres.NewTracer(tr.Provider())
	cfg.live.HTTPTransport = tr.Transport(nil)
	logger.Info("tracing on: spans exported by OTLP")
	return tr, nil
}

// flushTraces exports the spans still buffered, for at most five seconds.
func flushTraces(tr *tracing.Tracing, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tr.Shutdown(ctx); err != nil {
		logger.Warn("traces not all exported", "error", err)
	}
}
