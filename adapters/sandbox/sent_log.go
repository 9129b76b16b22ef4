package sandbox

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
)

// sentLog is what every message fake (email, SMS, push) shares: it hands each
// message sent to Deliver or else keeps it, stamps it by Now, and remembers first
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

// keep delivers m, or, without Deliver, records it as sent in memory (for tests).
// A fake with Deliver keeps nothing itself: under make run the outbox table is the
// record, and a worker holding every message ever sent would grow without bound.
func (l *sentLog[T]) keep(ctx context.Context, channel, key string, m T) error {
	if l.Deliver != nil {
		if err := l.Deliver(ctx, m); err != nil {
			return fmt.Errorf("sandbox %s %s: deliver: %w", channel, key, err)
		}
		return nil
	}
	l.mu.Lock()
	l.sent = append(l.sent, m)
	l.mu.Unlock()
	return nil
}

// Sent returns every message sent so far, oldest first; nothing when Deliver is set.
func (l *sentLog[T]) Sent() []T {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]T(nil), l.sent...)
}

// Why the message fakes refuse a recipient for good, as the real providers do.
var (
	errRecipientRefused = fmt.Errorf("recipient refused: %w", activities.ErrUndeliverable)
	errTokenGone        = fmt.Errorf("token gone: %w", activities.ErrUnregistered)
)

// outgoing is a message as the fake of its channel judged it by the channel's own
// rules; sentLog.send applies the rules all channels share.
type outgoing struct {
	// channel ("email", "sms", "push") and key name the send in errors.
	channel, key string
	// to is the recipient (an address, a number or a token).
	to string
	// complete is false when a required field is empty; required names them.
	complete bool
	required string
	// refused is true when the recipient is refused for good, with refusal.
	refused bool
	refusal error
}

// send is how every message fake sends. A cancelled context, an injected fault,
// an incomplete message, the first attempt of a "ratelimit" recipient and a
// refused recipient fail it, in that order, as they fail the real adapters;
// otherwise the message that sent builds (at the Now clock's time) is delivered,
// kept and returned.
func (l *sentLog[T]) send(ctx context.Context, o outgoing, sent func(at time.Time) T) (T, error) {
	var none T
	if err := ctx.Err(); err != nil {
		return none, fmt.Errorf("sandbox %s %s: %w", o.channel, o.key, err)
	}
	if err := l.Faults.inject(ctx, o.channel, o.key); err != nil {
		return none, err
	}
	switch {
	case !o.complete:
		return none, fmt.Errorf("sandbox %s %s: %s are required: %w", o.channel, o.key, o.required, activities.ErrInvalidRequest)
	case strings.Contains(o.to, RecipientRateLimited) && l.attempts.first(o.key):
		return none, rateLimited(o.channel, o.key)
	case o.refused:
		return none, fmt.Errorf("sandbox %s %s: %w", o.channel, o.key, o.refusal)
	}
	m := sent(l.now())
	if err := l.keep(ctx, o.channel, o.key, m); err != nil {
		return none, err
	}
	return m, nil
}

// firstAttempts remembers which notification keys were attempted, so that the
// rate-limit magic value fails only the first attempt, as a real 429 followed by a
// retry after Retry-After does. The zero value is ready to use.
type firstAttempts struct {
	mu   sync.Mutex
	seen map[string]bool
}

// first reports whether key is attempted for the first time, and records it.
func (a *firstAttempts) first(key string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.seen[key] {
		return false
	}
	if a.seen == nil {
		a.seen = map[string]bool{}
	}
	a.seen[key] = true
	return true
}

// rateLimited is the error of the rate-limit magic value: what a provider's 429
// with Retry-After becomes in a real adapter.
func rateLimited(channel, key string) error {
	return &activities.RetryAfterError{
		After: RateLimitRetryAfter,
		Err:   fmt.Errorf("sandbox %s %s: rate limited (HTTP 429)", channel, key),
	}
}
