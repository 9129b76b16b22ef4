// Package pgtest gives each test a fresh PostgreSQL database with the fulfilment
// schema, for tests of the postgres adapter and of anything built on it.
//
// The server comes from DATABASE_URL (`make test` starts one). Migrations run once
// per schema version into a template database; each test then gets a copy of the
// template (CREATE DATABASE ... TEMPLATE, a few milliseconds) that is dropped when
// the test ends, so tests can run in parallel without seeing each other's rows.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/adapters/postgres"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// templateLock is the advisory lock key under which test binaries build the template;
// `go test ./...` runs several binaries in parallel against one server.
const templateLock = int64(0x6675_6c66_696c) // "fulfil"

// setupTimeout bounds building the template and creating or dropping one database.
const setupTimeout = 2 * time.Minute

// template is the one template database of this test binary. It is package state
// because sync.Once is the only way to build it once per binary, whichever test
// asks first.
var template struct {
	once sync.Once
	name string
	err  error
}

// New returns a pool on a fresh database with every migration applied, and drops
// the database when the test ends. It fails the test when DATABASE_URL is unset:
// a database test that silently skips proves nothing.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		t.Fatal("DATABASE_URL is not set: run the tests with `make test`")
	}
	template.once.Do(func() { template.name, template.err = buildTemplate(url) })
	if template.err != nil {
		t.Fatalf("pgtest: build template database: %v", template.err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	name := "fulfilment_test_" + randomHex(t, 8)
	if err := adminExec(ctx, url, fmt.Sprintf("create database %s template %s", name, template.name)); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		if err := adminExec(ctx, url, fmt.Sprintf("drop database if exists %s with (force)", name)); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})

	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatalf("pgtest: parse DATABASE_URL: %v", err)
	}
	cfg.ConnConfig.Database = name
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v", name, err)
	}
	t.Cleanup(pool.Close) // runs before the drop: cleanups run last-in, first-out
	return pool
}

// buildTemplate makes sure the template database of the current schema version
// exists and returns its name. Under the advisory lock, a binary that finds no
// template builds it under a temporary name and renames it when the migrations
// succeeded, so a build that died half-way never leaves a broken template behind.
func buildTemplate(url string) (string, error) {
	version, err := postgres.SchemaVersion()
	if err != nil {
		return "", err
	}
	name := "fulfilment_tmpl_" + strings.ReplaceAll(version, "-", "_")
	building := name + "_building"

	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return "", fmt.Errorf("connect to DATABASE_URL: %w", err)
	}
	defer func() { _ = conn.Close(context.Background()) }() // a failed close of a finished connection changes nothing
	if _, err := conn.Exec(ctx, "select pg_advisory_lock($1)", templateLock); err != nil {
		return "", fmt.Errorf("lock template: %w", err)
	}
	defer func() {
		// Closing the connection releases the lock too, should unlocking fail.
		_, _ = conn.Exec(context.Background(), "select pg_advisory_unlock($1)", templateLock)
	}()

	var exists bool
	if err := conn.QueryRow(ctx, "select exists (select 1 from pg_database where datname = $1)", name).Scan(&exists); err != nil {
		return "", fmt.Errorf("look for template %s: %w", name, err)
	}
	if exists {
		return name, nil
	}
	for _, sql := range []string{
		"drop database if exists " + building + " with (force)",
		"create database " + building,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			return "", fmt.Errorf("%s: %w", sql, err)
		}
	}
	if err := migrateDatabase(ctx, url, building); err != nil {
		return "", err
	}
	if err := renameWhenIdle(ctx, conn, building, name); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, "alter database "+name+" is_template true"); err != nil {
		return "", fmt.Errorf("mark %s as template: %w", name, err)
	}
	return name, nil
}

// renameWhenIdle renames database from to to. The server process of the migration
// connection may still be exiting after the client closed it, and a database in
// use cannot be renamed (SQLSTATE 55006), so it polls until the deadline of ctx.
func renameWhenIdle(ctx context.Context, conn *pgx.Conn, from, to string) error {
	for {
		_, err := conn.Exec(ctx, "alter database "+from+" rename to "+to)
		var pgErr *pgconn.PgError
		if err == nil || !errors.As(err, &pgErr) || pgErr.Code != "55006" {
			if err != nil {
				return fmt.Errorf("rename %s to %s: %w", from, to, err)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("rename %s to %s: %w", from, to, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// migrateDatabase applies the migrations to database name on the server of url.
func migrateDatabase(ctx context.Context, url, name string) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	cfg.Database = name
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", name, err)
	}
	defer func() { _ = conn.Close(context.Background()) }() // a failed close of a finished connection changes nothing
	if err := postgres.Migrate(ctx, conn); err != nil {
		return fmt.Errorf("migrate %s: %w", name, err)
	}
	return nil
}

// adminExec runs one statement on the DATABASE_URL database (CREATE and DROP
// DATABASE cannot run in a transaction or a pool's prepared-statement cache).
func adminExec(ctx context.Context, url, sql string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connect to DATABASE_URL: %w", err)
	}
	defer func() { _ = conn.Close(context.Background()) }() // a failed close of a finished connection changes nothing
	if _, err := conn.Exec(ctx, sql); err != nil {
		return err
	}
	return nil
}

// randomHex returns n random bytes as hex, for database names that cannot collide
// between parallel tests and binaries.
func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("pgtest: random name: %v", err)
	}
	return hex.EncodeToString(b)
}
