package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/everywherecommerce/fulfilment/adapters/postgres"
)

// tokenCommand runs `starter token create --role R [--store S] --subject NAME`
// (prints the new token once; only its hash is stored) and
// `starter token revoke --subject NAME`.
func tokenCommand(ctx context.Context, verb string, args []string, getenv func(string) string) error {
	fs := flag.NewFlagSet("token "+verb, flag.ContinueOnError)
	role := fs.String("role", "", "checkout, staff or support")
	store := fs.String("store", "", "the store a staff token is bound to")
	subject := fs.String("subject", "", "who holds the token (recorded with every change they make)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *subject == "" {
		return errors.New("--subject is required")
	}
	store2, closeStore, err := openStore(ctx, getenv)
	if err != nil {
		return err
	}
	defer closeStore()
	if verb == "revoke" {
		n, err := store2.RevokeToken(ctx, *subject)
		if err != nil {
			return err
		}
		fmt.Printf("revoked %d token(s) of %s\n", n, *subject)
		return nil
	}
	token, err := store2.CreateToken(ctx, *subject, *role, *store)
	if err != nil {
		return err
	}
	fmt.Println(token)
	return nil
}

func openStore(ctx context.Context, getenv func(string) string) (*postgres.Store, func(), error) {
	url := getenv("DATABASE_URL")
	if url == "" {
		return nil, nil, errors.New("DATABASE_URL is not set")
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	return postgres.NewStore(pool), pool.Close, nil
}

// demoTokens are created by `starter demo seed` on a database without tokens.
func demoTokens() []struct{ env, subject, role, store string } {
	return []struct{ env, subject, role, store string }{
		{"CHECKOUT_TOKEN", "demo-checkout", "checkout", ""},
		{"SUPPORT_TOKEN", "demo-support", "support", ""},
		{"STAFF_TOKEN_BERLIN_MITTE", "demo-staff-berlin-mitte", "staff", "berlin-mitte"},
		{"STAFF_TOKEN_HAMBURG_ALTONA", "demo-staff-hamburg-altona", "staff", "hamburg-altona"},
		{"STAFF_TOKEN_DC_ERFURT", "demo-staff-dc-erfurt", "staff", "dc-erfurt"},
	}
}

// seedTokens creates the demo tokens if the database has none, prints them once
// and writes them as KEY=value lines to tokensFile (mode 0600) for make run.
func seedTokens(ctx context.Context, store *postgres.Store, tokensFile string, out io.Writer) error {
	has, err := store.HasTokens(ctx)
	if err != nil || has {
		return err
	}
	var lines string
	for _, t := range demoTokens() {
		token, err := store.CreateToken(ctx, t.subject, t.role, t.store)
		if err != nil {
			return err
		}
		lines += fmt.Sprintf("%s=%s\n", t.env, token)
	}
	fmt.Fprintf(out, "API tokens (shown once; stored hashed):\n%s", lines)
	if tokensFile == "" {
		return nil
	}
	if err := os.WriteFile(tokensFile, []byte(lines), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", tokensFile, err)
	}
	return nil
}
