package alarms

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
)

// Activity names, run by kpis.KPIsAndAlarms after the KPIs are recomputed.
const (
	DetectActivity = "DetectAlarms"
	NotifyActivity = "NotifyAlarms"
)

// Activities are the alarm bell's activities.
type Activities struct {
	Bell     *Bell
	Notifier *Notifier
}

// DetectAlarms evaluates the hours after the watermark up to at (its business
// key: the watermark makes a second run for the same hour a no-op).
func (a *Activities) DetectAlarms(ctx context.Context, at time.Time) (Evaluation, error) {
	ev, err := a.Bell.EvaluateThrough(ctx, at)
	if err != nil {
		return ev, fmt.Errorf("detect alarms through %s: %w", at.Format(time.RFC3339), err)
	}
	return ev, nil
}

// NotifyAlarms sends the queued alarm messages once each (alarm_notifications
// rows guard them: see Notifier.SendPending).
func (a *Activities) NotifyAlarms(ctx context.Context) (Sent, error) {
	if a.Notifier == nil {
		return Sent{}, nil
	}
	s, err := a.Notifier.SendPending(ctx)
	if err != nil {
		return s, fmt.Errorf("send alarm messages: %w", err)
	}
	return s, nil
}

// Registrar is the part of worker.Registry used here.
type Registrar interface {
	RegisterActivityWithOptions(a any, options activity.RegisterOptions)
}

// Register adds the activities to r.
func Register(r Registrar, a *Activities) {
	r.RegisterActivityWithOptions(a.DetectAlarms, activity.RegisterOptions{Name: DetectActivity})
	r.RegisterActivityWithOptions(a.NotifyAlarms, activity.RegisterOptions{Name: NotifyActivity})
}
