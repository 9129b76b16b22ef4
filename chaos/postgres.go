package main

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

// pgCluster is the run's private PostgreSQL cluster, managed with initdb and
// pg_ctl as deploy/local/postgres.sh does: trust authentication for role "app",
// listening on 127.0.0.1 only, and run as the postgres user when the suite runs
// as root (PostgreSQL refuses to run as root).
type pgCluster struct {
	bin    string // directory holding initdb and pg_ctl
	dir    string
	port   int
	logger *slog.Logger
}

// pgDatabase and pgRole are the database and role the services use, as in make run.
const (
	pgDatabase = "fulfilment"
	pgRole     = "app"
)

// findPGBin finds initdb and pg_ctl: pg_config's bindir, else the newest
// /usr/lib/postgresql/*/bin (Debian's layout).
func findPGBin() (string, error) {
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
func (c *pgCluster) asOwner(ctx context.Context, program string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, program)
	if os.Geteuid() == 0 {
		return exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	}
	return exec.CommandContext(ctx, path, args...)
}

// create makes the data directory (owned by postgres when root) and runs initdb.
func (c *pgCluster) create(ctx context.Context) error {
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", c.dir, err)
	}
	if os.Geteuid() == 0 {
		for d := filepath.Dir(c.dir); d != filepath.Dir(d); d = filepath.Dir(d) {
			if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o001 == 0 {
				return fmt.Errorf("the postgres user cannot traverse %s (needed for %s): set TMPDIR to a directory it can reach, such as /tmp", d, c.dir)
			}
		}
		u, err := user.Lookup("postgres")
		if err != nil {
			return fmt.Errorf("user postgres (is PostgreSQL installed?): %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid) // user.Lookup returns numeric IDs on Linux
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(c.dir, uid, gid); err != nil {
			return fmt.Errorf("chown %s: %w", c.dir, err)
		}
	}
	out, err := c.asOwner(ctx, "initdb", "-D", c.dir, "-U", pgRole, "--auth=trust", "--no-sync",
		"--encoding=UTF8", "--locale=C").CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb %s: %w: %s", c.dir, err, out)
	}
	return nil
}

// start starts the server and waits until it accepts connections.
func (c *pgCluster) start(ctx context.Context) error {
	sock := c.dir
	if len(sock)+12 >= 100 { // a unix socket path must stay short; TCP is what we use
		sock = ""
	}
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k '%s'", c.port, sock)
	out, err := c.asOwner(ctx, "pg_ctl", "-D", c.dir, "-w", "-t", "120", "-l", filepath.Join(c.dir, "server.log"),
		"-o", opts, "start").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl start %s: %w: %s%s", c.dir, err, out, tailFile(filepath.Join(c.dir, "server.log"), 20))
	}
	return nil
}

// createDatabase creates the services' database.
func (c *pgCluster) createDatabase(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, c.url("postgres"))
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL on port %d: %w", c.port, err)
	}
	defer func() {
		if err := conn.Close(context.WithoutCancel(ctx)); err != nil {
			c.logger.Warn("close setup connection", "error", err)
		}
	}()
	if _, err := conn.Exec(ctx, "create database "+pgDatabase); err != nil {
		return fmt.Errorf("create database %s: %w", pgDatabase, err)
	}
	return nil
}

// restartImmediate is the fault: an immediate shutdown (no checkpoint, every
// connection cut, crash recovery on start) and a start right after.
func (c *pgCluster) restartImmediate(ctx context.Context) error {
	out, err := c.asOwner(ctx, "pg_ctl", "-D", c.dir, "-m", "immediate", "-w", "-t", "60", "stop").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl stop -m immediate: %w: %s", err, out)
	}
	return c.start(ctx)
}

// stop shuts the server down (fast: sessions are ended, a checkpoint is written).
func (c *pgCluster) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if _, err := os.Stat(filepath.Join(c.dir, "postmaster.pid")); err != nil {
		return nil // not running
	}
	out, err := c.asOwner(ctx, "pg_ctl", "-D", c.dir, "-m", "fast", "-w", "-t", "60", "stop").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %w: %s", err, out)
	}
	return nil
}

// url is the connection URL of a database of the cluster.
func (c *pgCluster) url(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", pgRole, c.port, db)
}
