package sandbox

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// Faults injects random retryable failures for load and chaos tests: with
// probability Rate a call fails before it does anything, like a provider that
// answered 503. The zero value never fails. Set Rate before the first call.
type Faults struct {
	// Rate is the probability (0 to 1) that a call fails.
	Rate float64
	// Seed, when not 0, makes the sequence of faults the same on every run.
	Seed uint64
	// Delay is added to every call before anything else happens (a slow
	// provider); a cancelled context ends the wait with the context's error. 0,
	// the default, adds none. The worker's graceful-stop test holds an activity
	// in flight with it.
	Delay time.Duration

	mu       sync.Mutex
	rng      *rand.Rand
	injected int
}

// Injected counts the failures injected so far, so that a chaos test can show it
// met some.
func (f *Faults) Injected() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.injected
}

// inject waits Delay, then returns an injected failure for op with
// probability Rate, else nil.
func (f *Faults) inject(ctx context.Context, op, key string) error {
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("sandbox %s %s: %w", op, key, ctx.Err())
		}
	}
	if f.Rate <= 0 {
		return nil
	}
	f.mu.Lock()
	if f.rng == nil {
		f.rng = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
		if f.Seed != 0 {
			f.rng = rand.New(rand.NewPCG(f.Seed, f.Seed))
		}
	}
	hit := f.rng.Float64() < f.Rate
	if hit {
		f.injected++
	}
	f.mu.Unlock()
	if !hit {
		return nil
	}
	return fmt.Errorf("sandbox %s %s: %w", op, key, errFault)
}
