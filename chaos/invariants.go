package main

import (
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// result is one invariant's outcome: how many things it looked at, what broke it,
// and what it saw that is allowed but worth knowing (explained duplicates).
type result struct {
	name       string
	checked    int
	violations []string
	notes      []string
}

func (r *result) violate(format string, args ...any) {
	r.violations = append(r.violations, fmt.Sprintf(format, args...))
}

// checkInvariants checks every invariant; each reads the facts and the orders'
// expectations only.
func checkInvariants(f *facts, orders []*orderRun) []result {
	return []result{
		checkJourneys(orders),
		checkClosed(f, orders),
		checkNotStuck(f, orders),
		checkStages(f, orders),
		checkAttention(f, orders),
		checkCaptures(f, orders),
		checkRefunds(f, orders),
		checkLabels(f, orders),
		checkMessages(f, orders),
		checkStock(f, orders),
		checkPickTasks(f, orders),
		checkReservations(f, orders),
	}
}

// who names an order in a violation: its ID and scenario.
func who(o *orderRun) string { return fmt.Sprintf("%s (%s)", o.plan.ID, o.plan.Kind) }

// checkJourneys: every answer the checkout service, staff, customers and support
// got was one their scenario allows.
func checkJourneys(orders []*orderRun) result {
	r := result{name: "every API answer as the scenario expects"}
	for _, o := range orders {
		r.checked++
		_, _, _, problems := o.snapshot()
		for _, p := range problems {
			r.violate("%s: %s", who(o), p)
		}
	}
	return r
}

// checkClosed: no order's workflow failed, was terminated or timed out.
func checkClosed(f *facts, orders []*orderRun) result {
	r := result{name: "no workflow Failed, Terminated, TimedOut or Canceled"}
	for _, o := range orders {
		wf := f.workflows[o.plan.ID]
		r.checked++
		switch {
		case wf.describeErr != "":
			r.violate("%s: no workflow: %s", who(o), wf.describeErr)
		case wf.status == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, wf.status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		default:
			r.violate("%s: workflow %s at projection stage %q", who(o), wf.status, f.projection[o.plan.ID].Stage)
		}
	}
	return r
}

// checkNotStuck: every order's workflow has closed when the wait ended.
func checkNotStuck(f *facts, orders []*orderRun) result {
	r := result{name: "no order still running (stuck)"}
	for _, o := range orders {
		wf := f.workflows[o.plan.ID]
		r.checked++
		if wf.status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			stage := f.projection[o.plan.ID].Stage
			if wf.query != nil {
				stage = string(wf.query.Stage)
			}
			r.violate("%s: still running at stage %s (needs attention: %v)", who(o), stage, deref(wf.needsAttention))
		}
	}
	return r
}

// checkStages: the expected final stage is what the projection and the status
// query say, and the OrderStage search attribute says it as a closed order does
// (workflows.ClosedStageAttribute).
func checkStages(f *facts, orders []*orderRun) result {
	r := result{name: "final stage as expected (projection = status query = search attribute)"}
	for _, o := range orders {
		r.checked++
		want, _, _, _ := o.snapshot()
		wf := f.workflows[o.plan.ID]
		row, inProjection := f.projection[o.plan.ID]
		query := "<no answer: " + truncate(wf.queryErr, 120) + ">"
		if wf.query != nil {
			query = string(wf.query.Stage)
		}
		proj := "<no row>"
		if inProjection {
			proj = row.Stage
		}
		attr := workflows.ClosedStageAttribute(o.plan.Method, want.Stage)
		if proj != string(want.Stage) || query != string(want.Stage) || wf.stageAttr != string(attr) {
			r.violate("%s: want %s (search attribute %s); projection %s, status query %s, search attribute %q", who(o), want.Stage, attr, proj, query, wf.stageAttr)
		}
	}
	return r
}

// checkAttention: an order needs attention exactly when its scenario says so
// (a payment captured elsewhere), in the status query, the projection and the
// NeedsAttention search attribute alike.
func checkAttention(f *facts, orders []*orderRun) result {
	r := result{name: "NeedsAttention only where the scenario expects it"}
	for _, o := range orders {
		r.checked++
		want, _, _, _ := o.snapshot()
		wf := f.workflows[o.plan.ID]
		row, ok := f.projection[o.plan.ID]
		var views []string
		if wf.query != nil && wf.query.NeedsAttention != want.NeedsAttention {
			views = append(views, fmt.Sprintf("status query %v", wf.query.NeedsAttention))
		}
		if ok && row.NeedsAttention != want.NeedsAttention {
			views = append(views, fmt.Sprintf("projection %v", row.NeedsAttention))
		}
		if wf.needsAttention != nil && *wf.needsAttention != want.NeedsAttention {
			views = append(views, fmt.Sprintf("search attribute %v", *wf.needsAttention))
		}
		if len(views) > 0 {
			r.violate("%s: want needs attention %v at stage %s; %v%s", who(o), want.NeedsAttention, row.Stage, views, attentionWhy(wf.query))
		}
	}
	return r
}

// attentionWhy is the last attention note of the order's journey, if any.
func attentionWhy(s *workflows.Status) string {
	if s == nil {
		return ""
	}
	for i := len(s.Journey) - 1; i >= 0; i-- {
		if j := s.Journey[i]; j.Kind == activities.EntryAttention && j.Note != "" {
			return " (" + j.Note + ")"
		}
	}
	return ""
}

func deref(b *bool) bool { return b != nil && *b }
