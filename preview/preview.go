// Package preview renders every touchpoint's messages for a sample order, through
// the same Notifications code the worker runs (sandbox providers catch what would
// be sent). `starter preview-notifications` writes them to files a person can
// open; the golden-file tests compare them with testdata.
package preview

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/adapters/sandbox"
	"github.com/everywherecommerce/fulfilment/links"
	"github.com/everywherecommerce/fulfilment/messages"
)

// Message is one rendered message on one channel.
type Message struct {
	Touchpoint activities.Touchpoint
	Channel    string
	// Subject is the email's subject or the push's title; empty for SMS.
	Subject string
	// Text is the email's plain text, the SMS or the push's body.
	Text string
	// HTML is the email's HTML; empty for SMS and push.
	HTML string
}

// File is the message's file name: "<touchpoint>.<channel>.txt" (and ".html").
func (m Message) File(ext string) string {
	return fmt.Sprintf("%s.%s.%s", m.Touchpoint, m.Channel, ext)
}

// Plain is the message as a text file: the subject or title first, then the text.
func (m Message) Plain() string {
	if m.Subject == "" {
		return m.Text + "\n"
	}
	return "Subject: " + m.Subject + "\n\n" + strings.TrimRight(m.Text, "\n") + "\n"
}

// sampleOrder is the order every preview is about.
const (
	sampleOrder    = "A-10001"
	sampleCustomer = "C-SAMPLE"
)

// samples are the touchpoints' requests, with the facts the workflow sends.
func samples() []activities.NotifyRequest {
	deadline := time.Date(2026, 11, 30, 19, 0, 0, 0, time.UTC)
	promised := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	skus := []string{"WATCH-001", "STRAP-LEA-20"}
	req := func(tp activities.Touchpoint, store string, facts map[string]string) activities.NotifyRequest {
		return activities.NotifyRequest{OrderID: sampleOrder, Touchpoint: tp, StoreID: store, Facts: facts, Currency: "EUR", SKUs: skus}
	}
	withAmount := func(r activities.NotifyRequest, minor int64) activities.NotifyRequest {
		r.Amounts = map[string]int64{"amount": minor}
		return r
	}
	ready := req(activities.TouchReadyForPickup, "berlin-mitte", map[string]string{"pickup_code": "482913"})
	ready.Deadline = deadline
	reminder := req(activities.TouchPickupReminder, "berlin-mitte", nil)
	reminder.Deadline, reminder.Occurrence = deadline, 1
	changed := req(activities.TouchPickupChanged, "berlin-mitte", nil)
	changed.Times = map[string]time.Time{"promised": promised}
	review := req(activities.TouchReviewRequest, "", nil)
	review.Marketing = true
	tracking := "https://track.example/SBX3F2A91C07B5D"
	return []activities.NotifyRequest{
		withAmount(req(activities.TouchOrderConfirmed, "", nil), 32700),
		req(activities.TouchPaymentFailed, "", map[string]string{"reason": "the card was declined"}),
		req(activities.TouchInPicking, "berlin-mitte", nil),
		withAmount(req(activities.TouchPartialRefund, "", nil), 3900),
		changed,
		ready,
		reminder,
		req(activities.TouchPickedUp, "berlin-mitte", nil),
		req(activities.TouchShipped, "", map[string]string{"carrier": "DHL", "tracking_url": tracking}),
		req(activities.TouchDeliveryProblem, "", map[string]string{"tracking_url": tracking}),
		req(activities.TouchDelivered, "", nil),
		withAmount(req(activities.TouchCancelled, "", map[string]string{"reason": "the order was not picked up in time"}), 32700),
		review,
	}
}

// Render renders every touchpoint for the sample order in the locale, on every
// channel it would go to (email, SMS and push; marketing by email only), with
// marketing consent so that the suggestions and unsubscribe links show.
func Render(ctx context.Context, locale string) ([]Message, error) {
	catalog, err := messages.Load()
	if err != nil {
		return nil, err
	}
	signer, err := links.New("https://shop.example", []byte("preview key, not a secret"))
	if err != nil {
		return nil, err
	}
	store := sandbox.NewStore()
	store.SeedDemo()
	store.SetRecommendations("WATCH-001", "Steel bracelet 20 mm", "Watch cleaning kit", "Watch battery SR626")
	store.SetContact(sampleCustomer, activities.Contact{Email: "mia@example.com", Phone: "+4915112345678", PushToken: "sample-app-token",
		Locale: locale, TimeZone: "Europe/Berlin", MarketingConsent: true,
		Channels: []string{activities.ChannelEmail, activities.ChannelSMS, activities.ChannelPush}})
	email, sms, push := &sandbox.Email{}, &sandbox.SMS{}, &sandbox.Push{}
	n := &activities.Notifications{Log: store, Email: email, SMS: sms, Push: push, Contacts: store, Locations: store,
		Journey: store, Messages: catalog, Recommendations: store, Links: signer}
	customer := activities.Customer{ID: sampleCustomer, Name: "Mia Schmidt", Email: "mia@example.com", Phone: "+4915112345678",
		Locale: locale, TimeZone: "Europe/Berlin"}
	var out []Message
	for _, req := range samples() {
		req.Customer = customer
		for _, ch := range []string{activities.ChannelEmail, activities.ChannelSMS, activities.ChannelPush} {
			if req.Marketing && ch != activities.ChannelEmail {
				continue // marketing goes by email only
			}
			r := req
			r.Channel = ch
			if _, err := n.NotifyCustomer(ctx, r); err != nil {
				return nil, fmt.Errorf("render %s via %s: %w", req.Touchpoint, ch, err)
			}
		}
	}
	for _, m := range email.Sent() {
		out = append(out, Message{Touchpoint: touchpoint(m.NotificationKey), Channel: activities.ChannelEmail, Subject: m.Subject, Text: m.Text, HTML: m.HTML})
	}
	for _, m := range sms.Sent() {
		out = append(out, Message{Touchpoint: touchpoint(m.NotificationKey), Channel: activities.ChannelSMS, Text: m.Body})
	}
	for _, m := range push.Sent() {
		out = append(out, Message{Touchpoint: touchpoint(m.NotificationKey), Channel: activities.ChannelPush, Subject: m.Title, Text: m.Body})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Touchpoint < out[j].Touchpoint })
	return out, nil
}

// touchpoint reads the touchpoint from a notification key "<order>:notify:<tp>[-n]:<channel>".
func touchpoint(key string) activities.Touchpoint {
	_, rest, _ := strings.Cut(key, ":notify:")
	tp, _, _ := strings.Cut(rest, ":")
	return activities.Touchpoint(strings.TrimSuffix(tp, "-1"))
}

// Write renders the locale's messages into dir: a .txt file per message, a .html
// file per email, and index.html linking them all.
func Write(ctx context.Context, locale, dir string) ([]string, error) {
	msgs, err := Render(ctx, locale)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	var files []string
	write := func(name, content string) error {
		files = append(files, name)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		return nil
	}
	var index strings.Builder
	index.WriteString("<!DOCTYPE html><meta charset=\"utf-8\"><title>Notifications (" + locale + ")</title><h1>Notifications (" + locale + ")</h1><ul>\n")
	for _, m := range msgs {
		if err := write(m.File("txt"), m.Plain()); err != nil {
			return nil, err
		}
		fmt.Fprintf(&index, "<li>%s via %s: <a href=\"%s\">text</a>", m.Touchpoint, m.Channel, m.File("txt"))
		if m.HTML != "" {
			if err := write(m.File("html"), m.HTML); err != nil {
				return nil, err
			}
			fmt.Fprintf(&index, ", <a href=\"%s\">HTML</a>", m.File("html"))
		}
		index.WriteString("</li>\n")
	}
	index.WriteString("</ul>\n")
	if err := write("index.html", index.String()); err != nil {
		return nil, err
	}
	return files, nil
}
