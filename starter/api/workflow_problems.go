package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// failingNowWithin is how recent a failed workflow task must be for its order
// to count as failing now: the server retries a failing workflow task at most
// every 10 minutes, so a run not seen failing for 15 minutes has recovered (or
// ended) with high likelihood.
const failingNowWithin = 15 * time.Minute

// workflowProblem is one order whose workflow task failed.
type workflowProblem struct {
	OrderID string `json:"order_id"`
	records.WorkflowTaskFailure
	// FailingNow: the task failed within the last 15 minutes.
	FailingNow bool `json:"failing_now"`
}

type workflowProblemList struct {
	Problems []workflowProblem `json:"problems"`
}

// listWorkflowProblems answers GET /v1/workflow-problems: the orders whose
// workflow task failed since `since` (default: the last 24 hours), which the
// worker records from the SDK's log (docs/runbook.md). Such an order shows
// Running and its own code, which would flag it for attention, is what cannot
// run; this is how support sees it.
func (s *Server) listWorkflowProblems(w http.ResponseWriter, r *http.Request) {
	r, cancel := within(r, s.cfg.ReadTimeout)
	defer cancel()
	now := s.cfg.Now().UTC()
	since := now.Add(-24 * time.Hour)
	errs := queryParams{names: []string{"since"}, unknown: "a parameter of this list"}.parse(r.URL.RawQuery,
		func(_, v string, bad func(string, ...any)) { since = queryTime(v, bad) }, nil)
	if len(errs) > 0 {
		s.problem(w, r, validationProblem("Invalid query", errs))
		return
	}
	list, err := s.store.WorkflowTaskFailures(r.Context(), since, 1000)
	if err != nil {
		s.problem(w, r, unavailable("Cannot read the workflow problems now.", err))
		return
	}
	out := workflowProblemList{Problems: []workflowProblem{}}
	for _, f := range list {
		out.Problems = append(out.Problems, workflowProblem{
			OrderID:             strings.TrimPrefix(f.WorkflowID, "order:"),
			WorkflowTaskFailure: f,
			FailingNow:          now.Sub(f.LastFailedAt) <= failingNowWithin,
		})
	}
	writeJSON(w, http.StatusOK, out)
}
