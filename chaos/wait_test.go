package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/everywherecommerce/fulfilment/adapters/temporal/temporaltest"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// TestWaitOnCountsProgress: a journey's wait ends for an order whose workflow does
// nothing for the patience (a lost task, a stuck workflow), goes on while the
// workflow keeps retrying an activity (late, not stuck; bounded by three
// patiences), and ends at once when the workflow closes. Against the dev server
// of `make test`.
func TestWaitOnCountsProgress(t *testing.T) {
	c := temporaltest.Dial(t, client.Options{})
	queue := fmt.Sprintf("chaos-wait-%d", time.Now().UnixNano())
	w := worker.New(c, queue, worker.Options{})
	idle := func(ctx workflow.Context) error { return workflow.Await(ctx, func() bool { return false }) }
	retrying := func(ctx workflow.Context) error {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 5 * time.Second,
			RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 1}})
		return workflow.ExecuteActivity(ctx, "AlwaysFails").Get(ctx, nil)
	}
	closing := func(ctx workflow.Context) error { return workflow.Sleep(ctx, 2*time.Second) }
	w.RegisterWorkflowWithOptions(idle, workflow.RegisterOptions{Name: "Idle"})
	w.RegisterWorkflowWithOptions(retrying, workflow.RegisterOptions{Name: "Retrying"})
	w.RegisterWorkflowWithOptions(closing, workflow.RegisterOptions{Name: "Closing"})
	w.RegisterActivityWithOptions(func(context.Context) error { return errors.New("the provider is down") },
		activity.RegisterOptions{Name: "AlwaysFails"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)

	const patience = 3 * time.Second
	d := &driver{st: &stack{tc: c}}
	for _, tc := range []struct {
		workflow string
		want     func(err error, took time.Duration) string // what is wrong, or ""
	}{
		{"Idle", func(err error, took time.Duration) string {
			if !errors.Is(err, errNoProgress) || took >= 2*patience {
				return "want errNoProgress after one patience"
			}
			return ""
		}},
		{"Retrying", func(err error, took time.Duration) string {
			if err == nil || errors.Is(err, errNoProgress) || !strings.Contains(err.Error(), "kept retrying") || took < maxPatiencesLong*patience {
				return fmt.Sprintf("want the wait to go on for %d patiences while the activity retries", maxPatiencesLong)
			}
			return ""
		}},
		{"Closing", func(err error, took time.Duration) string {
			if !errors.Is(err, errWorkflowClosed) || took >= 2*patience {
				return "want errWorkflowClosed soon after the workflow completed"
			}
			return ""
		}},
	} {
		t.Run(tc.workflow, func(t *testing.T) {
			t.Parallel()
			id := fmt.Sprintf("WAIT-%s-%d", tc.workflow, time.Now().UnixNano())
			run, err := c.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{ID: workflows.WorkflowID(id), TaskQueue: queue}, tc.workflow)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.TerminateWorkflow(context.Background(), run.GetID(), "", "test over") })
			began := time.Now()
			err = d.waitOn(t.Context(), &orderRun{plan: &orderPlan{ID: id}}, patience, func(ctx context.Context) error {
				<-ctx.Done()
				return fmt.Errorf("nothing came: %w", context.Cause(ctx))
			})
			took := time.Since(began)
			if wrong := tc.want(err, took); wrong != "" {
				t.Errorf("%s: the wait ended after %s with %v; %s", tc.workflow, took.Round(100*time.Millisecond), err, wrong)
			}
			if tc.workflow != "Retrying" {
				return
			}
			// What a failed run's report shows of such an order: the activity it
			// still waits for, with its attempt and why the last one failed.
			lines, err := history(t.Context(), c, temporal.GetDefaultFailureConverter(), id)
			if err != nil {
				t.Fatal(err)
			}
			last := lines[len(lines)-1]
			if !strings.HasPrefix(last, "pending AlwaysFails") || !strings.Contains(last, "attempt ") ||
				!strings.Contains(last, "last failure: the provider is down") {
				t.Errorf("the history of a retrying order ends with %q, want its pending activity, attempt and last failure", last)
			}
		})
	}
}
