package testbed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// PGCluster is the run's private PostgreSQL cluster, managed with initdb and
// pg_ctl as deploy/local/postgres.sh does: trust authentication for role "app",
// listening on 127.0.0.1 only, and run as the postgres user when the run is
// root's (PostgreSQL refuses to run as root).
type PGCluster struct {
	Bin  string // directory holding initdb and pg_ctl
	Dir  string
	Port int
	// Settings are extra server settings, "name=value", each passed as -c.
	Settings []string
	Logger   *slog.Logger
}

// PGDatabase and PGRole are the database and role the services use, as in make run.
const (
	PGDatabase = "fulfilment"
	PGRole     = "app"
)

// FindPGBin finds initdb and pg_ctl: pg_config's bindir, else the newest
// /usr/lib/postgresql/*/bin (Debian's layout).
func FindPGBin() (string, error) {
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dir := strings.TrimSpace(string(out))
		if isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "pg_ctl")) {
			return dir, nil
		}
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb") // the pattern is valid, so no error
	sort.Slice(found, func(i, j int) bool { return pgMajor(found[i]) < pgMajor(found[j]) })
	if len(found) > 0 {
		return filepath.Dir(found[len(found)-1]), nil
	}
	return "", errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found: install postgresql-15 (deploy/local/postgres.sh ensure)")
}

// pgMajor is the major version in a Debian binary path, 0 when there is none.
func pgMajor(path string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path)))) // not a number sorts first
	return n
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode()&0o111 != 0
}

// asOwner runs one of the PostgreSQL programs as the cluster's owner.
func (c *PGCluster) asOwner(ctx context.Context, program string, args ...string) *exec.Cmd {
	path := filepath.Join(c.Bin, program)
	if os.Geteuid() == 0 {
		return exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	}
	return exec.CommandContext(ctx, path, args...)
}

// Create makes the data directory (owned by postgres when root) and runs initdb.
func (c *PGCluster) Create(ctx context.Context) error {
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", c.Dir, err)
	}
	if os.Geteuid() == 0 {
		for d := filepath.Dir(c.Dir); d != filepath.Dir(d); d = filepath.Dir(d) {
			if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o001 == 0 {
				return fmt.Errorf("the postgres user cannot traverse %s (needed for %s): set TMPDIR to a directory it can reach, such as /tmp", d, c.Dir)
			}
		}
		u, err := user.Lookup("postgres")
		if err != nil {
			return fmt.Errorf("user postgres (is PostgreSQL installed?): %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid) // user.Lookup returns numeric IDs on Linux
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(c.Dir, uid, gid); err != nil {
			return fmt.Errorf("chown %s: %w", c.Dir, err)
		}
	}
	out, err := c.asOwner(ctx, "initdb", "-D", c.Dir, "-U", PGRole, "--auth=trust", "--no-sync",
		"--encoding=UTF8", "--locale=C").CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb %s: %w: %s", c.Dir, err, out)
	}
	return nil
}

// Start starts the server and waits until it accepts connections.
func (c *PGCluster) Start(ctx context.Context) error {
	sock := c.Dir
	if len(sock)+12 >= 100 { // a unix socket path must stay short; TCP is what we use
		sock = ""
	}
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k '%s'", c.Port, sock)
	for _, kv := range c.Settings {
		opts += fmt.Sprintf(" -c '%s'", kv)
	}
	out, err := c.asOwner(ctx, "pg_ctl", "-D", c.Dir, "-w", "-t", "120", "-l", filepath.Join(c.Dir, "server.log"),
		"-o", opts, "start").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl start %s: %w: %s%s", c.Dir, err, out, TailFile(filepath.Join(c.Dir, "server.log"), 20))
	}
	return nil
}

// CreateDatabase creates the services' database.
func (c *PGCluster) CreateDatabase(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL on port %d: %w", c.Port, err)
	}
	defer func() {
		if err := conn.Close(context.WithoutCancel(ctx)); err != nil {
			c.Logger.Warn("close setup connection", "error", err)
		}
	}()
	if _, err := conn.Exec(ctx, "create database "+PGDatabase); err != nil {
		return fmt.Errorf("create database %s: %w", PGDatabase, err)
	}
	return nil
}

// RestartImmediate is a fault: an immediate shutdown (no checkpoint, every
// connection cut, crash recovery on start) and a start right after.
func (c *PGCluster) RestartImmediate(ctx context.Context) error {
	out, err := c.asOwner(ctx, "pg_ctl", "-D", c.Dir, "-m", "immediate", "-w", "-t", "60", "stop").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl stop -m immediate: %w: %s", err, out)
	}
	return c.Start(ctx)
}

// Stop shuts the server down (fast: sessions are ended, a checkpoint is written).
func (c *PGCluster) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if _, err := os.Stat(filepath.Join(c.Dir, "postmaster.pid")); err != nil {
		return nil // not running
	}
	out, err := c.asOwner(ctx, "pg_ctl", "-D", c.Dir, "-m", "fast", "-w", "-t", "60", "stop").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %w: %s", err, out)
	}
	return nil
}

// URL is the connection URL of a database of the cluster.
func (c *PGCluster) URL(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", PGRole, c.Port, db)
}

// PIDs are the cluster's server processes: the postmaster (first line of
// postmaster.pid) and its children, read from /proc.
func (c *PGCluster) PIDs() ([]int, error) {
	data, err := os.ReadFile(filepath.Join(c.Dir, "postmaster.pid"))
	if err != nil {
		return nil, fmt.Errorf("read postmaster.pid: %w", err)
	}
	first, _, _ := strings.Cut(string(data), "\n")
	postmaster, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		return nil, fmt.Errorf("postmaster.pid: %w", err)
	}
	children, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", postmaster, postmaster))
	if err != nil {
		return nil, fmt.Errorf("children of the postmaster: %w", err)
	}
	pids := []int{postmaster}
	for _, f := range strings.Fields(string(children)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}
