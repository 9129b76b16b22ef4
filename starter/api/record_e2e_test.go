package api_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/everywherecommerce/fulfilment/messages"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// recordDir is where RECORD_HISTORIES=1 writes the histories the replay test in
// workflows/ replays.
const recordDir = "../../workflows/testdata"

// history reads every event of the order's workflow history so far; a read
// that fails ends the test.
func (s *system) history(id string) []*historypb.HistoryEvent {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var events []*historypb.HistoryEvent
	it := s.client.GetWorkflowHistory(ctx, workflows.WorkflowID(id), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			s.t.Fatalf("history of %s: %v", id, err)
		}
		events = append(events, ev)
	}
	return events
}

// checkHistory fetches the order's finished history from the dev server and
// replays it with today's workflow code; with RECORD_HISTORIES=1 it also saves it
// as workflows/testdata/<name>.json for the replay test.
func (s *system) checkHistory(id, name string) {
	s.t.Helper()
	hist := &historypb.History{Events: s.history(id)}
	replayer, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: s.dataConverter})
	if err != nil {
		s.t.Fatal(err)
	}
	replayer.RegisterWorkflowWithOptions(workflows.OrderFulfilment, workflow.RegisterOptions{Name: workflows.WorkflowType})
	replayer.RegisterWorkflowWithOptions(workflows.OrderFulfilment, workflow.RegisterOptions{Name: workflows.WorkflowTypeV1})
	if err := replayer.ReplayWorkflowHistory(nil, hist); err != nil {
		s.t.Fatalf("replay of %s: %v", name, err)
	}
	s.codeNotInHistory(id, hist)
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

// codeNotInHistory fails when the order's pickup code (read from the customer's
// email) appears anywhere in its history, every payload decoded as support's
// codec endpoint would: what support can read in the Web UI must never hand over
// an order.
func (s *system) codeNotInHistory(id string, hist *historypb.History) {
	s.t.Helper()
	ready := s.outboxByKey(id)[id+":notify:ready-for-pickup:email"]
	if len(ready) == 0 {
		return // no code was issued
	}
	code := messages.FindPickupCode(ready[0].Body)
	if code == "" {
		s.t.Fatalf("no pickup code in the ready-for-pickup email of %s", id)
	}
	standalone := regexp.MustCompile(`(^|[^0-9])` + code + `([^0-9]|$)`)
	err := proxy.VisitPayloads(context.Background(), hist, proxy.VisitPayloadsOptions{
		Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
			for _, p := range ps {
				var v any
				if err := s.dataConverter.FromPayload(p, &v); err != nil {
					continue // not JSON: nothing of ours
				}
				text, _ := json.Marshal(v)
				if standalone.Match(text) {
					s.t.Errorf("the pickup code %s of %s is in its history: %s", code, id, text)
				}
			}
			return ps, nil
		},
	})
	if err != nil {
		s.t.Fatal(err)
	}
}
