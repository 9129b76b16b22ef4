package workflows_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	tadapter "github.com/everywherecommerce/fulfilment/adapters/temporal"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// minHistories is how many recorded histories testdata/ holds at least: the 14
// recorded before the GetVersion patches (old branches), the 20 v2-* and 20 v3-*
// paths recorded with them (OrderFulfilment, V1), the 20 v4-* paths of
// OrderFulfilmentV2 and the v5-* paths of its own patches (starter/api
// TestRecordPaths). Raise it when recording a path.
const minHistories = 76

// TestReplayRecordedHistories replays every history in testdata/ — recorded from
// the dev server, one per path of the lifecycle — with today's code. A change that
// would break running orders fails here: guard it with workflow.GetVersion.
func TestReplayRecordedHistories(t *testing.T) {
	dc := replayDataConverter(t)
	files := recordedHistories(t)
	if len(files) < minHistories {
		t.Fatalf("%d recorded histories in testdata/, want at least %d (one per path, old and new); record them with RECORD_HISTORIES=1 (docs/versioning.md)", len(files), minHistories)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			replayer, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: dc})
			if err != nil {
				t.Fatal(err)
			}
			replayer.RegisterWorkflowWithOptions(workflows.OrderFulfilment, workflow.RegisterOptions{Name: workflows.WorkflowType})
			replayer.RegisterWorkflowWithOptions(workflows.OrderFulfilment, workflow.RegisterOptions{Name: workflows.WorkflowTypeV1})
			if err := replayer.ReplayWorkflowHistoryFromJSONFile(nil, file); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestEveryPatchHasARecordedNewBranch: every workflow.GetVersion change ID in the
// package's code is passed on its new branch (a version marker with version ≥ 1)
// by at least one recorded history, so the replay test checks the new code too,
// not only the old branch of the histories recorded before the patch. A patch
// without such a history fails here: record one (docs/versioning.md).
func TestEveryPatchHasARecordedNewBranch(t *testing.T) {
	dc := replayDataConverter(t)
	newBranch := map[string][]string{} // change ID → histories that took its new branch
	for _, file := range recordedHistories(t) {
		for id, version := range versionMarkers(t, dc, file) {
			if version >= 1 {
				newBranch[id] = append(newBranch[id], filepath.Base(file))
			}
		}
	}
	patches := changeIDsInSource(t)
	if len(patches) == 0 {
		t.Log("no GetVersion patches in the workflow code")
	}
	for _, id := range patches {
		if len(newBranch[id]) == 0 {
			t.Errorf("GetVersion change ID %q: no recorded history in testdata/ takes its new branch; add a path to starter/api TestRecordPaths and record it with RECORD_HISTORIES=1 (docs/versioning.md)", id)
			continue
		}
		t.Logf("%s: new branch in %s", id, strings.Join(newBranch[id], ", "))
	}
}

// changeIDsInSource finds the change IDs of every workflow.GetVersion call in the
// package's (non-test) Go files: a string literal, or a string constant of the
// package. Anything else is refused, so that no patch escapes the check.
func changeIDsInSource(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{}
	var calls []*ast.CallExpr
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				for i, ident := range n.Names {
					if i < len(n.Values) {
						if lit, ok := n.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							consts[ident.Name], _ = strconv.Unquote(lit.Value)
						}
					}
				}
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "GetVersion" {
					if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "workflow" {
						calls = append(calls, n)
					}
				}
			}
			return true
		})
	}
	seen := map[string]bool{}
	for _, call := range calls {
		if len(call.Args) != 4 {
			t.Fatalf("%s: workflow.GetVersion with %d arguments", fset.Position(call.Pos()), len(call.Args))
		}
		var id string
		switch arg := call.Args[1].(type) {
		case *ast.BasicLit:
			id, _ = strconv.Unquote(arg.Value)
		case *ast.Ident:
			id = consts[arg.Name]
		}
		if id == "" {
			t.Fatalf("%s: the change ID of workflow.GetVersion is neither a string literal nor a string constant of the package", fset.Position(call.Pos()))
		}
		seen[id] = true
	}
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// versionMarkers returns the change IDs of a history's version markers (the
// MarkerRecorded events GetVersion writes on a new execution) with their versions.
// The marker's details go through the workflow's data converter, so they are
// encrypted like every payload and decoded with the replay key.
func versionMarkers(t *testing.T, dc converter.DataConverter, file string) map[string]workflow.Version {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	hist, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	out := map[string]workflow.Version{}
	for _, ev := range hist.GetEvents() {
		m := ev.GetMarkerRecordedEventAttributes()
		if ev.GetEventType() != enumspb.EVENT_TYPE_MARKER_RECORDED || m.GetMarkerName() != "Version" {
			continue
		}
		var id string
		var version workflow.Version
		if err := dc.FromPayloads(m.GetDetails()["change-id"], &id); err != nil {
			t.Fatalf("%s: event %d: change ID: %v", file, ev.GetEventId(), err)
		}
		if err := dc.FromPayloads(m.GetDetails()["version"], &version); err != nil {
			t.Fatalf("%s: event %d: version: %v", file, ev.GetEventId(), err)
		}
		out[id] = version
	}
	return out
}

// recordedHistories lists testdata/*.json.
func recordedHistories(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// replayDataConverter decrypts the recorded histories' payloads with the test-only
// key testdata/replay.key (demo data only; never a production key).
func replayDataConverter(t *testing.T) converter.DataConverter {
	t.Helper()
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
	return tadapter.DataConverter(codec)
}
