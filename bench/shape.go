package main

import (
	"context"
	"fmt"
	"strings"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

// historyShape lists a workflow's commands and the events that drive it, one
// word each, in order: what the ceiling workflow copies and what the table's
// notes describe.
func historyShape(ctx context.Context, c client.Client, workflowID string) ([]string, error) {
	it := c.GetWorkflowHistory(ctx, workflowID, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var out []string
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("history of %s: %w", workflowID, err)
		}
		name := strings.TrimPrefix(ev.GetEventType().String(), "EVENT_TYPE_")
		switch ev.GetEventType() {
		case enums.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			name += "(" + ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName() + ")"
		case enums.EVENT_TYPE_TIMER_STARTED:
			name += "(" + ev.GetTimerStartedEventAttributes().GetStartToFireTimeout().AsDuration().String() + ")"
		case enums.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
			name += "(" + ev.GetWorkflowExecutionUpdateAcceptedEventAttributes().GetAcceptedRequest().GetInput().GetName() + ")"
		case enums.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
			name += "(" + ev.GetWorkflowExecutionSignaledEventAttributes().GetSignalName() + ")"
		case enums.EVENT_TYPE_MARKER_RECORDED:
			name += "(" + ev.GetMarkerRecordedEventAttributes().GetMarkerName() + ")"
		}
		out = append(out, name)
	}
	return out, nil
}
