package api_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/everywherecommerce/fulfilment/workflows"
)

// recordDir is where RECORD_HISTORIES=1 writes the histories the replay test in
// workflows/ replays.
const recordDir = "../../workflows/testdata"

// checkHistory fetches the order's finished history from the dev server and
// replays it with today's workflow code; with RECORD_HISTORIES=1 it also saves it
// as workflows/testdata/<name>.json for the replay test.
func (s *system) checkHistory(id, name string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	hist := &historypb.History{}
	it := s.client.GetWorkflowHistory(ctx, workflows.WorkflowID(id), "", false, 0)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			s.t.Fatalf("history of %s: %v", id, err)
		}
		hist.Events = append(hist.Events, ev)
	}
	replayer, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: s.dataConverter})
	if err != nil {
		s.t.Fatal(err)
	}
	replayer.RegisterWorkflowWithOptions(workflows.OrderFulfilment, workflow.RegisterOptions{Name: workflows.WorkflowType})
	if err := replayer.ReplayWorkflowHistory(nil, hist); err != nil {
		s.t.Fatalf("replay of %s: %v", name, err)
	}
	if os.Getenv("RECORD_HISTORIES") != "1" {
		return
	}
	data, err := protojson.MarshalOptions{Indent: "  "}.Marshal(hist)
	if err != nil {
		s.t.Fatal(err)
	}
	file := filepath.Join(recordDir, strings.ReplaceAll(name, " ", "-")+".json")
	if err := os.WriteFile(file, append(data, '\n'), 0o644); err != nil {
		s.t.Fatal(err)
	}
	s.t.Logf("recorded %s", file)
}
