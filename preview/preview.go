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
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/links"
	"github.com/everywherecommerce/fulfilment/messages"
)

// Message is one rendered message on one channel.
type Message struct {
	Touchpoint domain.Touchpoint
	// Variant names one of a touchpoint's wordings ("early", "home-delivery");
	// empty for a touchpoint with one.
	Variant string
	Channel domain.Channel
	// Subject is the email's subject or the push's title; empty for SMS.
	Subject string
	// Text is the email's plain text, the SMS or the push's body.
	Text string
	// HTML is the email's HTML; empty for SMS and push.
	HTML string
}

// File is the message's file name: "<touchpoint>[.<variant>].<channel>.txt" (and ".html").
func (m Message) File(ext string) string {
	tp := string(m.Touchpoint)
	if m.Variant != "" {
		tp += "." + m.Variant
	}
	return fmt.Sprintf("%s.%s.%s", tp, m.Channel, ext)
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

// sample is one touchpoint's request in one of its variants.
type sample struct {
	variant string
	req     activities.NotifyRequest
}

// samples are the touchpoints' requests, with the facts the workflow sends: a
// watch and two straps to pick up at Berlin Mitte, promised for Tuesday; the
// touchpoints whose wording depends on the order also for a home delivery, and
// the changed pickup date both early and late.
func samples() []sample {
	deadline := time.Date(2026, 11, 30, 19, 0, 0, 0, time.UTC)
	promised := time.Date(2026, 11, 24, 11, 0, 0, 0, time.UTC)
	skus := []string{"WATCH-001", "STRAP-LEA-20"}
	items := "1 × Automatic watch\n2 × Leather strap 20 mm"
	req := func(tp domain.Touchpoint, store string, facts map[string]string) activities.NotifyRequest {
		return activities.NotifyRequest{OrderID: sampleOrder, Touchpoint: tp, StoreID: store, Facts: facts, Currency: "EUR", SKUs: skus}
	}
	withAmount := func(r activities.NotifyRequest, minor int64) activities.NotifyRequest {
		r.Amounts = map[string]int64{"amount": minor}
		return r
	}
	confirmed := withAmount(req(domain.TouchOrderConfirmed, "berlin-mitte",
		map[string]string{"method": string(domain.MethodShipToStore), "items": items}), 32700)
	confirmed.Times = map[string]time.Time{"promised": promised}
	delivered := withAmount(req(domain.TouchOrderConfirmed, "", map[string]string{"method": string(domain.MethodHomeDelivery),
		"items": items, "delivery_address": "Mia Schmidt\nKastanienallee 12\n10435 Berlin"}), 32700)
	refund := func(store string, method domain.Method) activities.NotifyRequest {
		return withAmount(req(domain.TouchPartialRefund, store,
			map[string]string{"method": string(method), "missing_items": "1 × Leather strap 20 mm"}), 3900)
	}
	changed := func(change string, ready time.Time) activities.NotifyRequest {
		r := req(domain.TouchPickupChanged, "berlin-mitte", map[string]string{"change": change})
		r.Times = map[string]time.Time{"promised": promised, "ready": ready}
		return r
	}
	ready := req(domain.TouchReadyForPickup, "berlin-mitte", map[string]string{"pickup_code": "482913"})
	ready.Deadline = deadline
	reminder := req(domain.TouchPickupReminder, "berlin-mitte", nil)
	reminder.Deadline, reminder.Occurrence = deadline, 1
	review := req(domain.TouchReviewRequest, "", nil)
	review.Marketing = true
	tracking := "https://track.example/SBX3F2A91C07B5D"
	return []sample{
		{"", confirmed},
		{"home-delivery", delivered},
		{"", req(domain.TouchPaymentFailed, "", map[string]string{"reason": "the card was declined"})},
		{"", req(domain.TouchInPicking, "berlin-mitte", nil)},
		{"", refund("berlin-mitte", domain.MethodShipToStore)},
		{"home-delivery", refund("", domain.MethodHomeDelivery)},
		{"early", changed("early", promised.Add(-24*time.Hour))},
		{"late", changed("late", promised.Add(48*time.Hour))},
		{"", ready},
		{"", reminder},
		{"", req(domain.TouchPickedUp, "berlin-mitte", nil)},
		{"", req(domain.TouchShipped, "", map[string]string{"carrier": "DHL", "tracking_url": tracking})},
		{"", req(domain.TouchDeliveryProblem, "", map[string]string{"tracking_url": tracking})},
		{"", req(domain.TouchDelivered, "", nil)},
		{"", withAmount(req(domain.TouchCancelled, "", map[string]string{"reason": "the order was not picked up in time"}), 32700)},
		{"", review},
	}
}

// Render renders every touchpoint for the sample order in the locale, on every
// channel it would go to (email, SMS and push; marketing by email only), with
// marketing consent so that the suggestions and unsubscribe links show. Each
// sample is sent through its own sandbox, so that variants of a touchpoint (same
// notification key) are all sent.
func Render(ctx context.Context, locale string) ([]Message, error) {
	catalog, err := messages.Load()
	if err != nil {
		return nil, err
	}
	signer, err := links.New("https://shop.example", []byte("preview key, not a secret"))
	if err != nil {
		return nil, err
	}
	customer := domain.Customer{ID: sampleCustomer, Name: "Mia Schmidt", Email: "mia@example.com", Phone: "+4915112345678",
		Locale: locale, TimeZone: "Europe/Berlin"}
	var out []Message
	for _, s := range samples() {
		store := sandbox.NewStore()
		store.SeedDemo()
		store.SetRecommendations("WATCH-001", "Steel bracelet 20 mm", "Watch cleaning kit", "Watch battery SR626")
		store.SetContact(sampleCustomer, activities.Contact{Email: "mia@example.com", Phone: "+4915112345678", PushToken: "sample-app-token",
			Locale: locale, TimeZone: "Europe/Berlin", MarketingConsent: true,
			Channels: domain.Channels()})
		email, sms, push := &sandbox.Email{}, &sandbox.SMS{}, &sandbox.Push{}
		n := &activities.Notifications{Log: store, Email: email, SMS: sms, Push: push, Contacts: store, Locations: store,
			Journey: store, Messages: catalog, Recommendations: store, Links: signer,
			Now: func() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) }}
		req := s.req
		req.Customer = customer
		for _, ch := range domain.Channels() {
			if req.Marketing && ch != domain.ChannelEmail {
				continue // marketing goes by email only
			}
			r := req
			r.Channel = ch
			if _, err := n.NotifyCustomer(ctx, r); err != nil {
				return nil, fmt.Errorf("render %s via %s: %w", req.Touchpoint, ch, err)
			}
		}
		for _, m := range email.Sent() {
			out = append(out, Message{Touchpoint: touchpoint(m.NotificationKey), Variant: s.variant, Channel: domain.ChannelEmail,
				Subject: m.Subject, Text: m.Text, HTML: m.HTML})
		}
		for _, m := range sms.Sent() {
			out = append(out, Message{Touchpoint: touchpoint(m.NotificationKey), Variant: s.variant, Channel: domain.ChannelSMS, Text: m.Body})
		}
		for _, m := range push.Sent() {
			out = append(out, Message{Touchpoint: touchpoint(m.NotificationKey), Variant: s.variant, Channel: domain.ChannelPush,
				Subject: m.Title, Text: m.Body})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Touchpoint != out[j].Touchpoint {
			return out[i].Touchpoint < out[j].Touchpoint
		}
		return out[i].Variant < out[j].Variant
	})
	return out, nil
}

// touchpoint reads the touchpoint from a notification key "<order>:notify:<tp>[-n]:<channel>".
func touchpoint(key string) domain.Touchpoint {
	_, rest, _ := strings.Cut(key, ":notify:")
	tp, _, _ := strings.Cut(rest, ":")
	return domain.Touchpoint(strings.TrimSuffix(tp, "-1"))
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
		name := string(m.Touchpoint)
		if m.Variant != "" {
			name += " (" + m.Variant + ")"
		}
		fmt.Fprintf(&index, "<li>%s via %s: <a href=\"%s\">text</a>", name, m.Channel, m.File("txt"))
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
