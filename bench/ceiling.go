package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/everywherecommerce/fulfilment/adapters/postgres"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// The ceiling's names: its workflow type, its no-op activity, and its updates
// (the order's own names, so that the calls are the same).
const (
	ceilingType = "BenchCeilingOrder"
	noopName    = "BenchNoop"
)

// CeilingOrder has a ship-to-store order's Temporal footprint (an
// OrderFulfilmentV2 order: no version markers, no side effect, no upsert at the
// end) and does nothing else: the checkout update runs a local activity (the
// capture); the stage is upserted and an activity (the journey's Advance) records
// it; the picking SLA timer waits for the pick update and is cancelled; the pickup
// window's timer waits for the pickup update, whose handler runs an activity (the
// code check); after the review delay's timer, an activity (the review request).
// Its activities return at once, so the orders per second it reaches are the
// engine's ceiling for our shape.
func CeilingOrder(ctx workflow.Context, reviewDelay time.Duration) error {
	id := workflow.GetInfo(ctx).WorkflowExecution.ID
	captured := false
	picked, collected := workflow.NewBufferedChannel(ctx, 1), workflow.NewBufferedChannel(ctx, 1)
	noop := func(ctx workflow.Context, step, stage string) error {
		// Options here: update handlers get a context of their own.
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
		return workflow.ExecuteActivity(actx, noopName, step, id, stage).Get(ctx, nil)
	}
	handlers := []struct {
		name string
		fn   func(ctx workflow.Context, arg string) error
	}{
		{workflows.UpdateCheckout, func(ctx workflow.Context, _ string) error {
			// The order's checkout: the capture as a local activity.
			lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
			err := workflow.ExecuteLocalActivity(lctx, noopName, "CheckOut", id, "").Get(ctx, nil)
			captured = err == nil
			return err
		}},
		{workflows.UpdateCompletePick, func(ctx workflow.Context, _ string) error {
			picked.Send(ctx, true)
			return nil
		}},
		{workflows.UpdateCompletePickup, func(ctx workflow.Context, _ string) error {
			if err := noop(ctx, "VerifyPickupCode", ""); err != nil {
				return err
			}
			collected.Send(ctx, true)
			return nil
		}},
	}
	for _, h := range handlers {
		if err := workflow.SetUpdateHandler(ctx, h.name, h.fn); err != nil {
			return fmt.Errorf("register %s: %w", h.name, err)
		}
	}
	if err := workflow.Await(ctx, func() bool { return captured }); err != nil {
		return fmt.Errorf("await the capture: %w", err)
	}
	if err := enter(ctx, noop, "picking"); err != nil {
		return err
	}
	if err := waitOrTimeout(ctx, picked, 24*time.Hour); err != nil {
		return err
	}
	if err := enter(ctx, noop, "ready_for_pickup"); err != nil {
		return err
	}
	if err := waitOrTimeout(ctx, collected, 48*time.Hour); err != nil {
		return err
	}
	if err := enter(ctx, noop, "picked_up"); err != nil {
		return err
	}
	if err := workflow.Sleep(ctx, reviewDelay); err != nil {
		return fmt.Errorf("review delay: %w", err)
	}
	if err := noop(ctx, "RequestReview", ""); err != nil {
		return err
	}
	return workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
}

// enter upserts the stage and records it with an activity, as a transition does.
func enter(ctx workflow.Context, noop func(workflow.Context, string, string) error, stage string) error {
	if err := upsertStage(ctx, stage); err != nil {
		return err
	}
	return noop(ctx, "Advance", stage)
}

func upsertStage(ctx workflow.Context, stage string) error {
	if err := workflow.UpsertTypedSearchAttributes(ctx, temporal.NewSearchAttributeKeyKeyword(workflows.AttrOrderStage).ValueSet(stage)); err != nil {
		return fmt.Errorf("upsert stage %s: %w", stage, err)
	}
	return nil
}

// waitOrTimeout waits for ch behind a cancellable timer and cancels the timer,
// as the order waits for staff.
func waitOrTimeout(ctx workflow.Context, ch workflow.ReceiveChannel, d time.Duration) error {
	tctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	timer := workflow.NewTimer(tctx, d)
	got := false
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(ch, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); got = true })
	sel.AddFuture(timer, func(workflow.Future) {})
	sel.Select(ctx)
	if !got {
		return fmt.Errorf("no update within %s", d)
	}
	return nil
}

// ceilingActivities is the no-op activity; like the real Advance, which writes
// the orders projection staff read, it records the stage an order reached, which
// the ceiling's driver waits for before it sends the next update.
type ceilingActivities struct {
	mu      sync.Mutex
	reached map[string]string // workflow ID → stage
}

// Noop records the stage (when there is one) and returns.
func (a *ceilingActivities) Noop(_ context.Context, _, workflowID, stage string) error {
	if stage != "" {
		a.mu.Lock()
		a.reached[workflowID] = stage
		a.mu.Unlock()
	}
	return nil
}

func (a *ceilingActivities) stage(workflowID string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.reached[workflowID]
}

// shopReads are the reads with which the shop follows an order of ours: the
// projection row while it waits for a stage, the outbox for the pickup code.
type shopReads interface {
	OrderRow(ctx context.Context, orderID string) (records.OrderRow, error)
	OutboxFor(ctx context.Context, notificationKeyPrefix string) ([]postgres.OutboxMessage, error)
}

// ceilingLifecycle drives one ceiling order with the order's client calls:
// Update-with-Start of the checkout, the pick update once it is picking, the
// pickup update once it is ready. It reads PostgreSQL as the shop does when it
// drives an order of ours (mirror, an order of ours already complete): the
// projection row at every poll and the outbox before the handover, so that
// driving the ceiling costs the machine what driving ours does and the
// difference between the two is the system's, not the driver's.
func ceilingLifecycle(ctx context.Context, c client.Client, acts *ceilingActivities, id string, patience time.Duration,
	reads shopReads, mirror string) error {
	wid := "ceiling:" + id
	op := c.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID: wid, TaskQueue: baselineTaskQueue, WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, ceilingType, time.Second)
	h, err := c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{StartWorkflowOperation: op,
		UpdateOptions: client.UpdateWorkflowOptions{UpdateID: "checkout:" + id, UpdateName: workflows.UpdateCheckout,
			Args: []any{id}, WaitForStage: client.WorkflowUpdateStageCompleted}})
	if err == nil {
		err = h.Get(ctx, nil)
	}
	if err != nil {
		return fmt.Errorf("ceiling checkout %s: %w", id, err)
	}
	for _, step := range []struct{ stage, update string }{{"picking", workflows.UpdateCompletePick}, {"ready_for_pickup", workflows.UpdateCompletePickup}} {
		if err := pollUntil(ctx, patience, func() (bool, error) {
			_, _ = reads.OrderRow(ctx, mirror) // the cost of the shop's poll; the answer is the activity's
			return acts.stage(wid) == step.stage, nil
		}, fmt.Sprintf("ceiling order %s did not reach %s", id, step.stage)); err != nil {
			return err
		}
		if step.update == workflows.UpdateCompletePickup {
			_, _ = reads.OutboxFor(ctx, mirror+":notify:ready-for-pickup:email") // as the shop reads the code
		}
		uh, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: wid, UpdateName: step.update,
			Args: []any{id}, WaitForStage: client.WorkflowUpdateStageCompleted})
		if err == nil {
			err = uh.Get(ctx, nil)
		}
		if err != nil {
			return fmt.Errorf("ceiling %s %s: %w", step.update, id, err)
		}
	}
	return nil
}
