package postgres

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// versionTable is where tern records the applied migration number.
const versionTable = "schema_version"

// migrations returns the embedded migrations directory as the root of an fs.FS, as
// tern expects.
func migrations() (fs.FS, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("open embedded migrations: %w", err)
	}
	return sub, nil
}

// Migrate applies every embedded migration not yet applied to the database conn is
// connected to. It is idempotent, and safe to run from several processes at once:
// tern serialises migrators with an advisory lock and records the version in
// schema_version.
func Migrate(ctx context.Context, conn *pgx.Conn) error {
	fsys, err := migrations()
	if err != nil {
		return err
	}
	m, err := migrate.NewMigrator(ctx, conn, versionTable)
	if err != nil {
		return fmt.Errorf("prepare migrations: %w", err)
	}
	if err := m.LoadMigrations(fsys); err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	if err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	return nil
}

// SchemaVersion names the embedded schema: the number of the last migration and a
// hash of all migration files ("001-3f2a9c1b0d4e"). Test helpers name their template
// database after it, so that any change to a migration, even an edit of an existing
// file during development, builds a fresh template.
func SchemaVersion() (string, error) {
	fsys, err := migrations()
	if err != nil {
		return "", err
	}
	names, err := migrate.FindMigrations(fsys)
	if err != nil {
		return "", fmt.Errorf("find migrations: %w", err)
	}
	h := sha256.New()
	for _, name := range names {
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return "", fmt.Errorf("read migration %s: %w", name, err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(body))
		h.Write(body)
	}
	return fmt.Sprintf("%03d-%s", len(names), hex.EncodeToString(h.Sum(nil))[:12]), nil
}
