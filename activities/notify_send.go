package activities

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/messages"
)

// skip records in the journey that a message was deliberately not sent, and why.
func (a *Notifications) skip(ctx context.Context, req NotifyRequest, channel domain.Channel, reason string) (NotifyResult, error) {
	key := req.key(string(channel))
	fresh, err := recordEntry(ctx, a.Journey, JourneyEntry{
		OrderID: req.OrderID, Kind: EntryNotification, Key: key + ":skipped",
		Detail: fmt.Sprintf("%s via %s skipped: %s", req.Touchpoint, channel, reason), At: time.Now(),
	})
	if err != nil {
		return NotifyResult{}, classify(fmt.Errorf("record skipped %s: %w", key, err))
	}
	if fresh {
		metricsOr(a.Metrics).Message(channel, MessageSkipped)
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
			metricsOr(a.Metrics).Message(channel, MessageUnconfirmed)
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
	metricsOr(a.Metrics).Message(channel, MessageSent)
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
		metricsOr(a.Metrics).Message(res.Channel, MessageUndeliverable)
		res.Skipped = SkipUndeliverable
		return res, nil
	}
	if !outcomeUnknown(sendErr) {
		if err := a.Log.Settle(ctx, key, NotificationFailed, ""); err != nil {
			return res, classify(fmt.Errorf("settle notification %s: %w (after %w)", key, err, sendErr))
		}
		metricsOr(a.Metrics).Message(res.Channel, MessageFailed)
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
