package main

import (
	"context"
	"sync/atomic"

	"go.temporal.io/sdk/interceptor"
)

// drain counts the worker's running activities, so that a graceful stop can
// say what it waited for, what finished and what the grace period cut off (an
// activity whose context the SDK cancelled when FULFILMENT_WORKER_STOP_TIMEOUT
// ran out; the server retries it on another worker: every activity is
// idempotent).
type drain struct {
	interceptor.WorkerInterceptorBase
	running   atomic.Int64
	stopping  atomic.Bool
	finished  atomic.Int64 // activities that ended by themselves during the stop
	cancelled atomic.Int64 // activities that ended with their context cancelled during the stop
}

// InterceptActivity wraps each activity (local ones too) with the count.
func (d *drain) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	a := &drainActivity{d: d}
	a.Next = next
	return a
}

type drainActivity struct {
	interceptor.ActivityInboundInterceptorBase
	d *drain
}

func (a *drainActivity) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	a.d.running.Add(1)
	res, err := a.Next.ExecuteActivity(ctx, in)
	if a.d.stopping.Load() {
		if ctx.Err() != nil {
			a.d.cancelled.Add(1)
		} else {
			a.d.finished.Add(1)
		}
	}
	a.d.running.Add(-1)
	return res, err
}
