package activities

import (
	"context"
	"errors"
)

// Sentinel errors of the message channels. Adapters wrap them (with %w) so that a
// refused recipient is told apart from a malformed request and from an outage.
var (
	// ErrUndeliverable: the provider refuses this recipient for good (an invalid
	// phone number, Twilio 21211; an unsubscribed one, 21610; an address SendGrid
	// rejects with 400). Sending again cannot help; the journey records the failure.
	ErrUndeliverable = errors.New("undeliverable recipient")
	// ErrUnregistered: the app's push token is gone (uninstalled, expired, logged
	// out). It is permanent; the caller drops the push channel for that customer.
	ErrUnregistered = errors.New("push token unregistered")
)

// Application error types of the channel sentinels, carried by non-retryable errors.
const (
	// ErrTypeUndeliverable marks a message whose recipient the provider refuses for good.
	ErrTypeUndeliverable = "Undeliverable"
	// ErrTypeUnregistered marks a push whose token is gone: the workflow drops the channel.
	ErrTypeUnregistered = "Unregistered"
)

// SMS is a rendered text message.
type SMS struct {
	// NotificationKey names the notifications row the message belongs to; Twilio has
	// no idempotency key, so the row is the guard against sending twice.
	NotificationKey string `json:"notification_key"`
	// To is the recipient in E.164 (+4915112345678); never logged.
	To   string `json:"to"`
	Body string `json:"body"`
}

// SMSSender sends a text message. It returns the provider's message SID, kept in
// the notifications row so that status callbacks can be matched to it.
type SMSSender interface {
	SendSMS(ctx context.Context, m SMS) (messageSID string, err error)
}

// Push is a rendered app push notification.
type Push struct {
	// NotificationKey names the notifications row; it also travels with the push
	// so the app can drop a duplicate delivered after a retried send.
	NotificationKey string `json:"notification_key"`
	// Token is the app's registration token; a credential of the device, never logged.
	Token string `json:"token"`
	Title string `json:"title"`
	Body  string `json:"body"`
}

// PushSender sends an app push notification. It returns the provider's message
// ID; a token that is gone yields ErrUnregistered.
type PushSender interface {
	SendPush(ctx context.Context, p Push) (messageID string, err error)
}

// Email is a rendered email.
type Email struct {
	// NotificationKey travels with the message (SendGrid custom_args) so delivery
	// events can be matched to the row.
	NotificationKey string `json:"notification_key"`
	To              string `json:"to"`
	ToName          string `json:"to_name"`
	Subject         string `json:"subject"`
	Text            string `json:"text"`
	HTML            string `json:"html,omitempty"`
	// Locale is the language the message is written in ("de", "en").
	Locale string `json:"locale,omitempty"`
	// Unsubscribe, when set, is the link that withdraws marketing consent; it goes
	// into the List-Unsubscribe header as well as the text.
	Unsubscribe string `json:"unsubscribe,omitempty"`
}

// EmailSender sends an email and returns the provider's message ID.
type EmailSender interface {
	SendEmail(ctx context.Context, e Email) (string, error)
}
