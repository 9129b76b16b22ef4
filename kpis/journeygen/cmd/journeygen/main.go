// Command journeygen generates a month of customer journeys with injected
// behaviour shifts and loads it into the system's PostgreSQL tables
// (docs/journeygen.md).
//
//	journeygen -database-url postgres://... -seed 7 \
//	    -shift store=hamburg-altona,kind=expiry,from=2026-11-18T00:00:00Z,to=2026-11-25T00:00:00Z,factor=2.5 \
//	    -truth truth.json
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/everywherecommerce/fulfilment/kpis/journeygen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, time.Now, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "journeygen:", err)
		}
		os.Exit(1)
	}
}

// shiftFlags collects repeated -shift flags.
type shiftFlags []journeygen.Shift

func (s *shiftFlags) String() string { return fmt.Sprint(len(*s), " shifts") }

func (s *shiftFlags) Set(v string) error {
	sh, err := journeygen.ParseShift(v)
	if err != nil {
		return err
	}
	*s = append(*s, sh)
	return nil
}

// options are the parsed flags.
type options struct {
	cfg         journeygen.Config
	databaseURL string
	truth       string
	dryRun      bool
	appendRows  bool
}

// parse reads the flags and reports every bad one at once.
func parse(args []string, getenv func(string) string, now func() time.Time, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("journeygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	today := now().UTC().Truncate(24 * time.Hour)
	var o options
	var shifts shiftFlags
	start := fs.String("start", today.AddDate(0, 0, -30).Format(time.DateOnly), "first day of the month (UTC, YYYY-MM-DD); default 30 days before today")
	days := fs.Int("days", 30, "days from -start")
	warmup := fs.Int("warmup", journeygen.DefaultWarmupDays, "days of orders before -start, so that the first week's pickups, expiries and review requests look normal (0: none)")
	seed := fs.Uint64("seed", 1, "random seed: the same seed and flags give the same rows")
	stores := fs.String("stores", "", "stores as id:orders_per_day[:home_delivery_share[:time_zone]],... (default: six stores, docs/journeygen.md)")
	fs.Var(&shifts, "shift", "a shift: store=<id|*>,kind=<kind>,from=<RFC 3339>,to=<RFC 3339>,factor=<x> (repeatable); kinds: "+kindList())
	fs.StringVar(&o.databaseURL, "database-url", getenv("DATABASE_URL"), "PostgreSQL URL (default $DATABASE_URL)")
	fs.StringVar(&o.truth, "truth", "", "write the shifts' truth and the realised rates as JSON to this file")
	fs.BoolVar(&o.dryRun, "dry-run", false, "generate and print the counts and rates; write nothing to the database")
	fs.BoolVar(&o.appendRows, "append", false, "load even though the database already has orders")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	var errs []error
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	o.cfg = journeygen.Config{Days: *days, WarmupDays: *warmup, Seed: *seed, Shifts: shifts, Rates: journeygen.DefaultRates()}
	o.cfg.Start = today // a valid stand-in, so that the other settings are still checked
	if t, err := time.Parse(time.DateOnly, *start); err != nil {
		errs = append(errs, fmt.Errorf("-start %q: want YYYY-MM-DD", *start))
	} else {
		o.cfg.Start = t
	}
	o.cfg.Stores = journeygen.DefaultStores()
	if *stores != "" {
		specs, err := journeygen.ParseStores(*stores)
		if err != nil {
			errs = append(errs, fmt.Errorf("-stores: %w", err))
		}
		o.cfg.Stores = specs
	}
	if o.databaseURL == "" && !o.dryRun {
		errs = append(errs, errors.New("-database-url (or DATABASE_URL) is required unless -dry-run"))
	}
	if err := o.cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	return o, errors.Join(errs...)
}

func kindList() string {
	var out []string
	for _, k := range journeygen.Kinds() {
		out = append(out, string(k))
	}
	return strings.Join(out, ", ")
}

// run generates the month and loads it (or only counts it with -dry-run).
func run(ctx context.Context, args []string, getenv func(string) string, now func() time.Time, stdout, stderr io.Writer) error {
	o, err := parse(args, getenv, now, stderr)
	if err != nil {
		return err
	}
	began := now()
	m := journeygen.Generate(o.cfg)
	fmt.Fprintf(stdout, "generated %s to %s (+%d warm-up days), seed %d, in %s\n",
		o.cfg.Start.Format(time.DateOnly), o.cfg.End().Format(time.DateOnly), o.cfg.WarmupDays, o.cfg.Seed, now().Sub(began).Round(time.Millisecond))
	counts := m.Count()
	tables := make([]string, 0, len(counts))
	for t := range counts {
		tables = append(tables, t)
	}
	slices.Sort(tables)
	for _, t := range tables {
		fmt.Fprintf(stdout, "  %-20s %8d rows\n", t, counts[t])
	}
	s := m.Truth.Summary
	fmt.Fprintf(stdout, "month: %d orders; declines %.2f%%, SLA misses %.2f%%, ready on time %.2f%%, early %.2f%%, expired %.2f%% of pickups, bounces %.2f%% of emails\n",
		s.Orders, 100*s.DeclineRate, 100*s.SLAMissRate, 100*s.ReadyOnTimeRate, 100*s.ReadyEarlyRate, 100*s.ExpiryShare, 100*s.BounceRate)
	if o.truth != "" {
		b, err := json.MarshalIndent(m.Truth, "", "  ")
		if err != nil {
			return fmt.Errorf("encode truth: %w", err)
		}
		if err := os.WriteFile(o.truth, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("write -truth %s: %w", o.truth, err)
		}
		fmt.Fprintf(stdout, "truth written to %s\n", o.truth)
	}
	if o.dryRun {
		return nil
	}
	return load(ctx, o, m, now, stdout)
}

// loadTimeout bounds connecting and loading: a month of ~40k orders loads in
// seconds.
const loadTimeout = 10 * time.Minute

func load(ctx context.Context, o options, m journeygen.Month, now func() time.Time, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, loadTimeout)
	defer cancel()
	pool, err := pgxpool.New(ctx, o.databaseURL)
	if err != nil {
		return fmt.Errorf("connect to -database-url: %w", err)
	}
	defer pool.Close()
	has, err := journeygen.HasOrders(ctx, pool)
	if err != nil {
		return err
	}
	if has && !o.appendRows {
		return errors.New("the database already has orders: load into a fresh system, or pass -append to add the generated ones (with a seed not loaded before)")
	}
	began := now()
	if err := journeygen.Load(ctx, pool, m); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "loaded in %s\n", now().Sub(began).Round(time.Millisecond))
	return nil
}
