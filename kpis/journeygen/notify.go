package journeygen

import (
	"fmt"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

// notificationKey is the real key (activities.NotifyRequest's):
// "<order>:notify:<touchpoint>[-<occurrence>]:<channel>".
func notificationKey(orderID string, tp domain.Touchpoint, occurrence int, ch domain.Channel) string {
	t := string(tp)
	if occurrence > 0 {
		t = fmt.Sprintf("%s-%d", t, occurrence)
	}
	return fmt.Sprintf("%s:notify:%s:%s", orderID, t, ch)
}

// notify sends a touchpoint's message as activities.Notifications does: by
// email, and by the customer's instant channel (push with the app, else SMS
// with a phone number); marketing by email only. Each message's fate is drawn
// from its own stream (its key): sent, failed for now, or refused for good;
// a sent email may bounce and a sent SMS fail to deliver later (the SendGrid
// and Twilio webhooks' journey entries).
func (o *ord) notify(tp domain.Touchpoint, occurrence int, at time.Time, marketing bool) {
	channels := []domain.Channel{domain.ChannelEmail}
	c := o.cust.row
	switch {
	case marketing:
	case c.PushToken != "":
		channels = append(channels, domain.ChannelPush)
	case c.Phone != "":
		channels = append(channels, domain.ChannelSMS)
	}
	for _, ch := range channels {
		o.send(tp, occurrence, ch, at)
	}
}

func (o *ord) send(tp domain.Touchpoint, occurrence int, ch domain.Channel, at time.Time) {
	g, rt := o.g, o.g.cfg.Rates
	key := notificationKey(o.row.OrderID, tp, occurrence, ch)
	r := stream(g.cfg.Seed, "notify", key)
	uStatus, uLater, uDelay, uSent := r.Float64(), r.Float64(), r.Float64(), r.Float64()
	created := at.Add(seconds(uSent, 4))
	if !created.Before(g.end) {
		return
	}
	n := NotificationRow{Key: key, OrderID: o.row.OrderID, Touchpoint: tp, Channel: ch, CreatedAt: created}
	switch {
	case uStatus < rt.Undeliverable:
		n.Status = activities.NotificationUndeliverable
		n.Detail = fmt.Sprintf("%s via %s failed: the provider refused the recipient", tp, ch)
		o.entry(activities.EntryNotification, key+":"+n.Status, n.Detail, "", created.Add(time.Second))
		o.markUndeliverable(ch)
	case uStatus < rt.Undeliverable+rt.SendFailed:
		n.Status = activities.NotificationFailed
	default:
		n.Status = activities.NotificationSent
		sent := created.Add(time.Duration(200+int(uSent*1800)) * time.Millisecond)
		n.SentAt = &sent
		n.ProviderMessageID = providerID(ch, r)
		o.entry(activities.EntryNotification, key, fmt.Sprintf("%s via %s", tp, ch), "", sent)
		o.later(ch, n, uLater, uDelay, r.Float64)
	}
	g.m.Notifications = append(g.m.Notifications, n)
}

// later adds what a provider reports after the send: an email bounce
// (SendGrid, minutes to hours later) or an SMS that was not delivered
// (Twilio, seconds to minutes later), each marking the customer's channel.
func (o *ord) later(ch domain.Channel, n NotificationRow, uLater, uDelay float64, next func() float64) {
	g, rt := o.g, o.g.cfg.Rates
	switch ch {
	case domain.ChannelEmail:
		p := min(1, rt.Bounce*g.dayRate(o.s.ID, KindBounces, n.CreatedAt))
		if g.happens(KindBounces, o.s.ID, n.CreatedAt, p, uLater) {
			at := n.SentAt.Add(time.Minute + exp(uDelay, 45*time.Minute)).Truncate(time.Second)
			id := fmt.Sprintf("%016x%06x", uint64(next()*(1<<63)), uint64(next()*(1<<23)))
			o.entry(activities.EntryNotification, "webhook:sendgrid:"+id, "email bounced", "sendgrid", at)
			if at.Before(g.end) {
				o.markUndeliverable(ch)
			}
		}
	case domain.ChannelSMS:
		p := min(1, rt.SMSFailure*g.dayRate(o.s.ID, KindSMSFailures, n.CreatedAt))
		if g.happens(KindSMSFailures, o.s.ID, n.CreatedAt, p, uLater) {
			at := n.SentAt.Add(10*time.Second + exp(uDelay, 5*time.Minute)).Truncate(time.Second)
			o.entry(activities.EntryNotification, "webhook:twilio:"+n.ProviderMessageID+":undelivered",
				"sms undelivered (error 30003)", "twilio", at)
			if at.Before(g.end) {
				o.markUndeliverable(ch)
			}
		}
	}
}

// markUndeliverable records on the customer's preferences what a refusal or
// a bounce taught (later messages of the month are not re-planned for it).
func (o *ord) markUndeliverable(ch domain.Channel) {
	switch ch {
	case domain.ChannelEmail:
		o.cust.row.EmailUndeliverable = true
	case domain.ChannelSMS:
		o.cust.row.SMSUndeliverable = true
	}
}

// providerID is a provider-style message ID.
func providerID(ch domain.Channel, r interface{ IntN(int) int }) string {
	const digits = "0123456789abcdef"
	hex := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = digits[r.IntN(16)]
		}
		return string(b)
	}
	switch ch {
	case domain.ChannelSMS:
		return "SM" + hex(32)
	case domain.ChannelPush:
		return "projects/everywhere/messages/" + hex(16)
	}
	return hex(22) + ".filter0001"
}
