package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/everywherecommerce/fulfilment/internal/testbed"
)

// settledActions is testbed.SettledActions with the bench's patience.
func settledActions(ctx context.Context, hc *http.Client, metricsURL, ns string) (int, error) {
	return testbed.SettledActions(ctx, hc, metricsURL, ns, 60*time.Second)
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
func historyLength(ctx context.Context, c client.Client, workflowID string) (events, bytes int64, err error) {
	d, err := c.DescribeWorkflowExecution(ctx, workflowID, "")
	if err != nil {
		return 0, 0, fmt.Errorf("describe %s: %w", workflowID, err)
	}
	info := d.GetWorkflowExecutionInfo()
	return info.GetHistoryLength(), info.GetHistorySizeBytes(), nil
}
