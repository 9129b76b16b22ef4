package kpis_test

import (
	"crypto/rand"
	"fmt"
	"os"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/everywherecommerce/fulfilment/kpis"
)

// TestKPIScheduleIsCreatedOnceAndFollowsTheInterval runs against the dev server
// make test starts: two start-ups make one schedule, a third with another
// interval updates it.
func TestKPIScheduleIsCreatedOnceAndFollowsTheInterval(t *testing.T) {
	addr := os.Getenv("TEMPORAL_ADDRESS")
	if addr == "" {
		t.Fatal("TEMPORAL_ADDRESS is not set: run the tests with `make test`")
	}
	c, err := client.Dial(client.Options{HostPort: addr, Namespace: os.Getenv("TEMPORAL_NAMESPACE")})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := t.Context()
	id := "kpis-test-" + rand.Text()[:10]
	o := kpis.ScheduleOptions{ID: id, TaskQueue: "kpis-test", Every: 15 * time.Minute}
	t.Cleanup(func() { _ = c.ScheduleClient().GetHandle(ctx, id).Delete(ctx) })
	for i := range 2 {
		if err := kpis.EnsureSchedule(ctx, c, o); err != nil {
			t.Fatalf("start-up %d: %v", i+1, err)
		}
	}
	check := func(want time.Duration, queue string) {
		t.Helper()
		desc, err := c.ScheduleClient().GetHandle(ctx, id).Describe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		iv := desc.Schedule.Spec.Intervals
		if len(iv) != 1 || iv[0].Every != want {
			t.Fatalf("intervals %+v, want one of %s", iv, want)
		}
		a, ok := desc.Schedule.Action.(*client.ScheduleWorkflowAction)
		if !ok || a.Workflow != kpis.WorkflowType || a.TaskQueue != queue {
			t.Fatalf("action %+v", desc.Schedule.Action)
		}
		if p := desc.Schedule.Policy; p == nil || p.Overlap.String() != "Skip" {
			t.Fatalf("overlap policy %+v, want skip", p)
		}
	}
	check(15*time.Minute, "kpis-test")
	o.Every = 5 * time.Minute
	if err := kpis.EnsureSchedule(ctx, c, o); err != nil {
		t.Fatal(err)
	}
	check(5*time.Minute, "kpis-test")
	o.TaskQueue = "kpis-test-2"
	if err := kpis.EnsureSchedule(ctx, c, o); err != nil {
		t.Fatal(err)
	}
	check(5*time.Minute, "kpis-test-2")
	// One schedule of that ID: listing finds exactly one (visibility is eventual).
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := countSchedules(t, c, id)
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d schedules with ID %s, want 1", n, id)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func countSchedules(t *testing.T, c client.Client, id string) (int, error) {
	it, err := c.ScheduleClient().List(t.Context(), client.ScheduleListOptions{})
	if err != nil {
		return 0, fmt.Errorf("list schedules: %w", err)
	}
	n := 0
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return 0, err
		}
		if e.ID == id {
			n++
		}
	}
	return n, nil
}
