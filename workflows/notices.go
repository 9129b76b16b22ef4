package workflows

// Support's resend of a message the customer was sent (update resend).

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

func (f *fulfilment) validateResend(req ResendRequest) error {
	switch req.Channel {
	case "", domain.ChannelEmail, domain.ChannelSMS, domain.ChannelPush:
	default:
		return domain.FieldError{Field: "channel", Message: `must be "email", "sms" or "push" (or left out for every channel)`}
	}
	if _, ok := f.messages.notices[req.Touchpoint]; !ok {
		return refuse(ErrTypeNothingToResend, "This order's customer has not been sent the %s message.", req.Touchpoint)
	}
	return nil
}

// handleResend sends the touchpoint's last message again under a new key
// ("...-resend-<n>"), so that it is a message of its own, and records who asked.
func (f *fulfilment) handleResend(ctx workflow.Context, req ResendRequest) (ResendResult, error) {
	f.messages.resends++
	n := f.messages.notices[req.Touchpoint]
	n.Resend, n.Channel = f.messages.resends, req.Channel
	now := workflow.Now(ctx)
	note := fmt.Sprintf("resend %d of %s", f.messages.resends, req.Touchpoint)
	if req.Channel != "" {
		note += " via " + string(req.Channel)
	}
	f.journey = append(f.journey, JourneyItem{Kind: activities.EntryStaffAction, Stage: f.stage, Note: note, Actor: req.By, At: now})
	entry := activities.JourneyEntry{OrderID: f.in.Order.OrderID, Kind: activities.EntryStaffAction,
		Key: fmt.Sprintf("resend:%d", f.messages.resends), Detail: note, Actor: req.By, At: now, Stage: f.stage, View: f.view()}
	var j *activities.Journey
	var sent []activities.NotifyResult
	err := workflow.ExecuteActivity(activityOptions(ctx, note), j.Tell, entry, n).Get(ctx, &sent)
	if err != nil {
		return ResendResult{}, fmt.Errorf("%s: %w", note, err)
	}
	return ResendResult{OrderID: f.in.Order.OrderID, Resend: f.messages.resends, Sent: sent}, nil
}
