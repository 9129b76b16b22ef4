package activities_test

import (
	"strings"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/adapters/sandbox"
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/links"
	"github.com/everywherecommerce/fulfilment/messages"
)

// notifier is Notifications wired to the sandbox fakes, as the workflow tests wire it.
type notifier struct {
	n     *activities.Notifications
	store *sandbox.Store
	email *sandbox.Email
	sms   *sandbox.SMS
	push  *sandbox.Push
}

func newNotifications(t *testing.T) notifier {
	t.Helper()
	catalog, err := messages.Load()
	if err != nil {
		t.Fatal(err)
	}
	f := notifier{store: sandbox.NewStore(), email: &sandbox.Email{}, sms: &sandbox.SMS{}, push: &sandbox.Push{}}
	f.n = &activities.Notifications{Log: f.store, Email: f.email, SMS: f.sms, Push: f.push,
		Contacts: f.store, Locations: f.store, Journey: f.store, Messages: catalog}
	return f
}

// status is the notifications row of key, "" when there is none.
func (f notifier) status(key string) string {
	for _, r := range f.store.Notifications() {
		if r.Key == key {
			return r.Status
		}
	}
	return ""
}

// journeyHas reports whether the order's journey has an entry whose key ends in suffix.
func (f notifier) journeyHas(orderID, suffix string) bool {
	for _, e := range f.store.Journey(orderID) {
		if strings.HasSuffix(e.Key, suffix) {
			return true
		}
	}
	return false
}

// placeOrder gives the fake store the order's customer, as the checkout's first
// stage does, so that channels can be marked undeliverable.
func (f notifier) placeOrder(t *testing.T) {
	t.Helper()
	err := f.store.RecordStage(t.Context(), activities.StageChange{Stage: "placed",
		Order: activities.OrderSummary{OrderID: "A-1", CustomerID: "C-1", Method: domain.MethodHomeDelivery}})
	if err != nil {
		t.Fatal(err)
	}
}

func confirmation() activities.NotifyRequest {
	return activities.NotifyRequest{
		OrderID: "A-1", Touchpoint: domain.TouchOrderConfirmed,
		Customer: domain.Customer{ID: "C-1", Name: "Mia", Email: "mia@example.com"},
		Facts:    map[string]string{"amount": "249,00 EUR"},
	}
}

func contact(phone, token string, channels ...domain.Channel) activities.Contact {
	if len(channels) == 0 {
		channels = domain.Channels()
	}
	return activities.Contact{Email: "mia@example.com", Phone: phone, PushToken: token, Locale: "en", Channels: channels}
}

// channels lists the channels of the results that were sent now or before.
func channels(rs []activities.NotifyResult) []string {
	var out []string
	for _, r := range rs {
		if r.Skipped == "" {
			out = append(out, string(r.Channel))
		}
	}
	return out
}

func TestTransactionalMessagesGoByEmailAndTheInstantChannel(t *testing.T) {
	for _, tc := range []struct {
		name    string
		contact *activities.Contact
		want    string
	}{
		{"no preferences: as the checkout said (email only, no phone)", nil, "email"},
		{"app installed: push", ptr(contact("+4915112345678", "tok-1")), "email,push"},
		{"no app, a phone: SMS", ptr(contact("+4915112345678", "")), "email,sms"},
		{"neither phone nor app: email only", ptr(contact("", "")), "email"},
		{"push not allowed: SMS", ptr(contact("+4915112345678", "tok-1", "email", "sms")), "email,sms"},
		{"instant channels not allowed: email only", ptr(contact("+4915112345678", "tok-1", "email")), "email"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newNotifications(t)
			if tc.contact != nil {
				f.store.SetContact("C-1", *tc.contact)
			}
			res, err := f.n.NotifyCustomer(t.Context(), confirmation())
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(channels(res), ","); got != tc.want {
				t.Errorf("channels = %s, want %s", got, tc.want)
			}
			if got := len(f.email.Sent()) + len(f.sms.Sent()) + len(f.push.Sent()); got != len(strings.Split(tc.want, ",")) {
				t.Errorf("%d messages sent, want %s", got, tc.want)
			}
		})
	}
}

func TestMarketingGoesByEmailOnlyAndNeedsConsentAtSendTime(t *testing.T) {
	f := newNotifications(t)
	f.store.SetContact("C-1", contact("+4915112345678", "tok-1"))
	req := confirmation()
	req.Touchpoint, req.Marketing = domain.TouchReviewRequest, true

	res, err := f.n.NotifyCustomer(t.Context(), req)
	if err != nil || len(res) != 1 || res[0].Skipped != activities.SkipNoConsent || len(f.email.Sent()) != 0 {
		t.Fatalf("without consent: %+v %v, %d sent", res, err, len(f.email.Sent()))
	}
	if !f.journeyHas("A-1", "review-request:email:skipped") {
		t.Errorf("journey does not say why: %+v", f.store.Journey("A-1"))
	}
	f.store.SetMarketingConsent("C-1", true)
	res, err = f.n.NotifyCustomer(t.Context(), req)
	if err != nil || strings.Join(channels(res), ",") != "email" || len(f.email.Sent()) != 1 || len(f.push.Sent()) != 0 {
		t.Fatalf("with consent: %+v %v; %d emails, %d pushes", res, err, len(f.email.Sent()), len(f.push.Sent()))
	}
}

// The crash window of a channel without idempotency key: the row says "sending"
// (written before the provider call), the worker died before completing it. For
// email the retry sends again — a rare duplicate rather than a customer who never
// hears — and completes the row; once completed, nothing is sent again.
func TestEmailCrashWindowResendsThenNeverAgain(t *testing.T) {
	f := newNotifications(t)
	key := "A-1:notify:order-confirmed:email"
	beginSending(t, f, key, domain.ChannelEmail)

	res, err := f.n.NotifyCustomer(t.Context(), confirmation())
	if err != nil || len(res) != 1 || res[0].Repeat {
		t.Fatalf("retry in the crash window: %+v %v", res, err)
	}
	if got := len(f.email.Sent()); got != 1 {
		t.Fatalf("emails after the retry: %d, want 1", got)
	}
	again, err := f.n.NotifyCustomer(t.Context(), confirmation())
	if err != nil || !again[0].Repeat || again[0].MessageID != res[0].MessageID {
		t.Fatalf("third attempt: %+v %v", again, err)
	}
	if got := len(f.email.Sent()); got != 1 {
		t.Errorf("emails after a completed send: %d, want still 1", got)
	}
	if got := f.status(key); got != activities.NotificationSent {
		t.Errorf("row status %q, want sent", got)
	}
}

// Push in the crash window is sent again too: it carries its notification key, so
// the app drops a duplicate it has already shown.
func TestPushCrashWindowResendsWithTheSameKey(t *testing.T) {
	f := newNotifications(t)
	f.store.SetContact("C-1", contact("", "tok-1"))
	key := "A-1:notify:order-confirmed:push"
	beginSending(t, f, key, domain.ChannelPush)

	if _, err := f.n.NotifyCustomer(t.Context(), confirmation()); err != nil {
		t.Fatal(err)
	}
	sent := f.push.Sent()
	if len(sent) != 1 || sent[0].NotificationKey != key {
		t.Fatalf("pushes = %+v, want one carrying %s", sent, key)
	}
	if got := f.status(key); got != activities.NotificationSent {
		t.Errorf("row status %q, want sent", got)
	}
}

// SMS is at most once: a retry that finds the row still "sending" does not send
// again. The row becomes "unconfirmed", the journey says so, and the email still goes.
func TestSMSCrashWindowIsNotSentAgain(t *testing.T) {
	f := newNotifications(t)
	f.store.SetContact("C-1", contact("+4915112345678", ""))
	key := "A-1:notify:order-confirmed:sms"
	beginSending(t, f, key, domain.ChannelSMS)

	res, err := f.n.NotifyCustomer(t.Context(), confirmation())
	if err != nil {
		t.Fatal(err)
	}
	if len(f.sms.Sent()) != 0 || len(f.email.Sent()) != 1 {
		t.Fatalf("%d SMS, %d emails after the crash; want 0 and 1", len(f.sms.Sent()), len(f.email.Sent()))
	}
	if got := f.status(key); got != activities.NotificationUnconfirmed {
		t.Errorf("row status %q, want unconfirmed", got)
	}
	if !f.journeyHas("A-1", key+":unconfirmed") {
		t.Errorf("journey has no unconfirmed entry: %+v", f.store.Journey("A-1"))
	}
	if res[len(res)-1].Skipped != activities.SkipUnconfirmed {
		t.Errorf("results = %+v", res)
	}
	if _, err := f.n.NotifyCustomer(t.Context(), confirmation()); err != nil || len(f.sms.Sent()) != 0 {
		t.Errorf("a later retry sent an SMS (%d) or failed (%v)", len(f.sms.Sent()), err)
	}
}

// A provider that refuses for now (429) fails the attempt; the retry sends what was
// not sent, and nothing twice.
func TestRefusedForNowIsSentByTheRetryOnce(t *testing.T) {
	f := newNotifications(t)
	f.store.SetContact("C-1", contact("+49151"+sandbox.RecipientRateLimited, ""))
	if _, err := f.n.NotifyCustomer(t.Context(), confirmation()); err == nil {
		t.Fatal("first attempt succeeded despite the 429")
	}
	if got := f.status("A-1:notify:order-confirmed:sms"); got != activities.NotificationFailed {
		t.Fatalf("row status %q after a 429, want failed", got)
	}
	if _, err := f.n.NotifyCustomer(t.Context(), confirmation()); err != nil {
		t.Fatal(err)
	}
	if len(f.sms.Sent()) != 1 || len(f.email.Sent()) != 1 {
		t.Errorf("%d SMS, %d emails; want one each", len(f.sms.Sent()), len(f.email.Sent()))
	}
}

func TestUnregisteredPushTokenIsDroppedAndSMSTakesOver(t *testing.T) {
	f := newNotifications(t)
	f.placeOrder(t)
	f.store.SetContact("C-1", contact("+4915112345678", "tok-"+sandbox.TokenUnregistered))

	res, err := f.n.NotifyCustomer(t.Context(), confirmation())
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(channels(res), ","); got != "email,sms" {
		t.Errorf("channels = %s, want email,sms", got)
	}
	c, _, _ := f.store.Contact(t.Context(), "C-1")
	if c.PushToken != "" {
		t.Errorf("push token kept: %q", c.PushToken)
	}
	if !f.journeyHas("A-1", "order-confirmed:push:undeliverable") {
		t.Errorf("journey = %+v", f.store.Journey("A-1"))
	}
}

func TestUndeliverableSMSIsMarkedAndSkippedLater(t *testing.T) {
	f := newNotifications(t)
	f.placeOrder(t)
	f.store.SetContact("C-1", contact("+49151"+sandbox.PhoneSuffixUndeliverable, ""))

	if _, err := f.n.NotifyCustomer(t.Context(), confirmation()); err != nil {
		t.Fatal(err)
	}
	if len(f.email.Sent()) != 1 || len(f.sms.Sent()) != 0 {
		t.Fatalf("%d emails, %d SMS", len(f.email.Sent()), len(f.sms.Sent()))
	}
	c, _, _ := f.store.Contact(t.Context(), "C-1")
	if !c.SMSUndeliverable {
		t.Error("SMS not marked undeliverable")
	}
	next := confirmation()
	next.Touchpoint, next.Facts = domain.TouchDelivered, nil
	res, err := f.n.NotifyCustomer(t.Context(), next)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(channels(res), ","); got != "email" || !f.journeyHas("A-1", "delivered:sms:skipped") {
		t.Errorf("next message: channels %s, journey %+v", got, f.store.Journey("A-1"))
	}
}

func TestUnknownLocaleFallsBackToEnglish(t *testing.T) {
	f := newNotifications(t)
	req := confirmation()
	req.Customer.Locale = "xx-YY"
	if _, err := f.n.NotifyCustomer(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	if sent := f.email.Sent(); len(sent) != 1 || !strings.Contains(sent[0].Subject, "is confirmed") {
		t.Errorf("emails = %+v", sent)
	}
}

func beginSending(t *testing.T, f notifier, key string, channel domain.Channel) {
	t.Helper()
	_, fresh, err := f.store.Begin(t.Context(), activities.NotificationRecord{
		Key: key, OrderID: "A-1", Touchpoint: domain.TouchOrderConfirmed, Channel: channel, Status: activities.NotificationSending,
	})
	if err != nil || !fresh {
		t.Fatalf("begin: fresh=%v err=%v", fresh, err)
	}
}

func ptr[T any](v T) *T { return &v }

// Cross-sell is marketing and can wait: in the customer's quiet hours the
// confirmation goes without suggestions, and the journey says why.
func TestCrossSellIsLeftOutInQuietHours(t *testing.T) {
	for _, tc := range []struct {
		name  string
		hour  int // in Berlin
		wants bool
	}{{"afternoon", 15, true}, {"late evening", 23, false}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newNotifications(t)
			signer, err := links.New("https://shop.example", []byte("k"))
			if err != nil {
				t.Fatal(err)
			}
			berlin, _ := time.LoadLocation("Europe/Berlin")
			f.n.Links, f.n.Recommendations = signer, f.store
			f.n.Now = func() time.Time { return time.Date(2026, 11, 24, tc.hour, 0, 0, 0, berlin) }
			f.store.SetRecommendations("WATCH-001", "Steel bracelet 20 mm")
			c := contact("", "")
			c.MarketingConsent = true
			f.store.SetContact("C-1", c)
			req := confirmation()
			req.SKUs, req.QuietHours = []string{"WATCH-001"}, activities.DefaultQuietHours()
			req.Customer.TimeZone = "Europe/Berlin"
			if _, err := f.n.NotifyCustomer(t.Context(), req); err != nil {
				t.Fatal(err)
			}
			sent := f.email.Sent()
			if len(sent) != 1 {
				t.Fatalf("%d emails, want the confirmation", len(sent))
			}
			if got := strings.Contains(sent[0].Text, "Steel bracelet 20 mm"); got != tc.wants {
				t.Errorf("suggestion in the confirmation = %v, want %v:\n%s", got, tc.wants, sent[0].Text)
			}
			if skipped := f.journeyHas("A-1", ":cross-sell:skipped"); skipped == tc.wants {
				t.Errorf("journey skip entry = %v: %+v", skipped, f.store.Journey("A-1"))
			}
		})
	}
}
