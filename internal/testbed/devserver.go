package testbed

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/everywherecommerce/fulfilment/workflows"
)

// DevServerArgs starts the Temporal dev server headless on 127.0.0.1 with its state
// in a SQLite file (WAL, as make run does), so that a killed server restarts with
// every workflow it had, and the search attributes of workflows.SearchAttributes.
func DevServerArgs(port, metricsPort int, dbFile string) []string {
	args := []string{"server", "start-dev", "--ip", "127.0.0.1", "--port", strconv.Itoa(port),
		"--metrics-port", strconv.Itoa(metricsPort), "--headless", "--log-level", "warn",
		"--db-filename", dbFile, "--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=1"}
	for _, sa := range workflows.SearchAttributes() {
		args = append(args, "--search-attribute", sa.Name+"="+sa.Type.String())
	}
	return args
}

// WaitTemporal waits until the frontend answers a health check.
func WaitTemporal(ctx context.Context, c client.Client, p *Process, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for i := 0; i < maxChecks && time.Now().Before(deadline); i++ {
		hctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := c.CheckHealth(hctx, &client.CheckHealthRequest{})
		cancel()
		if err == nil {
			return nil
		}
		if err := Sleep(ctx, 300*time.Millisecond); err != nil {
			return err
		}
	}
	return fmt.Errorf("the Temporal dev server was not healthy after %s (log %s):%s", timeout, p.LogPath, TailFile(p.LogPath, 30))
}

// CountActions sums the dev server's `action` counter (billable Actions, as Temporal
// Cloud counts them) of one namespace.
func CountActions(ctx context.Context, hc *http.Client, metricsURL, ns string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return 0, fmt.Errorf("metrics request: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("read metrics: %w", err)
	}
	defer resp.Body.Close()
	total := 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "action{") || !strings.Contains(line, `namespace="`+ns+`"`) {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndex(line, " ")+1:], 64)
		if err != nil {
			return 0, fmt.Errorf("metric line %q: %w", line, err)
		}
		total += int(v)
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read metrics: %w", err)
	}
	return total, nil
}
