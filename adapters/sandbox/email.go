package sandbox

import (
	"context"
	"strings"
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
	sent, err := s.send(ctx, outgoing{channel: "email", key: e.NotificationKey, to: e.To,
		complete: e.To != "" && e.NotificationKey != "", required: "recipient and notification key",
		refused: strings.HasSuffix(e.To, EmailDomainUndeliverable), refusal: errRecipientRefused},
		func(at time.Time) SentEmail {
			return SentEmail{MessageID: "sbx-msg-" + shortHash(e.NotificationKey), At: at, Email: e}
		})
	return sent.MessageID, err
}
