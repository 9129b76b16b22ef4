package workflows_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	tadapter "github.com/everywherecommerce/fulfilment/adapters/temporal"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// TestReplayRecordedHistories replays every history in testdata/ — recorded from
// the dev server, one per path of the lifecycle — with today's code. A change that
// would break running orders fails here: guard it with workflow.GetVersion.
func TestReplayRecordedHistories(t *testing.T) {
	key, err := os.ReadFile("testdata/replay.key")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := tadapter.ParseKeys("replay:" + strings.TrimSpace(string(key)))
	if err != nil {
		t.Fatal(err)
	}
	codec, err := tadapter.NewCodec(keys)
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 13 {
		t.Fatalf("%d recorded histories in testdata/, want one per path (13); record them with RECORD_HISTORIES=1 (README)", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			replayer, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: tadapter.DataConverter(codec)})
			if err != nil {
				t.Fatal(err)
			}
			replayer.RegisterWorkflowWithOptions(workflows.OrderFulfilment, workflow.RegisterOptions{Name: workflows.WorkflowType})
			if err := replayer.ReplayWorkflowHistoryFromJSONFile(nil, file); err != nil {
				t.Fatal(err)
			}
		})
	}
}
