package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/everywherecommerce/fulfilment/domain"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// No order ends FAILED: a step whose activity gives up puts the order in front of
// a person and waits for them. "Gives up" means one of two things:
//
//   - the activity answers with a permanent error (a non-retryable application
//     error: the provider refused for good, or the data can never be written):
//     the order needs attention and waits, durably, for support's decision
//     (update "resolve": retry, done by hand, or cancel);
//   - the activity keeps failing with retryable errors for longer than the
//     policy's StuckAfter (a provider or database outage): the order needs
//     attention while the activity keeps retrying, and the flag clears by itself
//     when it succeeds.
//
// The bound costs nothing on the happy path: it is the activity's
// ScheduleToCloseTimeout, not a timer.

// ResolveAction is what support decides for a step that gave up.
type ResolveAction string

// Decisions for a step that gave up. Which ones a step offers is in its Problem.
const (
	// ResolveRetry runs the step again (after the cause was fixed).
	ResolveRetry ResolveAction = "retry"
	// ResolveSkip records the step as done by hand outside the system (a refund
	// made in the provider's dashboard, a message told by phone) and goes on.
	ResolveSkip ResolveAction = "skip"
	// ResolveCancel cancels the order, refunding what is still captured or not.
	ResolveCancel ResolveAction = "cancel"
)

// ResolveRequest is support's decision for the step the order waits on.
type ResolveRequest struct {
	Action ResolveAction `json:"action"`
	// Refund (cancel only) refunds what is still captured; false records that the
	// money was settled outside (or is kept on purpose), as the note says.
	Refund bool `json:"refund,omitempty"`
	// Note says why; required for skip and cancel, journaled with the actor.
	Note string `json:"note,omitempty"`
	By   string `json:"by"`
}

// ResolveResult confirms which step the decision was for.
type ResolveResult struct {
	OrderID string        `json:"order_id"`
	Step    string        `json:"step"`
	Action  ResolveAction `json:"action"`
}

// Problem is a step of the order that gave up: what, why, since when, and what
// support may decide. Waiting is false while the step keeps retrying by itself.
type Problem struct {
	Step    string          `json:"step"`
	Reason  string          `json:"reason"`
	Since   time.Time       `json:"since"`
	Waiting bool            `json:"waiting"`
	Actions []ResolveAction `json:"actions,omitempty"`
}

// DefaultStuckAfter bounds retrying without progress for orders whose policy
// predates StuckAfter.
const DefaultStuckAfter = 10 * time.Minute

// step is one activity call of the run that may give up.
type step struct {
	name string
	// also are the decisions beyond retry that make sense for this step.
	also []ResolveAction
	// inFlight, when set, is true from the start of each attempt until the
	// attempt fails (attempt clears it) or the caller has applied its success
	// (the caller clears it): an update that depends on the step's outcome
	// waits for it instead of being refused (handleConfirmArrival).
	inFlight *bool
}

// supportCancel is returned by a step that support resolved by cancelling the
// order; the run carries the cancellation out.
type supportCancel struct {
	reason, actor string
	refund        bool
}

func (e *supportCancel) Error() string { return "cancelled by support: " + e.reason }

// stuckAfter is the bound for retrying without progress.
func (f *fulfilment) stuckAfter() time.Duration {
	if f.in.Policy.StuckAfter > 0 {
		return f.in.Policy.StuckAfter
	}
	return DefaultStuckAfter
}

// options are a step's activity options: those of every activity, bounded by
// StuckAfter so that an activity retrying without progress comes back to the run.
func (f *fulfilment) options(ctx workflow.Context, summary string) workflow.Context {
	ctx = activityOptions(ctx, summary)
	opts := workflow.GetActivityOptions(ctx)
	opts.ScheduleToCloseTimeout = f.stuckAfter()
	return workflow.WithActivityOptions(ctx, opts)
}

// attempt runs a step until it succeeds or support decides otherwise. It reports
// skipped when support recorded the step as done by hand; an error is either the
// workflow's own cancellation or a *supportCancel.
func (f *fulfilment) attempt(ctx workflow.Context, s step, run func(ctx workflow.Context) error) (skipped bool, err error) {
	flagged := false
	for {
		if s.inFlight != nil {
			*s.inFlight = true
		}
		err := run(ctx)
		if err != nil && s.inFlight != nil {
			*s.inFlight = false
		}
		if err == nil {
			if flagged {
				f.settleProblem(ctx, s.name+" succeeded", "")
			}
			return false, nil
		}
		if ctx.Err() != nil {
			return false, err
		}
		if !permanent(err) {
			if !flagged {
				flagged = true
				f.raise(ctx, Problem{Step: s.name, Since: workflow.Now(ctx),
					Reason: fmt.Sprintf("%s keeps failing (retrying for over %s): %s", s.name, f.stuckAfter(), failureText(err))})
			}
			continue // the flag stays up while the step keeps retrying
		}
		flagged = true
		actions := append([]ResolveAction{ResolveRetry}, s.also...)
		if slices.Contains(actions, ResolveCancel) && (f.cancellation.running || !cancellable(f.stage)) {
			actions = slices.DeleteFunc(actions, func(a ResolveAction) bool { return a == ResolveCancel })
		}
		f.raise(ctx, Problem{Step: s.name, Since: workflow.Now(ctx), Waiting: true, Actions: actions,
			Reason: fmt.Sprintf("%s refused: %s", s.name, failureText(err))})
		d, told, err := f.awaitDecision(ctx)
		if err != nil {
			return false, err
		}
		note := fmt.Sprintf("%s of %s", d.Action, s.name)
		if d.Note != "" {
			note += ": " + d.Note
		}
		switch d.Action {
		case ResolveRetry:
			// No longer waiting from the decision on, so that the journal entry
			// carries that into the projection (and a second decision is refused).
			f.attention.problem.Waiting = false
			f.noteQuietly(ctx, note, d.By)
			continue
		case ResolveSkip:
			f.settleProblem(ctx, note, d.By)
			return true, nil
		default:
			if !d.Refund {
				note += " (no refund)"
			}
			f.settleProblem(ctx, note, d.By)
			return false, &supportCancel{reason: told, actor: d.By, refund: d.Refund}
		}
	}
}

// ReasonCancelledBySupport is what the customer is told when support cancels an
// order that could not go on; support's note stays in the journal.
const ReasonCancelledBySupport = "we could not complete the order"

// awaitDecision waits for support's decision on the current problem, and says
// what the customer is told should it be a cancellation. A cancel update that
// arrives meanwhile (and may cancel) is a decision to cancel with a refund, for
// the reason it gives.
func (f *fulfilment) awaitDecision(ctx workflow.Context) (d ResolveRequest, told string, err error) {
	canCancel := func() bool {
		return f.cancellation.req != nil && !f.cancellation.running && slices.Contains(f.attention.problem.Actions, ResolveCancel)
	}
	if err := workflow.Await(ctx, func() bool { return f.attention.decision != nil || canCancel() }); err != nil {
		return ResolveRequest{}, "", err
	}
	if f.attention.decision != nil {
		d := *f.attention.decision
		f.attention.decision = nil
		return d, ReasonCancelledBySupport, nil
	}
	return ResolveRequest{Action: ResolveCancel, Refund: true, Note: f.cancellation.req.Reason, By: f.cancellation.req.By}, f.cancellation.req.Reason, nil
}

// raise records the problem and flags the order (search attribute, projection,
// journey, Web UI details).
func (f *fulfilment) raise(ctx workflow.Context, p Problem) {
	f.attention.problem = &p
	if err := f.setAttention(ctx, true, p.Reason, ""); err != nil {
		// The flag is in the search attribute and the status query already; the
		// journal's store may be what is failing.
		workflow.GetLogger(ctx).Error("journal attention", "order_id", f.in.Order.OrderID, "error", err)
	}
}

// settleProblem clears the problem and lowers the flag unless something else
// still needs a person.
func (f *fulfilment) settleProblem(ctx workflow.Context, note, actor string) {
	f.attention.problem = nil
	if err := f.lowerFlag(ctx, note, actor); err != nil {
		workflow.GetLogger(ctx).Error("journal attention", "order_id", f.in.Order.OrderID, "error", err)
	}
}

// lowerFlag clears NeedsAttention once nothing needs a person any more: no step
// that gave up, no other flag (a missed SLA, a carrier exception, a lock). While
// something does, the note is only journaled.
func (f *fulfilment) lowerFlag(ctx workflow.Context, note, actor string) error {
	if f.attention.problem != nil || f.attention.flaggedOther {
		return f.note(ctx, note, actor)
	}
	return f.setAttention(ctx, false, note, actor)
}

// noteQuietly journals what support decided; a failure is logged (see raise).
func (f *fulfilment) noteQuietly(ctx workflow.Context, what, actor string) {
	if err := f.note(ctx, what, actor); err != nil {
		workflow.GetLogger(ctx).Error("journal decision", "order_id", f.in.Order.OrderID, "error", err)
	}
}

// permanent reports whether an activity failed for good: a non-retryable error.
// Anything else that reaches the workflow is an activity whose retries ran into
// StuckAfter (the server reports the last attempt's error with retry state
// Timeout, or a TimeoutError when the bound passed while an attempt ran or waited
// for a worker).
func permanent(err error) bool {
	var act *temporal.ActivityError
	if errors.As(err, &act) && act.RetryState() == enumspb.RETRY_STATE_NON_RETRYABLE_FAILURE {
		return true
	}
	var app *temporal.ApplicationError
	return errors.As(err, &app) && app.NonRetryable()
}

// failureText is the cause of an activity failure in words, without the SDK's
// wrapping ("activity error (type: ..., scheduledEventID: ...)").
func failureText(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Message()
	}
	var timeout *temporal.TimeoutError
	if errors.As(err, &timeout) {
		return "no answer in time"
	}
	return err.Error()
}

func (f *fulfilment) validateResolve(req ResolveRequest) error {
	switch {
	case f.attention.problem == nil || !f.attention.problem.Waiting || f.attention.decision != nil:
		return refuse(ErrTypeNothingToResolve, "The order is not waiting for a decision from support.")
	case !slices.Contains(f.attention.problem.Actions, req.Action):
		names := make([]string, len(f.attention.problem.Actions))
		for i, a := range f.attention.problem.Actions {
			names[i] = string(a)
		}
		return domain.FieldError{Field: "action", Message: fmt.Sprintf("must be one of %s for %s", strings.Join(names, ", "), f.attention.problem.Step)}
	case req.Action != ResolveRetry && strings.TrimSpace(req.Note) == "":
		return domain.FieldError{Field: "note", Message: "is required to " + string(req.Action) + " (what was done, and why)"}
	case req.Refund && req.Action != ResolveCancel:
		return domain.FieldError{Field: "refund", Message: "applies to cancel only"}
	}
	return nil
}

// handleResolve hands support's decision to the waiting step; the step journals
// it with the actor when it acts on it.
func (f *fulfilment) handleResolve(_ workflow.Context, req ResolveRequest) (ResolveResult, error) {
	f.attention.decision = &req
	return ResolveResult{OrderID: f.in.Order.OrderID, Step: f.attention.problem.Step, Action: req.Action}, nil
}

// refundStep is a refund's step: support may also record it as refunded by hand,
// and, for a short pick, cancel the whole order instead.
func refundStep(reason string) step {
	s := step{name: "refund (" + reason + ")", also: []ResolveAction{ResolveSkip}}
	if reason != "cancel" {
		s.also = append(s.also, ResolveCancel)
	}
	return s
}

// journeyStep is a bookkeeping-and-message step: support may record it as done
// by hand, or cancel while the order still can be.
func journeyStep(name string) step {
	return step{name: name, also: []ResolveAction{ResolveSkip, ResolveCancel}}
}
