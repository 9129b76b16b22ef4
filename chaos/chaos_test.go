package main

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/domain"
)

// TestChaosSmall runs the chaos suite with tens of orders and one of each fault
// (worker, PostgreSQL, dev server, starter) against a stack of its own: the
// promise "no order is ever lost" is part of make test. It needs the Temporal CLI
// (TEMPORAL_CLI, exported by make test, or bin/temporal) and PostgreSQL's server
// binaries; it takes about three minutes. CHAOS_SEED repeats another run;
// CHAOS_KEEP=1 keeps its directory (logs, data) even when it passes.
func TestChaosSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("the chaos suite takes minutes")
	}
	cfg := smallConfig()
	cfg.keep = os.Getenv("CHAOS_KEEP") == "1" || os.Getenv("CHAOS_KEEP") == "true"
	if v := os.Getenv("CHAOS_SEED"); v != "" {
		seed, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("CHAOS_SEED=%q: %v", v, err)
		}
		cfg.seed = seed
	}
	if err := cfg.complete(os.Getenv); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
	rep, err := run(ctx, cfg, logger, t.Output())
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range rep.results {
		if len(res.violations) > 0 {
			t.Errorf("%s: %d violation(s), e.g. %s", res.name, len(res.violations), res.violations[0])
		}
	}
}

// TestPlanRepeatsWithItsSeed: a seed places the same orders (so a failed run can
// be repeated), and a run as large as the kinds has every kind.
func TestPlanRepeatsWithItsSeed(t *testing.T) {
	cfg := smallConfig()
	now := time.Date(2026, 12, 1, 13, 0, 0, 0, time.UTC)
	a, b := newPlan(cfg, now), newPlan(cfg, now)
	kinds := map[kind]bool{}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Kind != b[i].Kind || a[i].PaymentID != b[i].PaymentID || a[i].total() != b[i].total() {
			t.Fatalf("order %d differs between two plans of seed %d: %+v vs %+v", i, cfg.seed, a[i], b[i])
		}
		kinds[a[i].Kind] = true
	}
	if len(kinds) != len(kindWeights()) {
		t.Errorf("a plan of %d orders has %d of the %d kinds", cfg.orders, len(kinds), len(kindWeights()))
	}
	for _, p := range a {
		if p.Kind == kindShortPick && (p.missingAmount() <= 0 || p.missingAmount() >= p.total()) {
			t.Errorf("%s: a short pick must miss some but not all: missing %d of %d", p.ID, p.missingAmount(), p.total())
		}
	}
}

// TestCrashWindow: a duplicate email whose copies all went out before its row was
// completed is the documented crash window; a copy after it, or an SMS, is not.
func TestCrashWindow(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 13, 0, 0, 0, time.UTC)
	sent := t0.Add(2 * time.Second)
	copies := func(offsets ...time.Duration) []outboxRow {
		var out []outboxRow
		for _, o := range offsets {
			out = append(out, outboxRow{CreatedAt: t0.Add(o)})
		}
		return out
	}
	tests := []struct {
		name string
		row  notificationRow
		msgs []outboxRow
		want bool
	}{
		{"email resent after a crash", notificationRow{Channel: domain.ChannelEmail, Status: "sent", SentAt: &sent}, copies(0, time.Second), true},
		{"push resent after a crash", notificationRow{Channel: domain.ChannelPush, Status: "sent", SentAt: &sent}, copies(0, 2*time.Second), true},
		{"email sent again after the row said sent", notificationRow{Channel: domain.ChannelEmail, Status: "sent", SentAt: &sent}, copies(0, 3*time.Second), false},
		{"sms is at most once", notificationRow{Channel: domain.ChannelSMS, Status: "sent", SentAt: &sent}, copies(0, time.Second), false},
		{"row never completed", notificationRow{Channel: domain.ChannelEmail, Status: "sending"}, copies(0, time.Second), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := inCrashWindow(tt.row, tt.msgs); got != tt.want {
				t.Errorf("inCrashWindow = %v, want %v", got, tt.want)
			}
		})
	}
}
