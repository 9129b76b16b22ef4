package sandbox

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// sentLog is what every message fake (email, SMS, push) shares: it keeps the
// messages sent, hands each to Deliver, stamps it by Now, and remembers first
// attempts for the rate-limit magic value.
type sentLog[T any] struct {
	// Deliver, when set, receives every sent message; an error fails the send.
	// make run writes emails to the outbox table shown at /dev/outbox this way.
	Deliver func(ctx context.Context, m T) error
	// Now stamps sent messages; time.Now unless set (tests pass a virtual clock).
	Now func() time.Time
	// Faults fail a share of sends before anything is sent (see Faults).
	Faults Faults

	mu       sync.Mutex
	sent     []T
	attempts firstAttempts
}

// now is the time a message is sent at.
func (l *sentLog[T]) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// keep delivers m and records it as sent.
func (l *sentLog[T]) keep(ctx context.Context, channel, key string, m T) error {
	if l.Deliver != nil {
		if err := l.Deliver(ctx, m); err != nil {
			return fmt.Errorf("sandbox %s %s: deliver: %w", channel, key, err)
		}
	}
	l.mu.Lock()
	l.sent = append(l.sent, m)
	l.mu.Unlock()
	return nil
}

// Sent returns every message sent so far, oldest first.
func (l *sentLog[T]) Sent() []T {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]T(nil), l.sent...)
}
