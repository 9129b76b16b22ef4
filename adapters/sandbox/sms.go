package sandbox

import (
	"context"
	"fmt"
	"strings"
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
	sentLog[SentSMS]
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
	if err := s.Faults.inject("sms", m.NotificationKey); err != nil {
		return "", err
	}
	switch {
	case m.To == "" || m.Body == "" || m.NotificationKey == "":
		return "", fmt.Errorf("sandbox sms %s: recipient, body and notification key are required: %w", m.NotificationKey, activities.ErrInvalidRequest)
	case strings.Contains(m.To, RecipientRateLimited) && s.attempts.first(m.NotificationKey):
		return "", rateLimited("sms", m.NotificationKey)
	case strings.HasSuffix(m.To, PhoneSuffixUndeliverable):
		return "", fmt.Errorf("sandbox sms %s: recipient refused: %w", m.NotificationKey, activities.ErrUndeliverable)
	}
	sent := SentSMS{MessageSID: "SMsbx" + shortHash(m.NotificationKey), At: s.now(), SMS: m}
	if err := s.keep(ctx, "sms", m.NotificationKey, sent); err != nil {
		return "", err
	}
	return sent.MessageSID, nil
}
