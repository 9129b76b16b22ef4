package sandbox

import (
	"context"
	"strings"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
)

// TokenUnregistered: a push token containing it is gone (the app was removed), and
// every send fails with an error wrapping activities.ErrUnregistered (FCM: 404
// UNREGISTERED).
const TokenUnregistered = "unregistered"

// SentPush is a push notification the fake "sent", and when (by the Now clock).
type SentPush struct {
	MessageID string
	At        time.Time
	activities.Push
}

// Push is a fake app push provider. Every notification is kept in memory and
// handed to the optional Deliver function (so that the worker can write it to the
// outbox table shown at /dev/outbox, like emails).
type Push struct {
	sentLog[SentPush]
}

var _ activities.PushSender = (*Push)(nil)

// SendPush "sends" the notification. The message ID, named like FCM's
// ("projects/sandbox/messages/..."), is derived from the notification key, so a
// repeated send answers the same ID. A token containing "unregistered" is gone
// (ErrUnregistered); one containing "ratelimit" is rate limited on its first
// attempt; an empty token or key, or neither title nor body, is an invalid request.
func (s *Push) SendPush(ctx context.Context, p activities.Push) (string, error) {
	sent, err := s.send(ctx, outgoing{channel: "push", key: p.NotificationKey, to: p.Token,
		complete: p.Token != "" && p.NotificationKey != "" && (p.Title != "" || p.Body != ""),
		required: "token, notification key and a title or body",
		refused:  strings.Contains(p.Token, TokenUnregistered), refusal: errTokenGone},
		func(at time.Time) SentPush {
			return SentPush{MessageID: "projects/sandbox/messages/" + shortHash(p.NotificationKey), At: at, Push: p}
		})
	return sent.MessageID, err
}
