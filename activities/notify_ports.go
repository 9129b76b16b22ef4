package activities

import (
	"context"

	"github.com/everywherecommerce/fulfilment/domain"
)

// Notification statuses in the notifications table.
const (
	NotificationSending = "sending"
	NotificationSent    = "sent"
	// NotificationFailed: the provider refused the message for now (an outage, a
	// rate limit). The next attempt sends it.
	NotificationFailed = "failed"
	// NotificationUndeliverable: the provider refused the recipient for good.
	NotificationUndeliverable = "undeliverable"
	// NotificationUnconfirmed: an SMS whose send was interrupted; it is not sent again.
	NotificationUnconfirmed = "unconfirmed"
)

// NotificationRecord is a row of the notifications table: one per key.
type NotificationRecord struct {
	Key               string            `json:"key"`
	OrderID           string            `json:"order_id"`
	Touchpoint        domain.Touchpoint `json:"touchpoint"`
	Channel           domain.Channel    `json:"channel"`
	Status            string            `json:"status"`
	ProviderMessageID string            `json:"provider_message_id,omitempty"`
}

// NotificationLog guards providers that have no idempotency key: a row is written
// before the call and completed after it.
type NotificationLog interface {
	// Begin inserts the row in status "sending". When the key exists it returns the
	// existing row and fresh=false, except for a row in status "failed", which it
	// sets to "sending" again and returns with fresh=true.
	Begin(ctx context.Context, rec NotificationRecord) (existing NotificationRecord, fresh bool, err error)
	// Complete marks the row sent with the provider's message ID and adds the
	// journey entry, in one transaction.
	Complete(ctx context.Context, key, providerMessageID string) error
	// Settle gives a row that was not sent its fate: failed (sent again by the next
	// Begin), undeliverable or unconfirmed. The last two add a journey entry
	// (key "<key>:<status>", the detail) in the same transaction. A sent row is
	// never changed; an unknown key is an error wrapping ErrNotFound.
	Settle(ctx context.Context, key, status, detail string) error
}

// Contact is how a customer can be reached now: their contact preferences as kept
// apart from any one order, so that they can change after checkout.
type Contact struct {
	Email     string `json:"email"`
	Phone     string `json:"phone"`
	PushToken string `json:"push_token"`
	Locale    string `json:"locale"`
	TimeZone  string `json:"time_zone"`
	// Channels the customer allows (email always among them).
	Channels         []domain.Channel `json:"channels"`
	MarketingConsent bool             `json:"marketing_consent"`
	// A bounced email or a failed SMS marks the channel; it is skipped until the
	// customer gives a new address or number.
	EmailUndeliverable bool `json:"email_undeliverable"`
	SMSUndeliverable   bool `json:"sms_undeliverable"`
}

// Allows reports whether the customer allows the channel.
func (c Contact) Allows(channel domain.Channel) bool {
	for _, ch := range c.Channels {
		if ch == channel {
			return true
		}
	}
	return false
}

// ContactDirectory reads and corrects customers' contact preferences at send time.
type ContactDirectory interface {
	// Contact returns the customer's preferences; found=false when there are none.
	Contact(ctx context.Context, customerID string) (c Contact, found bool, err error)
	// DropPushToken forgets the customer's push token if it is still token (the app
	// was removed); a newer token is kept.
	DropPushToken(ctx context.Context, customerID, token string) error
	// MarkUndeliverable marks a channel ("email" or "sms") of the order's customer
	// as undeliverable.
	MarkUndeliverable(ctx context.Context, orderID string, channel domain.Channel) error
}

// RecommendationStore names products to suggest for the SKUs of an order.
type RecommendationStore interface {
	// Recommendations returns the names of at most limit products recommended for
	// the SKUs (best first), leaving out the SKUs themselves.
	Recommendations(ctx context.Context, skus []string, limit int) ([]string, error)
}
