package sandbox

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
)

// PhoneSuffixUndeliverable: a phone number ending in it is refused for good with an
// error wrapping activities.ErrUndeliverable (Twilio: 400, code 21211).
const PhoneSuffixUndeliverable = "0000"

// SentSMS is a text message the fake "sent", and when (by the Now clock).
type SentSMS struct {
	MessageSID string
	At         time.Time
	activities.SMS
}

// SMS is a fake SMS provider. Every message is kept in memory and handed to the
// optional Deliver function (so that the worker can write it to the outbox table
// shown at /dev/outbox, like emails).
type SMS struct {
	// Deliver, when set, receives every sent message; an error fails the send.
	Deliver func(ctx context.Context, m SentSMS) error
	// Now stamps sent messages; time.Now unless set (tests pass a virtual clock).
	Now func() time.Time

	mu       sync.Mutex
	sent     []SentSMS
	attempts firstAttempts
}

var _ activities.SMSSender = (*SMS)(nil)

// SendSMS "sends" the message. The SID ("SMsbx...") is derived from the
// notification key, so a repeated send answers the same SID. A number ending in
// 0000 is refused (ErrUndeliverable); one containing "ratelimit" is rate limited
// on its first attempt; an empty number, body or key is an invalid request.
func (s *SMS) SendSMS(ctx context.Context, m activities.SMS) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("sandbox sms %s: %w", m.NotificationKey, err)
	}
	switch {
	case m.To == "" || m.Body == "" || m.NotificationKey == "":
		return "", fmt.Errorf("sandbox sms %s: recipient, body and notification key are required: %w", m.NotificationKey, activities.ErrInvalidRequest)
	case strings.Contains(m.To, RecipientRateLimited) && s.attempts.first(m.NotificationKey):
		return "", rateLimited("sms", m.NotificationKey)
	case strings.HasSuffix(m.To, PhoneSuffixUndeliverable):
		return "", fmt.Errorf("sandbox sms %s: recipient refused: %w", m.NotificationKey, activities.ErrUndeliverable)
	}
	sent := SentSMS{MessageSID: "SMsbx" + shortHash(m.NotificationKey), At: sentAt(s.Now), SMS: m}
	if s.Deliver != nil {
		if err := s.Deliver(ctx, sent); err != nil {
			return "", fmt.Errorf("sandbox sms %s: deliver: %w", m.NotificationKey, err)
		}
	}
	s.mu.Lock()
	s.sent = append(s.sent, sent)
	s.mu.Unlock()
	return sent.MessageSID, nil
}

// Sent returns every message sent so far, oldest first.
func (s *SMS) Sent() []SentSMS {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SentSMS(nil), s.sent...)
}
