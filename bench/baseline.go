package main

import (
	"context"
	"fmt"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// The engine's baselines run on a worker inside the bench, on a task queue of
// their own, so that the server, the network hops and the payload codec are the
// same as for our orders and only our code differs.
const (
	baselineTaskQueue  = "bench-baseline"
	bareCheckoutType   = "BenchBareCheckout"
	bareCheckoutUpdate = "checkout"
)

// BareCheckout is the least an Update-with-Start can do: its update returns at
// once and the workflow ends when the update has finished. Our checkout's
// latency is compared with it.
func BareCheckout(ctx workflow.Context) error {
	done := false
	err := workflow.SetUpdateHandler(ctx, bareCheckoutUpdate, func(ctx workflow.Context, orderID string) (string, error) {
		done = true
		return orderID, nil
	})
	if err != nil {
		return fmt.Errorf("register the update: %w", err)
	}
	if err := workflow.Await(ctx, func() bool { return done && workflow.AllHandlersFinished(ctx) }); err != nil {
		return fmt.Errorf("await the update: %w", err)
	}
	return nil
}

// startBaselineWorker runs the baseline workflows and the ceiling's no-op
// activity on c's namespace until the returned stop is called.
func startBaselineWorker(c client.Client, acts *ceilingActivities) (func(), error) {
	w := worker.New(c, baselineTaskQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(BareCheckout, workflow.RegisterOptions{Name: bareCheckoutType})
	w.RegisterWorkflowWithOptions(CeilingOrder, workflow.RegisterOptions{Name: ceilingType})
	w.RegisterActivityWithOptions(acts.Noop, activity.RegisterOptions{Name: noopName})
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("start the baseline worker: %w", err)
	}
	return w.Stop, nil
}

// bareCheckout starts a BareCheckout with its update, as the starter starts an
// order: Update-with-Start, waiting for the update's result.
func bareCheckout(ctx context.Context, c client.Client, id string) error {
	op := c.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID: "bare:" + id, TaskQueue: baselineTaskQueue,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, bareCheckoutType)
	h, err := c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: op,
		UpdateOptions: client.UpdateWorkflowOptions{UpdateID: "checkout:" + id, UpdateName: bareCheckoutUpdate,
			Args: []any{id}, WaitForStage: client.WorkflowUpdateStageCompleted},
	})
	if err != nil {
		return fmt.Errorf("bare checkout %s: %w", id, err)
	}
	var got string
	if err := h.Get(ctx, &got); err != nil {
		return fmt.Errorf("bare checkout %s: %w", id, err)
	}
	return nil
}
