package activities

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"text/template"
	"time"
)

// Touchpoint names a moment in the order at which the customer hears from us.
type Touchpoint string

// Touchpoints. Their values are part of notification idempotency keys.
const (
	TouchOrderConfirmed Touchpoint = "order-confirmed"
	TouchPaymentFailed  Touchpoint = "payment-failed"
	TouchPartialRefund  Touchpoint = "partial-refund"
	TouchReadyForPickup Touchpoint = "ready-for-pickup"
	TouchPickupReminder Touchpoint = "pickup-reminder"
	TouchPickupChanged  Touchpoint = "pickup-date-changed"
	TouchPickedUp       Touchpoint = "picked-up"
	TouchShipped        Touchpoint = "shipped"
	TouchDelivered      Touchpoint = "delivered"
	TouchCancelled      Touchpoint = "cancelled"
	TouchReviewRequest  Touchpoint = "review-request"
)

// ChannelEmail is the one channel every customer has.
const ChannelEmail = "email"

// Notification statuses in the notifications table.
const (
	NotificationSending = "sending"
	NotificationSent    = "sent"
)

// NotificationRecord is a row of the notifications table: one per key.
type NotificationRecord struct {
	Key               string     `json:"key"`
	OrderID           string     `json:"order_id"`
	Touchpoint        Touchpoint `json:"touchpoint"`
	Channel           string     `json:"channel"`
	Status            string     `json:"status"`
	ProviderMessageID string     `json:"provider_message_id,omitempty"`
}

// NotificationLog guards providers that have no idempotency key: a row is written
// before the call and completed after it.
type NotificationLog interface {
	// Begin inserts the row in status "sending". When the key exists it returns the
	// existing row and fresh=false.
	Begin(ctx context.Context, rec NotificationRecord) (existing NotificationRecord, fresh bool, err error)
	// Complete marks the row sent with the provider's message ID and adds the
	// journey entry, in one transaction.
	Complete(ctx context.Context, key, providerMessageID string) error
}

// ConsentStore answers whether a customer's marketing consent holds now.
type ConsentStore interface {
	MarketingConsent(ctx context.Context, customerID string) (bool, error)
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
}

// EmailSender sends an email and returns the provider's message ID.
type EmailSender interface {
	SendEmail(ctx context.Context, e Email) (string, error)
}

// Notifications groups the customer notification activities.
type Notifications struct {
	Log       NotificationLog
	Email     EmailSender
	Consents  ConsentStore
	Locations LocationDirectory
	Journey   JourneyStore
}

// NotifyRequest asks for a touchpoint's message. Facts fill the template; they may
// hold a pickup code, so the request is never logged.
type NotifyRequest struct {
	OrderID    string            `json:"order_id"`
	Touchpoint Touchpoint        `json:"touchpoint"`
	Customer   Customer          `json:"customer"`
	StoreID    string            `json:"store_id,omitempty"`
	Deadline   time.Time         `json:"deadline,omitempty"`
	Facts      map[string]string `json:"facts,omitempty"`
	// Marketing messages go out only if the customer's consent holds at send time.
	Marketing bool `json:"marketing,omitempty"`
	// Occurrence numbers repeated touchpoints (reminders) so each has its own key.
	Occurrence int `json:"occurrence,omitempty"`
}

// NotifyResult says what happened to the message.
type NotifyResult struct {
	Key       string `json:"key"`
	MessageID string `json:"message_id,omitempty"`
	// Repeat is true when the key had been sent before and nothing was sent now.
	Repeat bool `json:"repeat,omitempty"`
	// Skipped gives the reason a message was deliberately not sent.
	Skipped string `json:"skipped,omitempty"`
}

// SkipNoConsent is the reason a marketing message was not sent.
const SkipNoConsent = "no marketing consent"

// NotifyCustomer sends the touchpoint's email once per (order, touchpoint, channel),
// key "<order_id>:notify:<touchpoint>:email". If a previous attempt died after the
// row was written but before it was completed, the email is sent again: for
// transactional email a rare duplicate is better than a customer who never hears.
func (a *Notifications) NotifyCustomer(ctx context.Context, req NotifyRequest) (NotifyResult, error) {
	tp := string(req.Touchpoint)
	if req.Occurrence > 0 {
		tp = fmt.Sprintf("%s-%d", tp, req.Occurrence)
	}
	key := fmt.Sprintf("%s:notify:%s:%s", req.OrderID, tp, ChannelEmail)
	if req.Marketing {
		ok, err := a.Consents.MarketingConsent(ctx, req.Customer.ID)
		if err != nil {
			return NotifyResult{}, classify(fmt.Errorf("read consent for %s: %w", key, err))
		}
		if !ok {
			err := a.Journey.RecordEntry(ctx, JourneyEntry{
				OrderID: req.OrderID, Kind: EntryNotification, Key: key + ":skipped",
				Detail: fmt.Sprintf("%s skipped: %s", req.Touchpoint, SkipNoConsent), At: time.Now(),
			})
			if err != nil {
				return NotifyResult{}, classify(fmt.Errorf("record skipped %s: %w", key, err))
			}
			return NotifyResult{Key: key, Skipped: SkipNoConsent}, nil
		}
	}
	existing, fresh, err := a.Log.Begin(ctx, NotificationRecord{
		Key: key, OrderID: req.OrderID, Touchpoint: req.Touchpoint, Channel: ChannelEmail, Status: NotificationSending,
	})
	if err != nil {
		return NotifyResult{}, classify(fmt.Errorf("begin notification %s: %w", key, err))
	}
	if !fresh && existing.Status == NotificationSent {
		return NotifyResult{Key: key, MessageID: existing.ProviderMessageID, Repeat: true}, nil
	}
	facts, err := a.facts(ctx, req)
	if err != nil {
		return NotifyResult{}, classify(fmt.Errorf("facts for notification %s: %w", key, err))
	}
	subject, text, err := render(req.Touchpoint, facts)
	if err != nil {
		return NotifyResult{}, classify(fmt.Errorf("render notification %s: %w: %w", key, ErrInvalidRequest, err))
	}
	id, err := a.Email.SendEmail(ctx, Email{
		NotificationKey: key, To: req.Customer.Email, ToName: req.Customer.Name, Subject: subject, Text: text,
	})
	if err != nil {
		return NotifyResult{}, classify(fmt.Errorf("send notification %s: %w", key, err))
	}
	if err := a.Log.Complete(ctx, key, id); err != nil {
		return NotifyResult{}, classify(fmt.Errorf("complete notification %s: %w", key, err))
	}
	return NotifyResult{Key: key, MessageID: id}, nil
}

// facts are the template's data: the request's facts, the customer's name, and
// the store's name, address and the pickup deadline in the store's time zone.
func (a *Notifications) facts(ctx context.Context, req NotifyRequest) (map[string]string, error) {
	data := map[string]string{"order_id": req.OrderID, "name": req.Customer.Name}
	for k, v := range req.Facts {
		data[k] = v
	}
	if req.StoreID == "" {
		return data, nil
	}
	store, err := a.Locations.Location(ctx, req.StoreID)
	if err != nil {
		return nil, err
	}
	ad := store.Address
	data["store_name"] = store.Name
	data["store_address"] = strings.Join([]string{ad.Line1, ad.PostalCode + " " + ad.City}, ", ")
	if !req.Deadline.IsZero() {
		loc, err := time.LoadLocation(store.TimeZone)
		if err != nil {
			loc = time.UTC
		}
		data["pickup_deadline"] = req.Deadline.In(loc).Format("Monday, 2 January 2006, 15:04 MST")
	}
	return data, nil
}

// messageTemplates are the plain English texts of the first slice: subject, body.
var messageTemplates = map[Touchpoint][2]string{
	TouchOrderConfirmed: {"Your order {{.order_id}} is confirmed",
		"Hello {{.name}},\n\nthank you for your order {{.order_id}}. We have received your payment of {{.amount}}.\n"},
	TouchPaymentFailed: {"Payment for order {{.order_id}} failed",
		"Hello {{.name}},\n\nwe could not take the payment for order {{.order_id}}: {{.reason}}. The order is cancelled; if anything was charged, our support team will contact you.\n"},
	TouchPartialRefund: {"Part of order {{.order_id}} is not available",
		"Hello {{.name}},\n\nsorry: part of your order {{.order_id}} could not be picked. We have refunded {{.amount}}; the rest is on its way.\n"},
	TouchReadyForPickup: {"Order {{.order_id}} is ready for pickup",
		"Hello {{.name}},\n\nyour order {{.order_id}} is ready for pickup at {{.store_name}}, {{.store_address}}.\n\nYour pickup code: {{.pickup_code}}\n\nPlease pick it up by {{.pickup_deadline}}.\n"},
	TouchPickupReminder: {"Reminder: order {{.order_id}} is waiting for you",
		"Hello {{.name}},\n\nyour order {{.order_id}} is waiting at {{.store_name}}, {{.store_address}}. Please pick it up by {{.pickup_deadline}}; your pickup code is in our earlier message.\n"},
	TouchPickupChanged: {"New pickup date for order {{.order_id}}",
		"Hello {{.name}},\n\nyour order {{.order_id}} is ready at {{.store_name}} on a different day than we said: it was promised for {{.promised}}, and it is ready now.\n"},
	TouchPickedUp: {"Thank you for picking up order {{.order_id}}",
		"Hello {{.name}},\n\nyou picked up order {{.order_id}} at {{.store_name}}. Enjoy it!\n"},
	TouchShipped: {"Order {{.order_id}} is on its way",
		"Hello {{.name}},\n\nyour order {{.order_id}} has shipped with {{.carrier}}. Track it: {{.tracking_url}}\n"},
	TouchDelivered: {"Order {{.order_id}} was delivered",
		"Hello {{.name}},\n\nyour order {{.order_id}} was delivered.\n"},
	TouchCancelled: {"Order {{.order_id}} is cancelled",
		"Hello {{.name}},\n\nyour order {{.order_id}} is cancelled: {{.reason}}. We have refunded {{.amount}}.\n"},
	TouchReviewRequest: {"How do you like your order {{.order_id}}?",
		"Hello {{.name}},\n\nwe would love to hear what you think of your order {{.order_id}}.\n"},
}

func render(tp Touchpoint, data map[string]string) (subject, text string, err error) {
	tpl, ok := messageTemplates[tp]
	if !ok {
		return "", "", fmt.Errorf("no template for touchpoint %q", tp)
	}
	out := make([]string, 2)
	for i, src := range tpl {
		t, err := template.New(string(tp)).Option("missingkey=error").Parse(src)
		if err != nil {
			return "", "", err
		}
		var b bytes.Buffer
		if err := t.Execute(&b, data); err != nil {
			return "", "", err
		}
		out[i] = b.String()
	}
	return out[0], out[1], nil
}
