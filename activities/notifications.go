package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/links"
	"github.com/everywherecommerce/fulfilment/messages"
	"github.com/everywherecommerce/fulfilment/pickupcode"
)

// Notifications sends the customer's messages. It is not an activity of its own:
// Journey's activities call it after the bookkeeping of a transition.
type Notifications struct {
	Log   NotificationLog
	Email EmailSender
	// SMS and Push may be nil (no provider configured): that channel is never chosen.
	SMS       SMSSender
	Push      PushSender
	Contacts  ContactDirectory
	Locations LocationDirectory
	Journey   JourneyStore
	Messages  *messages.Catalog
	// Recommendations and Links feed the marketing parts (cross-sell, after-sales
	// ideas, the unsubscribe link); without Links no marketing part is added.
	Recommendations RecommendationStore
	Links           *links.Signer
	// Codes renders the pickup code of a message that carries its nonce; the code
	// exists only here, in the provider's request and in the customer's message.
	Codes *pickupcode.Codes
	// Now is the clock for quiet hours; time.Now unless a test sets it.
	Now func() time.Time
	// Metrics counts each message's outcome (nil: NoMetrics).
	Metrics Metrics
}

// NotifyRequest asks for a touchpoint's message. Facts fill the template. It holds
// no usable pickup code (only the nonce the code is derived from, or a legacy
// order's code), yet it is never logged.
type NotifyRequest struct {
	OrderID    string            `json:"order_id"`
	Touchpoint domain.Touchpoint `json:"touchpoint"`
	Customer   domain.Customer   `json:"customer"`
	StoreID    string            `json:"store_id,omitempty"`
	Deadline   time.Time         `json:"deadline,omitempty"`
	Facts      map[string]string `json:"facts,omitempty"`
	// Marketing messages go out only if the customer's consent holds at send time,
	// and only by email.
	Marketing bool `json:"marketing,omitempty"`
	// Occurrence numbers repeated touchpoints (reminders) so each has its own key.
	Occurrence int `json:"occurrence,omitempty"`
	// Resend numbers support's resends of a touchpoint: each is a new message with
	// a key of its own ("...-resend-<n>").
	Resend int `json:"resend,omitempty"`
	// Channel, when set, limits the message to that channel (a resend by SMS only).
	Channel domain.Channel `json:"channel,omitempty"`
	// Amounts (minor units of Currency) and Times are facts formatted in the
	// customer's locale when the message is rendered ("249,00 €", "Dienstag, 24. November").
	Amounts  map[string]int64     `json:"amounts,omitempty"`
	Currency string               `json:"currency,omitempty"`
	Times    map[string]time.Time `json:"times,omitempty"`
	// SKUs are the order's, for cross-sell suggestions.
	SKUs []string `json:"skus,omitempty"`
	// PickupNonce, on the ready-for-pickup message, is what the pickup code is
	// derived from when the message is rendered (the fact "pickup_code").
	PickupNonce string `json:"pickup_nonce,omitempty"`
	// QuietHours are the customer's: suggestions are left out of a message sent
	// within them (the message itself goes; deferring is the workflow's timers).
	QuietHours QuietHours `json:"quiet_hours,omitempty"`
}

// NotifyResult says what happened to the message on one channel.
type NotifyResult struct {
	Key       string         `json:"key"`
	Channel   domain.Channel `json:"channel,omitempty"`
	MessageID string         `json:"message_id,omitempty"`
	// Repeat is true when the key had been sent before and nothing was sent now.
	Repeat bool `json:"repeat,omitempty"`
	// Skipped gives the reason a message was deliberately not sent.
	Skipped string `json:"skipped,omitempty"`
}

// Reasons a message was not sent on a channel.
const (
	SkipNoConsent     = "no marketing consent"
	SkipUndeliverable = "undeliverable channel"
	// SkipQuietHours: suggestions left out of a message sent in the customer's quiet hours.
	SkipQuietHours = "quiet hours"
	// SkipUnconfirmed: an SMS whose first send was interrupted; it may have
	// arrived, and SMS is sent at most once.
	SkipUnconfirmed = "unconfirmed after an interrupted send"
)

// key is the notification key "<order>:notify:<touchpoint>[-<occurrence>][-resend-<n>]:<channel>".
func (req NotifyRequest) key(channel string) string {
	tp := string(req.Touchpoint)
	if req.Occurrence > 0 {
		tp = fmt.Sprintf("%s-%d", tp, req.Occurrence)
	}
	if req.Resend > 0 {
		tp = fmt.Sprintf("%s-resend-%d", tp, req.Resend)
	}
	return fmt.Sprintf("%s:notify:%s:%s", req.OrderID, tp, channel)
}

// NotifyCustomer sends the touchpoint's message once per (order, touchpoint,
// channel), each guarded by its notifications row. Transactional messages go by
// email and by the customer's instant channel: push when the app is installed,
// else SMS when they gave a number. Marketing messages go by email only, and only
// while the customer's consent holds. The preferences are read now, at send time.
//
// The crash window, between the provider accepting a message and its row being
// completed, is handled per channel when a retry finds the row still "sending":
//   - email is sent again: a rare duplicate is better than a customer who never
//     hears (SendGrid has no idempotency key);
//   - push is sent again: the push carries its notification key, and the app drops
//     a key it has shown;
//   - SMS is not sent again (at most once): it costs per message, cannot be taken
//     back, and the same news also went by email. The row becomes "unconfirmed"
//     and the journey says so.
//
// A recipient refused for good is marked (email, SMS undeliverable; a push token
// dropped, and the message goes by SMS instead) and does not fail the others.
func (a *Notifications) NotifyCustomer(ctx context.Context, req NotifyRequest) ([]NotifyResult, error) {
	contact, err := a.contact(ctx, req.Customer)
	if err != nil {
		return nil, classify(fmt.Errorf("read contact preferences for %s: %w", req.key("*"), err))
	}
	if req.Marketing && !contact.MarketingConsent {
		r, err := a.skip(ctx, req, domain.ChannelEmail, SkipNoConsent)
		return []NotifyResult{r}, err
	}
	facts, err := a.facts(ctx, req, contact)
	if err != nil {
		return nil, classify(fmt.Errorf("facts for notification %s: %w", req.key("*"), err))
	}
	msg, err := a.Messages.Render(contact.Locale, string(req.Touchpoint), facts)
	if err != nil {
		return nil, classify(fmt.Errorf("render notification %s: %w: %w", req.key("*"), ErrInvalidRequest, err))
	}
	unsubscribe, _ := facts["unsubscribe_url"].(string)
	var out []NotifyResult
	for _, channel := range a.channels(contact, req) {
		if reason := a.unusable(contact, channel); reason != "" {
			r, err := a.skip(ctx, req, channel, reason)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
			continue
		}
		r, err := a.send(ctx, req, channel, contact, msg, unsubscribe)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
		if channel == domain.ChannelPush && r.Skipped == SkipUndeliverable && a.SMS != nil && req.Channel == "" {
			contact.PushToken = "" // the app is gone: tell them by SMS instead
			if next := a.channels(contact, req); len(next) > 1 && next[1] == domain.ChannelSMS && a.unusable(contact, domain.ChannelSMS) == "" {
				r, err := a.send(ctx, req, domain.ChannelSMS, contact, msg, unsubscribe)
				if err != nil {
					return nil, err
				}
				out = append(out, r)
			}
		}
	}
	return out, nil
}
