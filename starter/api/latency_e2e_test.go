//go:build latency

package api_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// TestCheckoutLatency puts a checkout (POST /v1/orders, ship to store, captured,
// as the checkout service sees it) beside the least Temporal can do for it, a bare
// Update-with-Start whose update returns at once (through the Go client), on the
// same dev server, one caller at a time and ten at a time, and logs p50/p99 of each. Not part of `make test` (build tag latency):
//
//	TEST_PKGS=./starter/api/ GOTESTFLAGS='-tags=latency -run=TestCheckoutLatency -v' make test
//
// LATENCY_N orders per run unless set (default 200).
func TestCheckoutLatency(t *testing.T) {
	s := newSystem(t, fastPolicy())
	for _, sku := range []string{"WATCH-001", "STRAP-LEA-20"} {
		s.setStock("berlin-mitte", sku, 1_000_000)
	}
	bareQueue := "bare-" + randomHex(t, 6)
	w := worker.New(s.client, bareQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(bareUpdateWithStart, workflow.RegisterOptions{Name: "BareUpdateWithStart"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)

	n := 200
	if v := getenvInt("LATENCY_N"); v > 0 {
		n = v
	}
	checkout := func(i int) error {
		id := fmt.Sprintf("LAT-%s-%d", s.suffix, i)
		st, b := s.do(http.MethodPost, "/v1/orders", s.tokens["checkout"], s.orderBody(id, "ship_to_store"))
		if st != http.StatusCreated {
			return fmt.Errorf("place %s: %d %v", id, st, b)
		}
		return nil
	}
	bare := func(i int) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		id := fmt.Sprintf("bare-%s-%d", bareQueue, i)
		op := s.client.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
			ID: id, TaskQueue: bareQueue, WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		}, "BareUpdateWithStart")
		h, err := s.client.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{StartWorkflowOperation: op,
			UpdateOptions: client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: "go", WaitForStage: client.WorkflowUpdateStageCompleted}})
		if err != nil {
			return err
		}
		return h.Get(ctx, nil)
	}
	// A few of each first, so that connections, caches and the JIT of the server's
	// SQLite are warm for both.
	for i := range 10 {
		if err := bare(-1 - i); err != nil {
			t.Fatal(err)
		}
		if err := checkout(-1 - i); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []int{1, 10} {
		b, k := measure(t, n, c, bare, checkout)
		t.Logf("c=%-2d n=%d  bare Update-with-Start p50 %6.1f ms p99 %6.1f ms | checkout p50 %6.1f ms p99 %6.1f ms | ratio p50 %.2f p99 %.2f",
			c, n, ms(b, 50), ms(b, 99), ms(k, 50), ms(k, 99), ms(k, 50)/ms(b, 50), ms(k, 99)/ms(b, 99))
	}
}

// bareUpdateWithStart is the smallest workflow Update-with-Start can start: its
// update answers at once, and it ends when the update is done.
func bareUpdateWithStart(ctx workflow.Context) error {
	done := false
	if err := workflow.SetUpdateHandler(ctx, "go", func(workflow.Context) error { done = true; return nil }); err != nil {
		return err
	}
	return workflow.Await(ctx, func() bool { return done && workflow.AllHandlersFinished(ctx) })
}

// measure runs each of the two ops n times, c callers at a time, and returns
// their sorted latencies. Each caller alternates the two (which goes first
// alternates too), so that both see the same load from whatever else runs on the
// machine.
func measure(t *testing.T, n, c int, a, b func(i int) error) (as, bs []time.Duration) {
	t.Helper()
	var mu sync.Mutex
	var first error
	run := func(op func(int) error, i int, out *[]time.Duration) {
		start := time.Now()
		err := op(i)
		d := time.Since(start)
		mu.Lock()
		defer mu.Unlock()
		*out = append(*out, d)
		if err != nil && first == nil {
			first = err
		}
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if i%2 == 0 {
					run(a, i, &as)
					run(b, i, &bs)
				} else {
					run(b, i, &bs)
					run(a, i, &as)
				}
			}
		}()
	}
	base := int(time.Now().UnixNano() % 1_000_000_000)
	for i := range n {
		next <- base + i
	}
	close(next)
	wg.Wait()
	if first != nil {
		t.Fatal(first)
	}
	slices.Sort(as)
	slices.Sort(bs)
	return as, bs
}

// ms is the p-th percentile of sorted latencies in milliseconds.
func ms(sorted []time.Duration, p int) float64 {
	i := min(len(sorted)-1, (len(sorted)*p+99)/100-1)
	return float64(sorted[max(i, 0)]) / float64(time.Millisecond)
}

func getenvInt(name string) int {
	var v int
	_, _ = fmt.Sscan(os.Getenv(name), &v) // unset or not a number: 0, the default
	return v
}
