package activities

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/links"
	"github.com/everywherecommerce/fulfilment/messages"
	"github.com/everywherecommerce/fulfilment/pickupcode"
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
}

// RecommendationStore names products to suggest for the SKUs of an order.
type RecommendationStore interface {
	// Recommendations returns the names of at most limit products recommended for
	// the SKUs (best first), leaving out the SKUs themselves.
	Recommendations(ctx context.Context, skus []string, limit int) ([]string, error)
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

// crossSellLimit is how many products a message suggests at most.
const crossSellLimit = 3

// marketingParts are the touchpoints that carry suggestions when the customer
// allows marketing: cross-sell in the confirmation, after-sales ideas in the
// review request (itself a marketing message).
var marketingParts = map[domain.Touchpoint]bool{domain.TouchOrderConfirmed: true, domain.TouchReviewRequest: true}

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

// contact reads the customer's preferences now; a customer without any (or with a
// row that holds only an undeliverable mark) is reached as the checkout said.
func (a *Notifications) contact(ctx context.Context, cu domain.Customer) (Contact, error) {
	c, found, err := a.Contacts.Contact(ctx, cu.ID)
	if err != nil {
		return Contact{}, err
	}
	if !found {
		c = Contact{Channels: domain.Channels()}
	}
	if c.Email == "" {
		c.Email = cu.Email
	}
	if c.Phone == "" && !found {
		c.Phone = cu.Phone
	}
	if c.Locale == "" {
		c.Locale = cu.Locale
	}
	return c, nil
}

// channels are the channels a message goes to: email, then the instant channel
// (push if the app is installed and allowed, else SMS if there is a number and it
// is allowed). Marketing goes by email only; a resend may name its one channel.
func (a *Notifications) channels(c Contact, req NotifyRequest) []domain.Channel {
	if req.Channel != "" {
		if req.Marketing && req.Channel != domain.ChannelEmail {
			return nil // marketing never goes by SMS or push
		}
		return []domain.Channel{req.Channel}
	}
	out := []domain.Channel{domain.ChannelEmail}
	if req.Marketing {
		return out
	}
	switch {
	case a.Push != nil && c.PushToken != "" && c.Allows(domain.ChannelPush):
		out = append(out, domain.ChannelPush)
	case a.SMS != nil && c.Phone != "" && c.Allows(domain.ChannelSMS):
		out = append(out, domain.ChannelSMS)
	}
	return out
}

// unusable gives the reason a chosen channel cannot carry the message now.
func (a *Notifications) unusable(c Contact, channel domain.Channel) string {
	switch {
	case channel == domain.ChannelEmail && (c.EmailUndeliverable || c.Email == ""),
		channel == domain.ChannelSMS && (c.SMSUndeliverable || c.Phone == "" || a.SMS == nil),
		channel == domain.ChannelPush && (c.PushToken == "" || a.Push == nil):
		return SkipUndeliverable
	}
	return ""
}

// skip records in the journey that a message was deliberately not sent, and why.
func (a *Notifications) skip(ctx context.Context, req NotifyRequest, channel domain.Channel, reason string) (NotifyResult, error) {
	key := req.key(string(channel))
	err := a.Journey.RecordEntry(ctx, JourneyEntry{
		OrderID: req.OrderID, Kind: EntryNotification, Key: key + ":skipped",
		Detail: fmt.Sprintf("%s via %s skipped: %s", req.Touchpoint, channel, reason), At: time.Now(),
	})
	if err != nil {
		return NotifyResult{}, classify(fmt.Errorf("record skipped %s: %w", key, err))
	}
	return NotifyResult{Key: key, Channel: channel, Skipped: reason}, nil
}

// send sends the message on one channel, guarded by the notifications row.
func (a *Notifications) send(ctx context.Context, req NotifyRequest, channel domain.Channel, c Contact, msg messages.Message, unsubscribe string) (NotifyResult, error) {
	key := req.key(string(channel))
	res := NotifyResult{Key: key, Channel: channel}
	existing, fresh, err := a.Log.Begin(ctx, NotificationRecord{
		Key: key, OrderID: req.OrderID, Touchpoint: req.Touchpoint, Channel: channel, Status: NotificationSending,
	})
	if err != nil {
		return res, classify(fmt.Errorf("begin notification %s: %w", key, err))
	}
	if !fresh {
		switch existing.Status {
		case NotificationSent:
			res.MessageID, res.Repeat = existing.ProviderMessageID, true
			return res, nil
		case NotificationUndeliverable:
			res.Skipped = SkipUndeliverable
			return res, nil
		case NotificationUnconfirmed:
			res.Skipped = SkipUnconfirmed
			return res, nil
		}
		// Still "sending": an earlier attempt died after the row was written.
		if channel == domain.ChannelSMS {
			err := a.Log.Settle(ctx, key, NotificationUnconfirmed,
				fmt.Sprintf("%s via sms not sent again: an earlier send was interrupted and may have arrived", req.Touchpoint))
			if err != nil {
				return res, classify(fmt.Errorf("settle notification %s: %w", key, err))
			}
			res.Skipped = SkipUnconfirmed
			return res, nil
		}
	}
	var id string
	switch channel {
	case domain.ChannelEmail:
		id, err = a.Email.SendEmail(ctx, Email{NotificationKey: key, To: c.Email, ToName: req.Customer.Name, Subject: msg.Subject,
			Text: msg.Text, HTML: msg.HTML, Locale: msg.Locale, Unsubscribe: unsubscribe})
	case domain.ChannelSMS:
		id, err = a.SMS.SendSMS(ctx, SMS{NotificationKey: key, To: c.Phone, Body: msg.SMS})
	case domain.ChannelPush:
		id, err = a.Push.SendPush(ctx, Push{NotificationKey: key, Token: c.PushToken, Title: msg.PushTitle, Body: msg.PushBody})
	default:
		err = fmt.Errorf("unknown channel %q: %w", channel, ErrInvalidRequest)
	}
	if err != nil {
		return a.failed(ctx, req, res, c, err)
	}
	if err := a.Log.Complete(ctx, key, id); err != nil {
		return res, classify(fmt.Errorf("complete notification %s: %w", key, err))
	}
	res.MessageID = id
	return res, nil
}

// failed settles a send the provider did not accept. A recipient refused for good
// is marked and skipped; an error with an unknown outcome (a timeout) leaves the
// row "sending", so that a retry treats it like the crash window; any other error
// marks it failed, so that the retry sends again.
func (a *Notifications) failed(ctx context.Context, req NotifyRequest, res NotifyResult, c Contact, sendErr error) (NotifyResult, error) {
	key := res.Key
	if errors.Is(sendErr, ErrUndeliverable) || errors.Is(sendErr, ErrUnregistered) {
		var err error
		if res.Channel == domain.ChannelPush {
			err = a.Contacts.DropPushToken(ctx, req.Customer.ID, c.PushToken)
		} else {
			err = a.Contacts.MarkUndeliverable(ctx, req.OrderID, res.Channel)
		}
		if err != nil {
			return res, classify(fmt.Errorf("mark channel of notification %s undeliverable: %w", key, err))
		}
		detail := fmt.Sprintf("%s via %s failed: the provider refused the recipient", req.Touchpoint, res.Channel)
		if err := a.Log.Settle(ctx, key, NotificationUndeliverable, detail); err != nil {
			return res, classify(fmt.Errorf("settle notification %s: %w", key, err))
		}
		res.Skipped = SkipUndeliverable
		return res, nil
	}
	if !outcomeUnknown(sendErr) {
		if err := a.Log.Settle(ctx, key, NotificationFailed, ""); err != nil {
			return res, classify(fmt.Errorf("settle notification %s: %w (after %w)", key, err, sendErr))
		}
	}
	return res, classify(fmt.Errorf("send notification %s: %w", key, sendErr))
}

// outcomeUnknown reports whether a send error leaves open whether the provider
// accepted the message: the call timed out or was cut off.
func outcomeUnknown(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// facts are the template's data: the request's facts, amounts and times in the
// customer's locale, the customer's name, the store's name, address and opening
// hours, the pickup deadline in the store's time zone, and, for a customer who
// allows marketing, suggestions and the unsubscribe link.
func (a *Notifications) facts(ctx context.Context, req NotifyRequest, c Contact) (map[string]any, error) {
	locale := c.Locale
	data := map[string]any{"order_id": req.OrderID, "name": req.Customer.Name,
		"cross_sell": []string(nil), "unsubscribe_url": "", "opening_hours": []string(nil), "store_name": ""}
	for k, v := range req.Facts {
		data[k] = v
	}
	if req.PickupNonce != "" {
		if a.Codes == nil {
			return nil, temporal.NewNonRetryableApplicationError("pickup codes are not configured on this worker", ErrTypeInvalidRequest, nil)
		}
		data["pickup_code"] = a.Codes.Code(req.OrderID, req.PickupNonce)
	}
	if r, ok := req.Facts["reason"]; ok {
		data["reason"] = messages.Reason(locale, r)
	}
	for k, v := range req.Amounts {
		data[k] = messages.Money(locale, v, req.Currency)
	}
	tz := loadLocation(req.Customer.TimeZone)
	if req.StoreID != "" {
		store, err := a.Locations.Location(ctx, req.StoreID)
		if err != nil {
			return nil, err
		}
		tz = loadLocation(store.TimeZone)
		ad := store.Address
		data["store_name"] = store.Name
		data["store_address"] = strings.Join([]string{ad.Line1, ad.PostalCode + " " + ad.City}, ", ")
		data["opening_hours"] = messages.OpeningHours(locale, store.Hours)
		if !req.Deadline.IsZero() {
			data["pickup_deadline"] = messages.DateTime(locale, req.Deadline.In(tz))
		}
	}
	for k, v := range req.Times {
		data[k] = messages.Date(locale, v.In(tz))
	}
	if marketingParts[req.Touchpoint] && c.MarketingConsent && a.Links != nil {
		if req.Marketing {
			data["unsubscribe_url"] = a.Links.Unsubscribe(req.Customer.ID)
		}
		if quiet := a.inQuietHours(req); quiet && len(req.SKUs) > 0 {
			err := a.Journey.RecordEntry(ctx, JourneyEntry{OrderID: req.OrderID, Kind: EntryNotification,
				Key: req.key("cross-sell") + ":skipped", Detail: fmt.Sprintf("cross-sell in %s skipped: %s", req.Touchpoint, SkipQuietHours), At: a.now()})
			if err != nil {
				return nil, err
			}
		} else if a.Recommendations != nil && len(req.SKUs) > 0 {
			names, err := a.Recommendations.Recommendations(ctx, req.SKUs, crossSellLimit)
			if err != nil {
				return nil, err
			}
			data["cross_sell"] = names
			if len(names) > 0 { // suggestions make the message marketing: it carries the link
				data["unsubscribe_url"] = a.Links.Unsubscribe(req.Customer.ID)
			}
		}
	}
	return data, nil
}

func (a *Notifications) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// inQuietHours reports whether now is within the customer's quiet hours.
func (a *Notifications) inQuietHours(req NotifyRequest) bool {
	now := a.now()
	return !OutsideQuietHours(now, req.Customer.TimeZone, req.QuietHours).Equal(now)
}

// loadLocation is the time zone named tz, UTC when unknown.
func loadLocation(tz string) *time.Location {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return time.UTC
	}
	return loc
}
