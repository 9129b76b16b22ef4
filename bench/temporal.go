package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/everywherecommerce/fulfilment/internal/testbed"
)

// actions sums the dev server's `action` counter (billable Actions, as Temporal
// Cloud counts them) of one namespace.
func actions(ctx context.Context, hc *http.Client, metricsURL, ns string) (int, error) {
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

// settledActions reads the count until it stops changing for two seconds: the
// dev server's metrics reporter flushes on an interval, so the last Actions show
// up late.
func settledActions(ctx context.Context, hc *http.Client, metricsURL, ns string) (int, error) {
	last, stable := -1, 0
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		n, err := actions(ctx, hc, metricsURL, ns)
		if err != nil {
			return 0, err
		}
		if n == last && n > 0 {
			if stable++; stable == 2 {
				return n, nil
			}
		} else {
			last, stable = n, 0
		}
		if err := testbed.Sleep(ctx, time.Second); err != nil {
			return 0, fmt.Errorf("actions of %s: %w", ns, err)
		}
	}
	return 0, fmt.Errorf("the action count of namespace %s did not settle (last %d)", ns, last)
}

// awaitClosed waits until the workflow has closed.
func awaitClosed(ctx context.Context, c client.Client, workflowID string, patience time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, patience)
	defer cancel()
	if err := c.GetWorkflow(ctx, workflowID, "").Get(ctx, nil); err != nil {
		return fmt.Errorf("workflow %s did not complete: %w", workflowID, err)
	}
	return nil
}

// historyLength is the number of events in a workflow's history.
func historyLength(ctx context.Context, c client.Client, workflowID string) (int64, error) {
	d, err := c.DescribeWorkflowExecution(ctx, workflowID, "")
	if err != nil {
		return 0, fmt.Errorf("describe %s: %w", workflowID, err)
	}
	return d.GetWorkflowExecutionInfo().GetHistoryLength(), nil
}
