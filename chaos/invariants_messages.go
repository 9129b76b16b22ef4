package main

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

// checkMessages: one message per (order, touchpoint, channel), the notification
// key. docs/notifications.md documents the crash window (the provider accepted a message,
// the worker died before the row said "sent"): email and push may then be sent
// again, SMS never. So a duplicate email or push whose copies all went out while
// its notifications row was not yet sent is explained; any other duplicate, any
// repeated SMS, a message without a guard row, a row left "sending" or "failed",
// a row "sent" with nothing in the outbox, and a message on a channel the customer
// does not use are violations.
func checkMessages(f *facts, orders []*orderRun) result {
	r := result{name: "one message per (order, touchpoint, channel); duplicates only in the crash window"}
	plans := map[string]*orderPlan{}
	for _, o := range orders {
		plans[o.plan.ID] = o.plan
	}
	byKey := map[string][]outboxRow{}
	for _, m := range f.outbox {
		if m.Key == "" {
			r.violate("outbox message %d (%s) has no notification key", m.ID, m.Channel)
			continue
		}
		byKey[m.Key] = append(byKey[m.Key], m)
	}
	explained, unconfirmed := 0, 0
	for _, key := range slices.Sorted(maps.Keys(byKey)) {
		msgs := byKey[key]
		r.checked++
		n, ok := f.notifications[key]
		if !ok {
			r.violate("%s: %d message(s) sent without a notifications row", key, len(msgs))
			continue
		}
		if p := plans[n.OrderID]; p != nil && !channelAllowed(p, n.Channel) {
			r.violate("%s: sent by %s to a customer with profile %s", key, n.Channel, p.Profile)
		}
		if len(msgs) < 2 {
			continue
		}
		switch {
		case n.Channel == domain.ChannelSMS:
			r.violate("%s: SMS sent %d times (at most once), row %s", key, len(msgs), n.Status)
		case inCrashWindow(n, msgs):
			explained++
			r.notes = append(r.notes, fmt.Sprintf("%s: %d copies, all before the row was completed (crash window)", key, len(msgs)))
		default:
			r.violate("%s: %s sent %d times outside the crash window (row %s, sent at %s, copies at %s)",
				key, n.Channel, len(msgs), n.Status, stamp(n.SentAt), stamps(msgs))
		}
	}
	for _, key := range slices.Sorted(maps.Keys(f.notifications)) {
		n := f.notifications[key]
		switch n.Status {
		case activities.NotificationSending, activities.NotificationFailed:
			r.checked++
			r.violate("%s: row left %q: the message was never settled", key, n.Status)
		case activities.NotificationSent:
			if _, sent := byKey[key]; !sent {
				r.checked++
				r.violate("%s: row says sent, the outbox has nothing", key)
			}
		case activities.NotificationUnconfirmed:
			unconfirmed++
		case activities.NotificationUndeliverable:
			r.notes = append(r.notes, fmt.Sprintf("%s: undeliverable (%s)", key, n.Detail))
		}
	}
	r.notes = append([]string{
		fmt.Sprintf("%d duplicate email/push message(s) explained by the crash window", explained),
		fmt.Sprintf("%d SMS left unconfirmed after an interrupted send (not sent again, as documented)", unconfirmed),
	}, r.notes...)
	return r
}

// channelAllowed reports whether a message may go by channel to the plan's
// customer: email always, the instant channel of their profile.
func channelAllowed(p *orderPlan, channel domain.Channel) bool {
	return channel == domain.ChannelEmail || channel == p.Instant
}

// inCrashWindow reports whether every copy of a duplicated email or push went out
// before its notifications row was completed: the provider had accepted the
// message, the row still said "sending" (or "failed" after an unknown outcome),
// and a retry sent it again, as documented.
func inCrashWindow(n notificationRow, msgs []outboxRow) bool {
	if n.Channel != domain.ChannelEmail && n.Channel != domain.ChannelPush {
		return false
	}
	if n.Status != activities.NotificationSent || n.SentAt == nil {
		return false
	}
	for _, m := range msgs {
		if m.CreatedAt.After(*n.SentAt) {
			return false
		}
	}
	return true
}

func stamp(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.UTC().Format("15:04:05.000")
}

func stamps(msgs []outboxRow) string {
	out := ""
	for i, m := range msgs {
		if i > 0 {
			out += ", "
		}
		out += m.CreatedAt.UTC().Format("15:04:05.000")
	}
	return out
}
