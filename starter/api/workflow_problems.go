package api

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/everywherecommerce/fulfilment/domain"
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
	now := time.Now().UTC()
	since := now.Add(-24 * time.Hour)
	var errs []domain.FieldError
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		errs = append(errs, domain.FieldError{Field: "query", Message: "is not a valid URL query string"})
	}
	var unknown []string
	for name, values := range q {
		switch {
		case name != "since":
			unknown = append(unknown, name)
		case len(values) > 1:
			errs = append(errs, domain.FieldError{Field: "since", Message: "may be given once"})
		case values[0] != "":
			t, err := time.Parse(time.RFC3339, values[0])
			if err != nil || textProblem(values[0], false) != "" {
				errs = append(errs, domain.FieldError{Field: "since", Message: "must be an RFC 3339 time such as 2026-03-02T00:00:00Z"})
			}
			since = t
		}
	}
	slices.Sort(unknown)
	for _, name := range unknown {
		errs = append(errs, domain.FieldError{Field: name, Message: "is not a parameter of this list; use since"})
	}
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
