package sandbox

import (
	"context"
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
	sent, err := s.send(ctx, outgoing{channel: "sms", key: m.NotificationKey, to: m.To,
		complete: m.To != "" && m.Body != "" && m.NotificationKey != "", required: "recipient, body and notification key",
		refused: strings.HasSuffix(m.To, PhoneSuffixUndeliverable), refusal: errRecipientRefused},
		func(at time.Time) SentSMS {
			return SentSMS{MessageSID: "SMsbx" + shortHash(m.NotificationKey), At: at, SMS: m}
		})
	return sent.MessageSID, err
}
