package main

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/everywherecommerce/fulfilment/workflows"
)

// maxHistoryLines bounds the events shown per order: an order's history in a
// short run has tens of events, a stuck one may have many more.
const maxHistoryLines = 120

// history is an order's workflow history as lines for the report, the time since
// the workflow started first: what the engine did while the journey waited
// (activities scheduled, failed and timed out, timers, signals, updates). The
// workflow tasks that went well are left out; those that failed or timed out
// stay.
func history(ctx context.Context, c client.Client, fc converter.FailureConverter, orderID string) ([]string, error) {
	reason := func(f *failurepb.Failure) string {
		if f == nil {
			return "none"
		}
		return truncate(fc.FailureToError(f).Error(), 160)
	}
	it := c.GetWorkflowHistory(ctx, workflows.WorkflowID(orderID), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var start time.Time
	var out []string
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return out, fmt.Errorf("history of %s: %w", orderID, err)
		}
		if start.IsZero() {
			start = e.GetEventTime().AsTime()
		}
		what, ok := describeEvent(e, reason)
		if !ok {
			continue
		}
		if len(out) == maxHistoryLines {
			out = append(out, "… (more events left out)")
			break
		}
		out = append(out, fmt.Sprintf("+%.1fs %s", e.GetEventTime().AsTime().Sub(start).Seconds(), what))
	}
	return append(out, pending(ctx, c, orderID, start, reason)...), nil
}

// pending describes the activities the workflow still waits for, as the engine
// holds them: a stuck order shows here what its history cannot (attempts that
// failed, the next attempt's time, an activity nobody started).
func pending(ctx context.Context, c client.Client, orderID string, start time.Time, reason func(*failurepb.Failure) string) []string {
	resp, err := c.DescribeWorkflowExecution(ctx, workflows.WorkflowID(orderID), "")
	if err != nil {
		return []string{"pending activities unknown: " + err.Error()}
	}
	since := func(t *timestamppb.Timestamp) string {
		if t == nil {
			return "-"
		}
		return fmt.Sprintf("+%.1fs", t.AsTime().Sub(start).Seconds())
	}
	var out []string
	for _, a := range resp.GetPendingActivities() {
		out = append(out, fmt.Sprintf("pending %s (id %s): %s, attempt %d, scheduled %s, last started %s, last attempt ended %s, next attempt %s, expires %s, last failure: %s",
			a.GetActivityType().GetName(), a.GetActivityId(), a.GetState(), a.GetAttempt(), since(a.GetScheduledTime()),
			since(a.GetLastStartedTime()), since(a.GetLastAttemptCompleteTime()), since(a.GetNextAttemptScheduleTime()),
			since(a.GetExpirationTime()), reason(a.GetLastFailure())))
	}
	return out
}

// describeEvent names an event with what tells it apart, failures by reason, or
// reports false for the events the report leaves out.
func describeEvent(e *historypb.HistoryEvent, reason func(*failurepb.Failure) string) (string, bool) {
	name := e.GetEventType().String()
	switch e.GetEventType() {
	case enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
		enumspb.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED, enumspb.EVENT_TYPE_MARKER_RECORDED:
		return "", false
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
		a := e.GetActivityTaskScheduledEventAttributes()
		return fmt.Sprintf("%s %s (id %d)", name, a.GetActivityType().GetName(), e.GetEventId()), true
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
		a := e.GetActivityTaskStartedEventAttributes()
		return fmt.Sprintf("%s (of %d, attempt %d, last failure: %s)", name, a.GetScheduledEventId(), a.GetAttempt(),
			reason(a.GetLastFailure())), true
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
		return fmt.Sprintf("%s (of %d)", name, e.GetActivityTaskCompletedEventAttributes().GetScheduledEventId()), true
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED:
		a := e.GetActivityTaskFailedEventAttributes()
		return fmt.Sprintf("%s (of %d): %s", name, a.GetScheduledEventId(), reason(a.GetFailure())), true
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
		a := e.GetActivityTaskTimedOutEventAttributes()
		return fmt.Sprintf("%s (of %d): %s", name, a.GetScheduledEventId(), reason(a.GetFailure())), true
	case enumspb.EVENT_TYPE_TIMER_STARTED:
		return fmt.Sprintf("%s %s", name, e.GetTimerStartedEventAttributes().GetStartToFireTimeout().AsDuration()), true
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
		return fmt.Sprintf("%s %s", name, e.GetWorkflowExecutionSignaledEventAttributes().GetSignalName()), true
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
		return fmt.Sprintf("%s %s", name, e.GetWorkflowExecutionUpdateAcceptedEventAttributes().GetAcceptedRequest().GetInput().GetName()), true
	case enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED:
		a := e.GetWorkflowTaskFailedEventAttributes()
		return fmt.Sprintf("%s (%s): %s", name, a.GetCause(), reason(a.GetFailure())), true
	case enumspb.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
		return fmt.Sprintf("%s (%s)", name, e.GetWorkflowTaskTimedOutEventAttributes().GetTimeoutType()), true
	}
	return name, true
}
