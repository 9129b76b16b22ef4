package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/everywherecommerce/fulfilment/adapters/postgres"
	"github.com/everywherecommerce/fulfilment/alarms"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// bell is the alarm bell with the default signals and thresholds and the
// configured channels (docs/alarms.md): the schedule's and the replay's.
func (c config) bell(store alarms.Store, logger *slog.Logger) *alarms.Bell {
	return &alarms.Bell{Store: store, Config: alarms.DefaultConfig(), Signals: alarms.Signals(),
		Channels: alarms.Channels(c.alarmWebhook, c.alarmEmail), Logger: logger}
}

// alarmsCommand runs `worker alarms replay`: recompute the KPIs over a past
// period and evaluate the alarm bell hour by hour as if it had run then
// (docs/alarms.md, "Replaying history").
func alarmsCommand(ctx context.Context, args []string, cfg config, logger *slog.Logger) error {
	if len(args) == 0 || args[0] != "replay" {
		return errors.New(`want "worker alarms replay -from <RFC 3339 time> [-to <time>] [-notify]"`)
	}
	fs := flag.NewFlagSet("worker alarms replay", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	from := fs.String("from", "", "first hour to evaluate, RFC 3339 (required)")
	to := fs.String("to", "", "last hour to evaluate, RFC 3339 (default: the current hour)")
	notify := fs.Bool("notify", false, "queue the webhook and email messages for what it finds (the running worker sends them)")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("worker alarms replay: %w", err)
	}
	var problems []error
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	f, err := time.Parse(time.RFC3339, *from)
	if err != nil {
		problems = append(problems, fmt.Errorf("-from %q: want an RFC 3339 time such as 2026-11-01T00:00:00Z", *from))
	}
	t := time.Now().UTC()
	if *to != "" {
		if t, err = time.Parse(time.RFC3339, *to); err != nil {
			problems = append(problems, fmt.Errorf("-to %q: want an RFC 3339 time such as 2026-12-01T00:00:00Z", *to))
		}
	}
	if !f.IsZero() && !t.After(f) {
		problems = append(problems, errors.New("-to must be after -from"))
	}
	if cfg.databaseURL == "" {
		problems = append(problems, errors.New("DATABASE_URL is not set"))
	}
	if len(problems) > 0 {
		return fmt.Errorf("worker alarms replay: %w", errors.Join(problems...))
	}
	pool, err := pgxpool.New(ctx, cfg.databaseURL)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer pool.Close()
	store := postgres.NewStore(pool)
	// The messages it queues are sent by the running worker, which has the
	// email provider.
	bell := cfg.bell(store, logger)
	started := time.Now()
	ev, err := bell.Replay(ctx, f, t, *notify)
	if err != nil {
		return err
	}
	logger.Info("alarms replayed", "from", ev.From, "through", ev.Through, "opened", ev.Opened, "resolved", ev.Resolved,
		"open", ev.Open, "took", time.Since(started).Round(time.Millisecond))
	list, err := store.Alarms(ctx, recordsFilter(f))
	if err != nil {
		return err
	}
	for i := len(list) - 1; i >= 0; i-- {
		a := list[i]
		resolved := "open"
		if a.ResolvedAt != nil {
			resolved = "resolved " + a.ResolvedAt.Format(time.RFC3339)
		}
		fmt.Printf("%s  %s  %s\n", a.OpenedAt.Format(time.RFC3339), resolved, alarms.Summary(a))
	}
	return nil
}

func recordsFilter(from time.Time) records.AlarmFilter {
	return records.AlarmFilter{From: from, Limit: 100000}
}
