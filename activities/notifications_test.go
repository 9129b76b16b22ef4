package activities_test

import (
	"testing"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/adapters/sandbox"
)

func newNotifications(t *testing.T) (*activities.Notifications, *sandbox.Store, *sandbox.Email) {
	t.Helper()
	store, email := sandbox.NewStore(), &sandbox.Email{}
	return &activities.Notifications{Log: store, Email: email, Consents: store, Locations: store, Journey: store}, store, email
}

func confirmation() activities.NotifyRequest {
	return activities.NotifyRequest{
		OrderID: "A-1", Touchpoint: activities.TouchOrderConfirmed,
		Customer: activities.Customer{ID: "C-1", Name: "Mia", Email: "mia@example.com"},
		Facts:    map[string]string{"amount": "249,00 EUR"},
	}
}

// The crash window of a channel without idempotency key: the row says "sending"
// (written before the provider call), the worker died before completing it. For
// email the retry sends again — a rare duplicate rather than a customer who never
// hears — and completes the row; once completed, nothing is sent again.
func TestEmailCrashWindowResendsThenNeverAgain(t *testing.T) {
	n, store, email := newNotifications(t)
	key := "A-1:notify:order-confirmed:email"
	if _, fresh, err := store.Begin(t.Context(), activities.NotificationRecord{
		Key: key, OrderID: "A-1", Touchpoint: activities.TouchOrderConfirmed, Channel: activities.ChannelEmail, Status: activities.NotificationSending,
	}); err != nil || !fresh {
		t.Fatalf("begin: fresh=%v err=%v", fresh, err)
	}

	res, err := n.NotifyCustomer(t.Context(), confirmation())
	if err != nil || res.Repeat {
		t.Fatalf("retry in the crash window: %+v %v", res, err)
	}
	if got := len(email.Sent()); got != 1 {
		t.Fatalf("emails after the retry: %d, want 1", got)
	}
	again, err := n.NotifyCustomer(t.Context(), confirmation())
	if err != nil || !again.Repeat || again.MessageID != res.MessageID {
		t.Fatalf("third attempt: %+v %v", again, err)
	}
	if got := len(email.Sent()); got != 1 {
		t.Errorf("emails after a completed send: %d, want still 1", got)
	}
	var sent bool
	for _, r := range store.Notifications() {
		sent = sent || (r.Key == key && r.Status == activities.NotificationSent && r.ProviderMessageID == res.MessageID)
	}
	if !sent {
		t.Errorf("row not completed with the message ID: %+v", store.Notifications())
	}
}

func TestMarketingNeedsConsentAtSendTime(t *testing.T) {
	n, store, email := newNotifications(t)
	req := confirmation()
	req.Touchpoint, req.Marketing = activities.TouchReviewRequest, true

	res, err := n.NotifyCustomer(t.Context(), req)
	if err != nil || res.Skipped != activities.SkipNoConsent || len(email.Sent()) != 0 {
		t.Fatalf("without consent: %+v %v, %d sent", res, err, len(email.Sent()))
	}
	store.SetMarketingConsent("C-1", true)
	if res, err := n.NotifyCustomer(t.Context(), req); err != nil || res.Skipped != "" || len(email.Sent()) != 1 {
		t.Fatalf("with consent: %+v %v, %d sent", res, err, len(email.Sent()))
	}
}
