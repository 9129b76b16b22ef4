// Package kpis recomputes the journey KPIs (docs/kpis.md) durably: a Temporal
// Schedule, created by the worker at start-up, starts the ComputeKPIs workflow
// every interval; its one activity recomputes a sliding window of buckets in
// PostgreSQL.
package kpis

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/everywherecommerce/fulfilment/alarms"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

const (
	// ScheduleID is the one schedule that recomputes the KPIs.
	ScheduleID = "kpis"
	// WorkflowType is the workflow the schedule starts: the KPIs, then the
	// alarm bell over them.
	WorkflowType = "KPIsAndAlarms"
	// OldWorkflowType is the workflow schedules started before the alarm bell
	// (KPIs only); it stays registered so that a run started by an older worker
	// finishes on a newer one, and can go once no such run is left.
	OldWorkflowType = "ComputeKPIs"
	// ActivityName is its one activity.
	ActivityName = "RecomputeKPIs"
	// DefaultInterval is how often the KPIs are recomputed (FULFILMENT_KPI_INTERVAL).
	DefaultInterval = 15 * time.Minute
	// HourBuckets and DayBuckets are the sliding window recomputed each run: late
	// records (a delivery reported hours later, a notification's status) change
	// recent buckets, older ones stay as computed.
	HourBuckets = 48
	DayBuckets  = 14
)

// Store computes the KPIs of a window (postgres.Store).
type Store interface {
	ComputeKPIs(ctx context.Context, w records.KPIWindow) (int64, error)
}

// Activities holds the KPI activity.
type Activities struct {
	Store Store
}

// RecomputeKPIs recomputes the window; the window is its business key, and
// recomputing it again writes the same values.
func (a *Activities) RecomputeKPIs(ctx context.Context, w records.KPIWindow) (int64, error) {
	n, err := a.Store.ComputeKPIs(ctx, w)
	if err != nil {
		return 0, fmt.Errorf("recompute KPIs: %w", err)
	}
	return n, nil
}

// ComputeKPIs is the scheduled workflow: one activity over the window ending at
// the workflow's start.
func ComputeKPIs(ctx workflow.Context) error {
	ctx = stepOptions(ctx)
	w, n, err := recompute(ctx, workflow.Now(ctx))
	if err != nil {
		return err
	}
	workflow.GetLogger(ctx).Info("KPIs recomputed", "values", n, "hours_from", w.HoursFrom, "days_from", w.DaysFrom)
	return nil
}

// stepOptions are the options of every activity of the schedule's workflows.
func stepOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5},
	})
}

// recompute runs the KPI activity over the window ending at now and returns
// the window and the values it wrote.
func recompute(ctx workflow.Context, now time.Time) (records.KPIWindow, int64, error) {
	w := records.NewKPIWindow(now, HourBuckets, DayBuckets)
	var n int64
	err := workflow.ExecuteActivity(ctx, ActivityName, w).Get(ctx, &n)
	return w, n, err
}

// KPIsAndAlarms is the scheduled workflow: the KPIs of the window ending at its
// start, then the alarm bell evaluated up to that hour, then the messages it
// queued. Each step is one activity with its own business key (the window, the
// hour, the queued rows), so a retried step repeats nothing.
func KPIsAndAlarms(ctx workflow.Context) error {
	now := workflow.Now(ctx)
	ctx = stepOptions(ctx)
	_, n, err := recompute(ctx, now)
	if err != nil {
		return err
	}
	var ev alarms.Evaluation
	if err := workflow.ExecuteActivity(ctx, alarms.DetectActivity, now).Get(ctx, &ev); err != nil {
		return err
	}
	var sent alarms.Sent
	if err := workflow.ExecuteActivity(ctx, alarms.NotifyActivity).Get(ctx, &sent); err != nil {
		return err
	}
	workflow.GetLogger(ctx).Info("KPIs recomputed and alarms evaluated", "values", n,
		"alarms_opened", ev.Opened, "alarms_resolved", ev.Resolved, "alarms_open", ev.Open,
		"messages_sent", sent.Sent, "messages_failed", sent.Failed, "messages_unconfirmed", sent.Unconfirmed, "messages_retry", sent.Retry)
	return nil
}

// Registrar is the part of worker.Registry used here.
type Registrar interface {
	RegisterWorkflowWithOptions(w any, options workflow.RegisterOptions)
	RegisterActivityWithOptions(a any, options activity.RegisterOptions)
}

// Register adds the workflows and their activities to r: the KPI activity on
// store, the alarm bell's on a.
func Register(r Registrar, store Store, a *alarms.Activities) {
	alarms.Register(r, a)
	r.RegisterWorkflowWithOptions(KPIsAndAlarms, workflow.RegisterOptions{Name: WorkflowType})
	r.RegisterWorkflowWithOptions(ComputeKPIs, workflow.RegisterOptions{Name: OldWorkflowType})
	r.RegisterActivityWithOptions((&Activities{Store: store}).RecomputeKPIs, activity.RegisterOptions{Name: ActivityName})
}

// ScheduleOptions say which schedule to keep and how often it runs.
type ScheduleOptions struct {
	// ID is the schedule's ID and its workflows' ID; ScheduleID unless a test
	// needs its own.
	ID        string
	TaskQueue string
	Every     time.Duration
}

// EnsureSchedule creates the schedule, or, when it exists, sets its interval to
// o.Every and its task queue to o.TaskQueue if they differ; it is safe to call
// from every worker at every start-up.
func EnsureSchedule(ctx context.Context, c client.Client, o ScheduleOptions) error {
	every := o.Every
	if every <= 0 {
		return fmt.Errorf("KPI schedule interval %s: want a positive duration", every)
	}
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: every}}}
	sc := c.ScheduleClient()
	_, err := sc.Create(ctx, client.ScheduleOptions{
		ID:   o.ID,
		Spec: spec,
		Action: &client.ScheduleWorkflowAction{
			ID: o.ID, Workflow: WorkflowType, TaskQueue: o.TaskQueue,
			WorkflowExecutionTimeout: 10 * time.Minute,
		},
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
	})
	if err == nil {
		return nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return fmt.Errorf("create schedule %s: %w", o.ID, err)
	}
	h := sc.GetHandle(ctx, o.ID)
	desc, err := h.Describe(ctx)
	if err != nil {
		return fmt.Errorf("describe schedule %s: %w", o.ID, err)
	}
	action, _ := desc.Schedule.Action.(*client.ScheduleWorkflowAction)
	is := desc.Schedule.Spec
	if is != nil && len(is.Intervals) == 1 && is.Intervals[0].Every == every && is.Intervals[0].Offset == 0 &&
		action != nil && action.TaskQueue == o.TaskQueue && workflowName(action.Workflow) == WorkflowType {
		return nil
	}
	err = h.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
		s := in.Description.Schedule
		s.Spec = &spec
		if a, ok := s.Action.(*client.ScheduleWorkflowAction); ok {
			a.TaskQueue = o.TaskQueue
			a.Workflow = WorkflowType
		}
		return &client.ScheduleUpdate{Schedule: &s}, nil
	}})
	if err != nil {
		return fmt.Errorf("update schedule %s to every %s: %w", o.ID, every, err)
	}
	return nil
}

// workflowName is a schedule action's workflow type: a name, or (as Describe
// returns it) a name too; anything else is not ours.
func workflowName(w any) string {
	if s, ok := w.(string); ok {
		return s
	}
	return ""
}
