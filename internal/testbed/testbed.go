// Package testbed starts a system of its own from real processes for the suites
// that measure or break one (chaos, bench): a private PostgreSQL cluster, the
// Temporal dev server on a SQLite file with metrics, and worker and starter
// processes built from this repository, all on free ports of 127.0.0.1 and with
// their files in one temporary directory, independent of make run's .dev/.
package testbed

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"

	"github.com/everywherecommerce/fulfilment/adapters/postgres"
	tadapter "github.com/everywherecommerce/fulfilment/adapters/temporal"
)

// maxChecks bounds the polls of a wait for a part of the system besides its deadline.
const maxChecks = 10_000

// Options are what Start needs.
type Options struct {
	// Repo is the repository root the worker and the starter are built from;
	// TemporalCLI the dev server binary (bin/temporal).
	Repo, TemporalCLI string
	// Name prefixes the temporary directory and the payload key's ID ("chaos").
	Name   string
	Logger *slog.Logger
	// PGSettings are extra server settings of PostgreSQL ("name=value", passed
	// as -c at start), such as the bench's pg_stat_statements.
	PGSettings []string
}

// Testbed is a started system without its services: PostgreSQL with the
// "fulfilment" database, the dev server, the built binaries, and connections of
// the caller's own to both. StartServices adds worker and starter pairs.
type Testbed struct {
	Dir    string
	Logger *slog.Logger

	PG       *PGCluster
	Temporal *Process
	// TemporalAddr is host:port of the frontend; MetricsURL the dev server's
	// Prometheus endpoint (its `action` counter counts billable Actions).
	TemporalAddr, MetricsURL string
	DatabaseURL              string
	// PayloadKeys is FULFILMENT_PAYLOAD_KEYS of the services (a fresh key per run).
	PayloadKeys string
	Codec       *tadapter.Codec
	Pool        *pgxpool.Pool // the caller's own connections: seeding, checks
	Store       *postgres.Store
	// Client is a client of namespace "default" that decodes the workflows'
	// encrypted payloads.
	Client client.Client

	services []*Services
	workers  []*Process // StartWorker's
}

// Start builds the binaries and starts PostgreSQL and the dev server; on error
// whatever was started is stopped again.
func Start(ctx context.Context, opts Options) (tb *Testbed, err error) {
	dir, err := os.MkdirTemp("", "fulfilment-"+opts.Name+"-")
	if err != nil {
		return nil, fmt.Errorf("temporary directory: %w", err)
	}
	// As root, PostgreSQL runs as the postgres user, which must traverse dir.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, fmt.Errorf("chmod %s: %w", dir, err)
	}
	tb = &Testbed{Dir: dir, Logger: opts.Logger}
	defer func() {
		if err != nil {
			tb.ShowLogs(os.Stderr)
			if serr := tb.Stop(false); serr != nil {
				opts.Logger.Warn("stop the partly started testbed", "error", serr)
			}
		}
	}()
	opts.Logger.Info("testbed", "dir", dir)
	if err := tb.build(ctx, opts.Repo); err != nil {
		return tb, err
	}
	ports, err := FreePorts(3)
	if err != nil {
		return tb, err
	}
	if err := tb.startPostgres(ctx, ports[0], opts.PGSettings); err != nil {
		return tb, err
	}
	return tb, tb.startTemporal(ctx, opts, ports[1], ports[2])
}

// Bin is the path of a built binary ("worker", "starter").
func (tb *Testbed) Bin(name string) string { return filepath.Join(tb.Dir, "bin", name) }

// build compiles the worker and the starter into dir/bin, as they are deployed:
// separate processes.
func (tb *Testbed) build(ctx context.Context, repo string) error {
	for _, name := range []string{"worker", "starter"} {
		start := time.Now()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", tb.Bin(name), "./"+name)
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./%s: %w: %s", name, err, out)
		}
		tb.Logger.Info("built", "binary", name, "took", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

func (tb *Testbed) startPostgres(ctx context.Context, port int, settings []string) error {
	bin, err := FindPGBin()
	if err != nil {
		return err
	}
	tb.PG = &PGCluster{Bin: bin, Dir: filepath.Join(tb.Dir, "pg"), Port: port, Settings: settings, Logger: tb.Logger}
	if err := tb.PG.Create(ctx); err != nil {
		return err
	}
	if err := tb.PG.Start(ctx); err != nil {
		return err
	}
	if err := tb.PG.CreateDatabase(ctx); err != nil {
		return err
	}
	return tb.connectPostgres(ctx, tb.PG.URL(PGDatabase))
}

// connectPostgres opens the caller's own connections to the services' database.
func (tb *Testbed) connectPostgres(ctx context.Context, url string) error {
	tb.DatabaseURL = url
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	tb.Pool, tb.Store = pool, postgres.NewStore(pool)
	return nil
}

func (tb *Testbed) startTemporal(ctx context.Context, opts Options, port, metricsPort int) error {
	if err := tb.connectTemporal(opts.Name, fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
		return err
	}
	tb.MetricsURL = fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)
	tb.Temporal = &Process{Name: "temporal", Path: opts.TemporalCLI, Logger: tb.Logger,
		Args: DevServerArgs(port, metricsPort, filepath.Join(tb.Dir, "temporal.db")),
		Env:  BaseEnv(), LogPath: filepath.Join(tb.Dir, "temporal.log")}
	if err := tb.Temporal.Start(); err != nil {
		return err
	}
	return WaitTemporal(ctx, tb.Client, tb.Temporal, 2*time.Minute)
}

// connectTemporal makes the run's payload key (FULFILMENT_PAYLOAD_KEYS of the
// services, "NAME-1:..." fresh each run) and the client of namespace "default".
func (tb *Testbed) connectTemporal(name, addr string) error {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("payload key: %w", err)
	}
	tb.PayloadKeys = name + "-1:" + base64.StdEncoding.EncodeToString(key)
	keys, err := tadapter.ParseKeys(tb.PayloadKeys)
	if err != nil {
		return fmt.Errorf("payload key: %w", err)
	}
	if tb.Codec, err = tadapter.NewCodec(keys); err != nil {
		return fmt.Errorf("payload codec: %w", err)
	}
	tb.TemporalAddr = addr
	tb.Client, err = tb.Dial("default")
	return err
}

// AttachOptions are what Attach needs: Options' Repo, Name and Logger, and the
// running platform.
type AttachOptions struct {
	Repo, Name string
	Logger     *slog.Logger
	// TemporalAddr is host:port of a running Temporal frontend whose namespace
	// "default" has the order search attributes; DatabaseURL the services'
	// database (migrated by MigrateAndSeed).
	TemporalAddr, DatabaseURL string
}

// Attach is Start for a platform started by someone else (make cluster's scale-out
// test): it builds the binaries and connects to Temporal and PostgreSQL, and it
// starts neither (PG and Temporal stay nil; Stop stops only the services).
func Attach(ctx context.Context, opts AttachOptions) (tb *Testbed, err error) {
	dir, err := os.MkdirTemp("", "fulfilment-"+opts.Name+"-")
	if err != nil {
		return nil, fmt.Errorf("temporary directory: %w", err)
	}
	tb = &Testbed{Dir: dir, Logger: opts.Logger}
	defer func() {
		if err != nil {
			if serr := tb.Stop(false); serr != nil {
				opts.Logger.Warn("stop the partly attached testbed", "error", serr)
			}
		}
	}()
	opts.Logger.Info("testbed on a running platform", "dir", dir, "temporal", opts.TemporalAddr)
	if err := tb.build(ctx, opts.Repo); err != nil {
		return tb, err
	}
	if err := tb.connectPostgres(ctx, opts.DatabaseURL); err != nil {
		return tb, err
	}
	if err := tb.connectTemporal(opts.Name, opts.TemporalAddr); err != nil {
		return tb, err
	}
	hctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := tb.Client.CheckHealth(hctx, &client.CheckHealthRequest{}); err != nil {
		return tb, fmt.Errorf("the Temporal frontend at %s: %w", opts.TemporalAddr, err)
	}
	return tb, nil
}

// Dial returns a lazy client of a namespace that decodes the services' payloads;
// its logger is silent (reconnects while a part is down are expected).
func (tb *Testbed) Dial(namespace string) (client.Client, error) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	c, err := client.NewLazyClient(tadapter.ClientOptions(client.Options{
		HostPort: tb.TemporalAddr, Namespace: namespace,
	}, tb.Codec, quiet))
	if err != nil {
		return nil, fmt.Errorf("temporal client of %s: %w", namespace, err)
	}
	return c, nil
}

// Stop stops the services, the dev server and PostgreSQL, and removes Dir unless
// keep is set.
func (tb *Testbed) Stop(keep bool) error {
	var errs []error
	for _, s := range tb.services {
		errs = append(errs, s.Stop())
	}
	for _, p := range tb.workers {
		errs = append(errs, p.Stop())
	}
	if tb.Temporal != nil {
		errs = append(errs, tb.Temporal.Stop())
	}
	if tb.Client != nil {
		tb.Client.Close()
	}
	if tb.Pool != nil {
		tb.Pool.Close()
	}
	if tb.PG != nil {
		errs = append(errs, tb.PG.Stop())
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if keep {
		tb.Logger.Info("testbed kept", "dir", tb.Dir)
		return nil
	}
	if err := os.RemoveAll(tb.Dir); err != nil {
		return fmt.Errorf("remove %s: %w", tb.Dir, err)
	}
	return nil
}

// ShowLogs writes the last lines of every log, for a run that broke down.
func (tb *Testbed) ShowLogs(w io.Writer) {
	logs := []string{filepath.Join(tb.Dir, "temporal.log"), filepath.Join(tb.Dir, "pg", "server.log")}
	for _, s := range tb.services {
		logs = append(logs, s.Worker.LogPath, s.Starter.LogPath)
	}
	for _, p := range tb.workers {
		logs = append(logs, p.LogPath)
	}
	for _, l := range logs {
		if _, err := os.Stat(l); err == nil {
			fmt.Fprintf(w, "--- last lines of %s ---%s\n", l, TailFile(l, 25))
		}
	}
}
