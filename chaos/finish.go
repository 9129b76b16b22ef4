package main

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/everywherecommerce/fulfilment/internal/testbed"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// runningQuery finds the order workflows that have not closed.
const runningQuery = "(WorkflowType = '" + workflows.WorkflowType + "' OR WorkflowType = '" + workflows.WorkflowTypeV1 + "') AND ExecutionStatus = 'Running'"

// awaitClosed waits until no order workflow runs any more, or timeout; it returns
// how many still ran at the end (the invariants name them).
func awaitClosed(ctx context.Context, st *stack, timeout time.Duration) (int, error) {
	deadline := time.Now().Add(timeout)
	open := -1
	var lastErr error
	for i := 0; i < maxChecks && !time.Now().After(deadline); i++ {
		n, err := countRunning(ctx, st)
		if err == nil && n == 0 {
			return 0, nil
		}
		if err == nil {
			open = n
		}
		lastErr = err
		if err := testbed.Sleep(ctx, 3*time.Second); err != nil {
			return open, err
		}
	}
	if open < 0 {
		return 0, fmt.Errorf("list running workflows: %w", lastErr)
	}
	return open, nil
}

// countRunning lists the running order workflows (a bounded number of pages).
func countRunning(ctx context.Context, st *stack) (int, error) {
	n := 0
	var token []byte
	for range 100 {
		lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		resp, err := st.tc.ListWorkflow(lctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: "default", Query: runningQuery, PageSize: 500, NextPageToken: token,
		})
		cancel()
		if err != nil {
			return 0, fmt.Errorf("list workflows: %w", err)
		}
		n += len(resp.GetExecutions())
		token = resp.GetNextPageToken()
		if len(token) == 0 {
			return n, nil
		}
	}
	return n, nil
}
