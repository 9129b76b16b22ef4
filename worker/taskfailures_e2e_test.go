package main

import (
	"crypto/rand"
	"log/slog"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	tlog "go.temporal.io/sdk/log"

	"github.com/everywherecommerce/fulfilment/adapters/postgres"
	"github.com/everywherecommerce/fulfilment/adapters/postgres/pgtest"
	"github.com/everywherecommerce/fulfilment/adapters/temporal/temporaltest"
)

// TestFailedWorkflowTasksAreRecorded runs a real SDK worker whose workflow
// panics, with the client logger the worker uses: the failed task lands in
// workflow_task_failures with the workflow's ID, type, attempt and error, for
// support's GET /v1/workflow-problems.
func TestFailedWorkflowTasksAreRecorded(t *testing.T) {
	ctx := t.Context()
	store := postgres.NewStore(pgtest.New(t))
	logger := slog.New(slog.DiscardHandler)
	failures := newTaskFailures(slog.DiscardHandler)
	go failures.run(ctx, store.RecordWorkflowTaskFailure, logger)
	c := temporaltest.Dial(t, client.Options{Logger: tlog.NewStructuredLogger(slog.New(failures))})
	queue := "task-failures-" + rand.Text()[:8]
	w := worker.New(c, queue, worker.Options{})
	w.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
		panic("a bug in the workflow code")
	}, workflow.RegisterOptions{Name: "BrokenOrder"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	id := "order:BROKEN-" + rand.Text()[:8]
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, "BrokenOrder")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.TerminateWorkflow(ctx, id, "", "test over") }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		list, err := store.WorkflowTaskFailures(ctx, time.Now().Add(-time.Hour), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 1 {
			f := list[0]
			if f.WorkflowID != id || f.RunID != run.GetRunID() || f.WorkflowType != "BrokenOrder" || f.Attempt < 1 {
				t.Fatalf("recorded %+v, want workflow %s run %s type BrokenOrder", f, id, run.GetRunID())
			}
			if f.Error == "" || time.Since(f.LastFailedAt) > time.Minute {
				t.Fatalf("recorded %+v: want the error and a recent time", f)
			}
			t.Logf("recorded: %+v", f)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failed workflow task recorded 30 s after starting a panicking workflow (%d rows)", len(list))
		}
		time.Sleep(200 * time.Millisecond)
	}
}
