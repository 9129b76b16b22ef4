package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/everywherecommerce/fulfilment/internal/testbed"
)

// profileSeconds is the length of the CPU profiles taken during a throughput
// cell of ours (from its first checkout; a cell shorter than that leaves the
// rest of the profile idle, which pprof does not count).
const profileSeconds = 20

// pgProfileSettings make PostgreSQL count every statement (pg_stat_statements)
// when the run profiles.
func pgProfileSettings() []string {
	return []string{"shared_preload_libraries=pg_stat_statements", "pg_stat_statements.track=all", "track_io_timing=off"}
}

// adminAddrs are the worker's and the starter's admin addresses (pprof) of a
// profiled run, and their environment.
type adminAddrs struct{ worker, starter string }

func newAdminAddrs() (adminAddrs, error) {
	ports, err := testbed.FreePorts(2)
	if err != nil {
		return adminAddrs{}, err
	}
	return adminAddrs{worker: fmt.Sprintf("127.0.0.1:%d", ports[0]), starter: fmt.Sprintf("127.0.0.1:%d", ports[1])}, nil
}

func (a adminAddrs) env() []string {
	return []string{"FULFILMENT_ADMIN_ADDR=" + a.worker, "STARTER_ADMIN_ADDR=" + a.starter}
}

// cellProfile is what a profiled cell records: the CPU profiles of the worker
// and the starter, and PostgreSQL's statements and transactions.
type cellProfile struct {
	b    *bench
	dir  string
	name string // "c10"
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []error
}

// startProfile resets PostgreSQL's statement counts and starts the CPU profiles
// of the worker and the starter (profileSeconds each) into cfg.profileDir.
func (b *bench) startProfile(ctx context.Context, addrs adminAddrs, name string) (*cellProfile, error) {
	p := &cellProfile{b: b, dir: b.cfg.profileDir, name: name}
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return nil, fmt.Errorf("profile directory: %w", err)
	}
	if _, err := b.tb.Pool.Exec(ctx, `create extension if not exists pg_stat_statements`); err != nil {
		return nil, fmt.Errorf("pg_stat_statements: %w", err)
	}
	if _, err := b.tb.Pool.Exec(ctx, `select pg_stat_statements_reset()`); err != nil {
		return nil, fmt.Errorf("reset pg_stat_statements: %w", err)
	}
	for part, addr := range map[string]string{"worker": addrs.worker, "starter": addrs.starter} {
		p.wg.Go(func() {
			path := filepath.Join(p.dir, fmt.Sprintf("%s-%s.pprof", part, name))
			if err := fetchTo(ctx, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, profileSeconds), path); err != nil {
				p.mu.Lock()
				p.errs = append(p.errs, fmt.Errorf("CPU profile of the %s: %w", part, err))
				p.mu.Unlock()
			}
		})
	}
	return p, nil
}

// statements writes PostgreSQL's statements since startProfile, per order, to
// pg-<name>.txt (the bench's own polling included: its queries are the ones on
// the orders projection and the outbox by ID).
func (p *cellProfile) statements(ctx context.Context, orders int) error {
	rows, err := p.b.tb.Pool.Query(ctx, `
		select calls, rows, total_exec_time, regexp_replace(query, '\s+', ' ', 'g')
		from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())
		order by calls desc`)
	if err != nil {
		return fmt.Errorf("read pg_stat_statements: %w", err)
	}
	defer rows.Close()
	var sb strings.Builder
	var calls, xacts int64
	var ms float64
	fmt.Fprintf(&sb, "%10s %10s %10s  %s\n", "calls/ord", "rows/ord", "ms/ord", "query")
	for rows.Next() {
		var c, r int64
		var t float64
		var q string
		if err := rows.Scan(&c, &r, &t, &q); err != nil {
			return fmt.Errorf("read pg_stat_statements: %w", err)
		}
		calls += c
		if lq := strings.ToLower(q); lq == "commit" || lq == "rollback" {
			xacts += c
		}
		ms += t
		if len(q) > 160 {
			q = q[:160] + "…"
		}
		fmt.Fprintf(&sb, "%10.2f %10.2f %10.3f  %s\n", float64(c)/float64(orders), float64(r)/float64(orders), t/float64(orders), q)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read pg_stat_statements: %w", err)
	}
	head := fmt.Sprintf("%d orders: %.1f statements, %.1f explicit transactions, %.2f ms of execution (locks waited for included) per order (pg_stat_statements; explicit transactions are its commit and rollback statements, not the implicit one of a batch or a single statement; the bench's own queries included)\n\n",
		orders, float64(calls)/float64(orders), float64(xacts)/float64(orders), ms/float64(orders))
	path := filepath.Join(p.dir, "pg-"+p.name+".txt")
	if err := os.WriteFile(path, []byte(head+sb.String()), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	p.b.logger.Info("profile", "postgres", path, "summary", strings.TrimSpace(head))
	return nil
}

// wait waits for the CPU profiles.
func (p *cellProfile) wait() error {
	p.wg.Wait()
	p.b.logger.Info("profile", "cpu", filepath.Join(p.dir, "{worker,starter}-"+p.name+".pprof"))
	return errors.Join(p.errs...)
}

// fetchTo saves the body of a GET of url to path.
func fetchTo(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("request %s: %w", url, err)
	}
	resp, err := (&http.Client{Timeout: 2 * profileSeconds * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close() // the copy's error is the one to report
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
