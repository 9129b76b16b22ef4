package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"

	"github.com/everywherecommerce/fulfilment/adapters/postgres"
	tadapter "github.com/everywherecommerce/fulfilment/adapters/temporal"
)

// stack is the run's own system, independent of make run's .dev/: PostgreSQL, the
// dev server, the worker and the starter, all on free ports of 127.0.0.1 and with
// their files in dir.
type stack struct {
	cfg    config
	dir    string
	logger *slog.Logger

	pg                        *pgCluster
	temporal, worker, starter *process
	temporalPort, starterPort int
	starterURL, databaseURL   string
	payloadKeys               string
	tokens                    map[string]string // KEY=value from `starter demo seed`
	pool                      *pgxpool.Pool     // the suite's own connections: seeding, invariants
	store                     *postgres.Store
	tc                        client.Client // decodes the workflows' encrypted payloads
	http                      *http.Client
	initialStock              map[stockKey]int // stock after seeding, before the first order
}

// startStack builds the binaries and starts everything; on error whatever was
// started is stopped again.
func startStack(ctx context.Context, cfg config, logger *slog.Logger) (st *stack, err error) {
	dir, err := os.MkdirTemp("", "fulfilment-chaos-")
	if err != nil {
		return nil, fmt.Errorf("temporary directory: %w", err)
	}
	// As root, PostgreSQL runs as the postgres user, which must traverse dir.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, fmt.Errorf("chmod %s: %w", dir, err)
	}
	st = &stack{cfg: cfg, dir: dir, logger: logger, http: &http.Client{Timeout: 5 * time.Second}}
	defer func() {
		if err != nil {
			st.showLogs(os.Stderr)
			if serr := st.stop(false); serr != nil {
				logger.Warn("stop the partly started stack", "error", serr)
			}
		}
	}()
	logger.Info("chaos stack", "dir", dir)
	if err := st.build(ctx); err != nil {
		return st, err
	}
	ports, err := freePorts(4)
	if err != nil {
		return st, err
	}
	pgPort, metricsPort := ports[0], ports[1]
	st.temporalPort, st.starterPort = ports[2], ports[3]
	st.starterURL = fmt.Sprintf("http://127.0.0.1:%d", st.starterPort)
	if err := st.startPostgres(ctx, pgPort); err != nil {
		return st, err
	}
	if err := st.startTemporal(ctx, metricsPort); err != nil {
		return st, err
	}
	if err := st.migrateAndSeed(ctx); err != nil {
		return st, err
	}
	return st, st.startServices(ctx)
}

// build compiles the worker and the starter into dir/bin, as they are deployed:
// separate processes.
func (st *stack) build(ctx context.Context) error {
	for _, name := range []string{"worker", "starter"} {
		start := time.Now()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(st.dir, "bin", name), "./"+name)
		cmd.Dir = st.cfg.repo
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./%s: %w: %s", name, err, out)
		}
		st.logger.Info("built", "binary", name, "took", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

func (st *stack) startPostgres(ctx context.Context, port int) error {
	bin, err := findPGBin()
	if err != nil {
		return err
	}
	st.pg = &pgCluster{bin: bin, dir: filepath.Join(st.dir, "pg"), port: port, logger: st.logger}
	if err := st.pg.create(ctx); err != nil {
		return err
	}
	if err := st.pg.start(ctx); err != nil {
		return err
	}
	if err := st.pg.createDatabase(ctx); err != nil {
		return err
	}
	st.databaseURL = st.pg.url(pgDatabase)
	pool, err := pgxpool.New(ctx, st.databaseURL)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	st.pool, st.store = pool, postgres.NewStore(pool)
	return nil
}

func (st *stack) startTemporal(ctx context.Context, metricsPort int) error {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("payload key: %w", err)
	}
	st.payloadKeys = "chaos-1:" + base64.StdEncoding.EncodeToString(key)
	keys, err := tadapter.ParseKeys(st.payloadKeys)
	if err != nil {
		return fmt.Errorf("payload key: %w", err)
	}
	codec, err := tadapter.NewCodec(keys)
	if err != nil {
		return fmt.Errorf("payload codec: %w", err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil)) // reconnects during the faults are expected
	st.tc, err = client.NewLazyClient(tadapter.ClientOptions(client.Options{
		HostPort: fmt.Sprintf("127.0.0.1:%d", st.temporalPort), Namespace: "default",
	}, codec, quiet))
	if err != nil {
		return fmt.Errorf("temporal client: %w", err)
	}
	st.temporal = &process{name: "temporal", path: st.cfg.temporalCLI, logger: st.logger,
		args: devServerArgs(st.temporalPort, metricsPort, filepath.Join(st.dir, "temporal.db")),
		env:  baseEnv(), logPath: filepath.Join(st.dir, "temporal.log")}
	if err := st.temporal.start(); err != nil {
		return err
	}
	return waitTemporal(ctx, st.tc, st.temporal, 2*time.Minute)
}

// stop stops the services, the dev server and PostgreSQL, and removes dir unless
// keep is set.
func (st *stack) stop(keep bool) error {
	var errs []error
	for _, p := range []*process{st.starter, st.worker, st.temporal} {
		if p != nil {
			errs = append(errs, p.stop())
		}
	}
	if st.tc != nil {
		st.tc.Close()
	}
	if st.pool != nil {
		st.pool.Close()
	}
	if st.pg != nil {
		errs = append(errs, st.pg.stop())
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if keep {
		st.logger.Info("chaos stack kept", "dir", st.dir)
		return nil
	}
	if err := os.RemoveAll(st.dir); err != nil {
		return fmt.Errorf("remove %s: %w", st.dir, err)
	}
	return nil
}

// unexpectedExits are the exits of the stack's programs the suite did not cause.
func (st *stack) unexpectedExits() map[string][]exitRecord {
	out := map[string][]exitRecord{}
	for _, p := range []*process{st.temporal, st.worker, st.starter} {
		if p == nil {
			continue
		}
		if c := p.crashes(); len(c) > 0 {
			out[p.name] = c
		}
	}
	return out
}

// showLogs writes the last lines of every log, for a run that broke down.
func (st *stack) showLogs(w io.Writer) {
	logs := []string{filepath.Join(st.dir, "temporal.log"), filepath.Join(st.dir, "worker.log"),
		filepath.Join(st.dir, "starter.log"), filepath.Join(st.dir, "pg", "server.log")}
	for _, l := range logs {
		if _, err := os.Stat(l); err == nil {
			fmt.Fprintf(w, "--- last lines of %s ---%s\n", l, tailFile(l, 25))
		}
	}
}

// freePorts returns n distinct TCP ports of 127.0.0.1 that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			_ = ln.Close() // only held to keep the ports distinct
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// tailFile returns the last n lines of a file, each on a line of its own, or ""
// when it cannot be read.
func tailFile(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "\n" + strings.Join(lines, "\n")
}
