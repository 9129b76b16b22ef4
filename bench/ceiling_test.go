package main

import (
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/everywherecommerce/fulfilment/workflows"
)

// TestCeilingOrderRunsTheOrderShape: the ceiling workflow takes the checkout,
// pick and pickup updates in the order's sequence and completes after the review
// delay, with its no-op activity recording the stages staff wait for.
func TestCeilingOrderRunsTheOrderShape(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	acts := &ceilingActivities{reached: map[string]string{}}
	env.RegisterWorkflowWithOptions(CeilingOrder, workflow.RegisterOptions{Name: ceilingType})
	env.RegisterActivityWithOptions(acts.Noop, activity.RegisterOptions{Name: noopName})
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: "ceiling:T1"})
	noCallback := func(name string) *testsuite.TestUpdateCallback {
		return &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("%s rejected: %v", name, err) },
			OnAccept: func() {},
			OnComplete: func(_ any, err error) {
				if err != nil {
					t.Errorf("%s: %v", name, err)
				}
			},
		}
	}
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(workflows.UpdateCheckout, "u1", noCallback("checkout"), "T1")
	}, 0)
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(workflows.UpdateCompletePick, "u2", noCallback("pick"), "T1")
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(workflows.UpdateCompletePickup, "u3", noCallback("pickup"), "T1")
	}, 2*time.Minute)
	env.ExecuteWorkflow(ceilingType, time.Second)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if got := acts.stage("ceiling:T1"); got != "picked_up" {
		t.Errorf("last stage recorded: %q, want picked_up", got)
	}
}
