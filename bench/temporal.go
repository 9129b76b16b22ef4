package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/everywherecommerce/fulfilment/internal/testbed"
)

// settledActions reads the count until it stops changing for two seconds: the
// dev server's metrics reporter flushes on an interval, so the last Actions show
// up late.
func settledActions(ctx context.Context, hc *http.Client, metricsURL, ns string) (int, error) {
	last, stable := -1, 0
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		n, err := testbed.CountActions(ctx, hc, metricsURL, ns)
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
