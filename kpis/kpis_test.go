package kpis_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/adapters/postgres"
	"github.com/everywherecommerce/fulfilment/adapters/postgres/pgtest"
	"github.com/everywherecommerce/fulfilment/adapters/temporal/temporaltest"
	"github.com/everywherecommerce/fulfilment/alarms"
	"github.com/everywherecommerce/fulfilment/kpis"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// TestKPIScheduleIsCreatedOnceAndFollowsTheInterval runs against the dev server
// make test starts: two start-ups make one schedule, a third with another
// interval updates it.
func TestKPIScheduleIsCreatedOnceAndFollowsTheInterval(t *testing.T) {
	c := temporaltest.Dial(t, client.Options{})
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
	// A schedule made by a worker from before the alarm bell (workflow
	// ComputeKPIs) is switched to KPIsAndAlarms.
	err := c.ScheduleClient().GetHandle(ctx, id).Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
		s := in.Description.Schedule
		s.Action.(*client.ScheduleWorkflowAction).Workflow = kpis.OldWorkflowType
		return &client.ScheduleUpdate{Schedule: &s}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
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

// TestKPIScheduleRunComputesIntoPostgreSQL triggers the schedule once with a
// worker polling its queue: the KPIsAndAlarms workflow runs its activities,
// which write the window's values to kpi_values and move the alarm watermark to
// the hour.
func TestKPIScheduleRunComputesIntoPostgreSQL(t *testing.T) {
	c := temporaltest.Dial(t, client.Options{})
	ctx := t.Context()
	pool := pgtest.New(t)
	store := postgres.NewStore(pool)
	if err := store.AddLocation(ctx, activities.Location{ID: "s1", Kind: activities.KindStore, Name: "S1", TimeZone: "Europe/Berlin"}); err != nil {
		t.Fatal(err)
	}
	placed := time.Now().UTC().Add(-time.Hour)
	if _, err := pool.Exec(ctx, `insert into orders (order_id, customer_id, method, store_id, location_id, stage, total, currency, placed_at, updated_at)
		values ('K1', 'c', 'ship_to_store', 's1', 's1', 'accepted', 100, 'EUR', $1, $1), ('K2', 'c', 'ship_to_store', 's1', 's1', 'accepted', 100, 'EUR', $1, $1)`, placed); err != nil {
		t.Fatal(err)
	}
	suffix := rand.Text()[:10]
	queue, id := "kpis-run-"+suffix, "kpis-run-"+suffix
	w := worker.New(c, queue, worker.Options{})
	kpis.Register(w, store, &alarms.Activities{Bell: &alarms.Bell{Store: store, Config: alarms.DefaultConfig(), Signals: alarms.Signals()}})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if err := kpis.EnsureSchedule(ctx, c, kpis.ScheduleOptions{ID: id, TaskQueue: queue, Every: time.Hour}); err != nil {
		t.Fatal(err)
	}
	h := c.ScheduleClient().GetHandle(ctx, id)
	t.Cleanup(func() { _ = h.Delete(context.Background()) })
	if err := h.Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
		t.Fatal(err)
	}
	want := placed.Truncate(time.Hour)
	deadline := time.Now().Add(30 * time.Second)
	for {
		vals, err := store.KPIs(ctx, records.KPIFilter{KPIs: []string{"orders_placed"}, StoreID: "s1", Method: "ship_to_store", Granularity: "hour"})
		if err != nil {
			t.Fatal(err)
		}
		if len(vals) == 1 {
			if v := vals[0]; v.Value != 2 || !v.BucketStart.Equal(want) {
				t.Fatalf("orders_placed %+v, want 2 in the hour from %s", v, want)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no orders_placed value 30 s after triggering the schedule (%d values)", len(vals))
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The run's workflow (ID: the schedule's plus the time) completed.
	d, err := h.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Info.RecentActions) != 1 || d.Info.RecentActions[0].StartWorkflowResult == nil {
		t.Fatalf("recent actions %+v, want the one run", d.Info.RecentActions)
	}
	started := d.Info.RecentActions[0].StartWorkflowResult
	if err := c.GetWorkflow(ctx, started.WorkflowID, started.FirstExecutionRunID).Get(ctx, nil); err != nil {
		t.Fatalf("the scheduled workflow %s: %v", started.WorkflowID, err)
	}
	st, err := store.AlarmState(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if hour := time.Now().UTC().Truncate(time.Hour); st.EvaluatedThrough.Before(hour.Add(-time.Hour)) {
		t.Fatalf("alarms evaluated through %s, want the hour %s", st.EvaluatedThrough, hour)
	}
}
