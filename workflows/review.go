package workflows

// The review request, the last step of every order that reached its customer.

import (
	"go.temporal.io/sdk/workflow"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

// requestReview waits until the review is due (the policy's delay after handover
// or delivery, moved out of the customer's quiet hours), then asks for a review if
// marketing consent holds at that moment; the activity records the last stages.
func (f *fulfilment) requestReview(ctx workflow.Context) error {
	if wait := f.reviewAt.Sub(workflow.Now(ctx)); wait > 0 {
		timer := workflow.NewTimerWithOptions(ctx, wait, workflow.TimerOptions{Summary: "review request"})
		if err := timer.Get(ctx, nil); err != nil {
			return err
		}
	}
	var j *activities.Journey
	var res activities.ReviewResult
	now := workflow.Now(ctx)
	byHand, err := f.attempt(ctx, step{name: "review request", also: []ResolveAction{ResolveSkip}}, func(ctx workflow.Context) error {
		return workflow.ExecuteActivity(f.options(ctx, "review request (if consent holds)"), j.RequestReview,
			f.summary(), f.message(domain.TouchReviewRequest, nil), now).Get(ctx, &res)
	})
	if err != nil {
		return err
	}
	if byHand {
		res = activities.ReviewResult{Skipped: "skipped by support"}
	}
	note := ""
	if res.Sent {
		f.journey = append(f.journey, JourneyItem{Kind: activities.EntryStage, Stage: domain.StageReviewRequested, At: now})
	} else {
		note = "review request skipped: " + res.Skipped
	}
	f.stage = domain.StageCompleted
	f.journey = append(f.journey, JourneyItem{Kind: activities.EntryStage, Stage: domain.StageCompleted, Note: note, At: now})
	if f.v2 {
		// The run ends now: a closed order's OrderStage is the last stage it was
		// open in (picked_up, delivered); the projection says completed. Saves
		// every completed order an upsert.
		return nil
	}
	return workflow.UpsertTypedSearchAttributes(ctx, stageAttribute(domain.StageCompleted))
}
