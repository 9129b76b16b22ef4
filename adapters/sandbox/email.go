package sandbox

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
)

// Magic recipients of the message fakes (email, SMS, push). They make a fake fail
// the way the real provider does, so workflows and activities can be tested
// against those failures without a network; the httptest fakes of the SendGrid,
// Twilio and FCM contract tests answer them the same way.
const (
	// EmailDomainUndeliverable: an address at this domain is refused for good with
	// an error wrapping activities.ErrUndeliverable (SendGrid: 400 on
	// personalizations.0.to.0.email).
	EmailDomainUndeliverable = "@bounce.invalid"
	// RecipientRateLimited, anywhere in an email address, phone number or push
	// token, answers the first attempt of each notification key with an
	// *activities.RetryAfterError of RateLimitRetryAfter (SendGrid, Twilio and FCM:
	// 429); the next attempt is sent.
	RecipientRateLimited = "ratelimit"
)

// SentEmail is an email the fake "sent", and when (by the Now clock).
type SentEmail struct {
	MessageID string
	At        time.Time
	activities.Email
}

// Email is a fake email provider. Every email is kept in memory and handed to the
// optional Deliver function (make run writes them to the outbox table that the
// starter shows at /dev/outbox).
type Email struct {
	sentLog[SentEmail]
}

var _ activities.EmailSender = (*Email)(nil)

// SendEmail "sends" the email. The message ID is derived from the notification
// key, so a repeated send answers the same ID. An address at bounce.invalid is
// refused (ErrUndeliverable); one containing "ratelimit" is rate limited on its
// first attempt; an empty address or key is an invalid request.
func (s *Email) SendEmail(ctx context.Context, e activities.Email) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("sandbox email %s: %w", e.NotificationKey, err)
	}
	if err := s.Faults.inject("email", e.NotificationKey); err != nil {
		return "", err
	}
	switch {
	case e.To == "" || e.NotificationKey == "":
		return "", fmt.Errorf("sandbox email %s: recipient and notification key are required: %w", e.NotificationKey, activities.ErrInvalidRequest)
	case strings.Contains(e.To, RecipientRateLimited) && s.attempts.first(e.NotificationKey):
		return "", rateLimited("email", e.NotificationKey)
	case strings.HasSuffix(e.To, EmailDomainUndeliverable):
		return "", fmt.Errorf("sandbox email %s: recipient refused: %w", e.NotificationKey, activities.ErrUndeliverable)
	}
	m := SentEmail{MessageID: "sbx-msg-" + shortHash(e.NotificationKey), At: s.now(), Email: e}
	if err := s.keep(ctx, "email", e.NotificationKey, m); err != nil {
		return "", err
	}
	return m.MessageID, nil
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
