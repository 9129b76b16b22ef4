package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/types/known/durationpb"
)

// TestHistoryInTheReport: a failed run shows, under the journey of each order a
// violation names, what the engine did meanwhile: the activity that failed and
// why, the retry's attempt, the timers; the routine workflow tasks stay out.
func TestHistoryInTheReport(t *testing.T) {
	events := []*historypb.HistoryEvent{
		{EventId: 5, EventType: enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED},
		{EventId: 6, EventType: enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, Attributes: &historypb.HistoryEvent_ActivityTaskScheduledEventAttributes{
			ActivityTaskScheduledEventAttributes: &historypb.ActivityTaskScheduledEventAttributes{ActivityType: &commonpb.ActivityType{Name: "Advance"}}}},
		{EventId: 7, EventType: enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED, Attributes: &historypb.HistoryEvent_ActivityTaskStartedEventAttributes{
			ActivityTaskStartedEventAttributes: &historypb.ActivityTaskStartedEventAttributes{ScheduledEventId: 6, Attempt: 4,
				LastFailure: &failurepb.Failure{Message: "activity StartToClose timeout"}}}},
		{EventId: 8, EventType: enumspb.EVENT_TYPE_TIMER_STARTED, Attributes: &historypb.HistoryEvent_TimerStartedEventAttributes{
			TimerStartedEventAttributes: &historypb.TimerStartedEventAttributes{StartToFireTimeout: durationpb.New(20 * time.Minute)}}},
		{EventId: 9, EventType: enumspb.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT, Attributes: &historypb.HistoryEvent_WorkflowTaskTimedOutEventAttributes{
			WorkflowTaskTimedOutEventAttributes: &historypb.WorkflowTaskTimedOutEventAttributes{TimeoutType: enumspb.TIMEOUT_TYPE_START_TO_CLOSE}}},
	}
	var lines []string
	for _, e := range events {
		if l, ok := describeEvent(e, func(f *failurepb.Failure) string { return f.GetMessage() }); ok {
			lines = append(lines, l)
		}
	}
	want := []string{
		"ActivityTaskScheduled Advance (id 6)",
		"ActivityTaskStarted (of 6, attempt 4, last failure: activity StartToClose timeout)",
		"TimerStarted 20m0s",
		"WorkflowTaskTimedOut (StartToClose)",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events described as\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}

	slow := &orderRun{plan: &orderPlan{ID: "CH-0017", Kind: kindShortPick}, steps: []string{"+0.0s checkout 201"}}
	fine := &orderRun{plan: &orderPlan{ID: "CH-0018", Kind: kindShortPick}}
	r := &report{orders: []*orderRun{slow, fine},
		results:   []result{{name: "answers", violations: []string{"CH-0017 (short-pick): arrivals list: not within 1m30s"}}},
		histories: map[string][]string{"CH-0017": {"+20.1s " + want[1]}}}
	var out bytes.Buffer
	r.printJourneys(&out)
	got := out.String()
	for _, s := range []string{"CH-0017 (short-pick", "+0.0s checkout 201", "its workflow history", "+20.1s ActivityTaskStarted (of 6, attempt 4"} {
		if !strings.Contains(got, s) {
			t.Errorf("the journeys lack %q:\n%s", s, got)
		}
	}
	if strings.Contains(got, "CH-0018") {
		t.Errorf("an order no violation names is shown:\n%s", got)
	}
}
