package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/adapters/postgres"
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

func TestWebhookEventSeen(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()
	if seen, err := st.WebhookEventSeen(ctx, "stripe", "evt_1"); err != nil || seen {
		t.Fatalf("WebhookEventSeen before recording = %v, %v; want false", seen, err)
	}
	if fresh, err := st.RecordWebhookEvent(ctx, "stripe", "evt_1"); err != nil || !fresh {
		t.Fatalf("RecordWebhookEvent = %v, %v; want fresh", fresh, err)
	}
	if seen, err := st.WebhookEventSeen(ctx, "stripe", "evt_1"); err != nil || !seen {
		t.Errorf("WebhookEventSeen after recording = %v, %v; want true", seen, err)
	}
	if seen, err := st.WebhookEventSeen(ctx, "easypost", "evt_1"); err != nil || seen {
		t.Errorf("the same ID from another provider seen = %v, %v; want false", seen, err)
	}
}

func TestWebhookRoutingPaymentOrder(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()
	for range 2 {
		if err := st.RecordPaymentOrder(ctx, "pi_1", "A-1"); err != nil {
			t.Fatalf("RecordPaymentOrder (repeatable) = %v", err)
		}
	}
	if err := st.RecordPaymentOrder(ctx, "pi_1", "A-2"); !errorsIs(err, activities.ErrInvalidRequest) {
		t.Errorf("the same payment for another order = %v, want ErrInvalidRequest", err)
	}
	if err := st.RecordPaymentOrder(ctx, "", "A-2"); !errorsIs(err, activities.ErrInvalidRequest) {
		t.Errorf("an empty payment ID = %v, want ErrInvalidRequest", err)
	}
	if id, err := st.OrderForPayment(ctx, "pi_1"); err != nil || id != "A-1" {
		t.Errorf("OrderForPayment(pi_1) = %q, %v; want A-1", id, err)
	}
	if _, err := st.OrderForPayment(ctx, "pi_unknown"); !errorsIs(err, activities.ErrNotFound) {
		t.Errorf("OrderForPayment(unknown) = %v, want ErrNotFound", err)
	}
}

func TestWebhookRoutingShipmentForTracking(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()
	sh := activities.Shipment{OrderID: "A-1", Purpose: activities.PurposeHomeDelivery, Provider: "easypost",
		Label: activities.Label{ShipmentID: "shp_1", Carrier: "DHL", TrackingCode: "TRK1"}}
	if err := st.SaveShipment(ctx, sh); err != nil {
		t.Fatal(err)
	}
	order, purpose, err := st.ShipmentForTracking(ctx, "TRK1")
	if err != nil || order != "A-1" || purpose != activities.PurposeHomeDelivery {
		t.Errorf("ShipmentForTracking(TRK1) = %q, %q, %v", order, purpose, err)
	}
	for _, code := range []string{"TRK-unknown", ""} {
		if _, _, err := st.ShipmentForTracking(ctx, code); !errorsIs(err, activities.ErrNotFound) {
			t.Errorf("ShipmentForTracking(%q) = %v, want ErrNotFound", code, err)
		}
	}
}

func TestWebhookRoutingNotificationByMessageID(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()
	sent := activities.NotificationRecord{Key: "A-1:notify:shipped:sms", OrderID: "A-1",
		Touchpoint: domain.TouchShipped, Channel: "sms", Status: activities.NotificationSending}
	sending := sent
	sending.Key = "A-1:notify:delivered:sms"
	for _, rec := range []activities.NotificationRecord{sent, sending} {
		if _, _, err := st.Begin(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Complete(ctx, sent.Key, "SM123"); err != nil {
		t.Fatal(err)
	}
	got, err := st.NotificationByMessageID(ctx, "SM123")
	if err != nil || got.Key != sent.Key || got.OrderID != "A-1" || got.Channel != "sms" || got.ProviderMessageID != "SM123" {
		t.Errorf("NotificationByMessageID(SM123) = %+v, %v", got, err)
	}
	// A row still sending has no message ID; an empty SID must not find it.
	for _, sid := range []string{"SM-unknown", ""} {
		if _, err := st.NotificationByMessageID(ctx, sid); !errorsIs(err, activities.ErrNotFound) {
			t.Errorf("NotificationByMessageID(%q) = %v, want ErrNotFound", sid, err)
		}
	}
}

func TestWebhookRoutingMarkUndeliverable(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()
	placed := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for _, o := range []activities.OrderSummary{
		{OrderID: "A-1", CustomerID: "C-1", Method: "home_delivery", Total: 100, Currency: "EUR", PlacedAt: placed},
		{OrderID: "A-2", CustomerID: "C-2", Method: "home_delivery", Total: 100, Currency: "EUR", PlacedAt: placed},
	} {
		if err := st.RecordStage(ctx, activities.StageChange{Order: o, Stage: "accepted", At: placed}); err != nil {
			t.Fatal(err)
		}
	}
	// C-1 has preferences; C-2 has none yet.
	if err := st.SavePreferences(ctx, records.ContactPreferences{CustomerID: "C-1", Email: "c1@example.com", Locale: "de", TimeZone: "Europe/Berlin", UpdatedAt: placed}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := st.MarkUndeliverable(ctx, "A-1", "email"); err != nil {
			t.Fatalf("MarkUndeliverable(A-1, email) = %v", err)
		}
	}
	if email, sms, err := undeliverable(ctx, st, "C-1"); err != nil || !email || sms {
		t.Errorf("C-1 undeliverable email %v, sms %v (%v); want email only", email, sms, err)
	}
	if err := st.MarkUndeliverable(ctx, "A-2", "sms"); err != nil {
		t.Fatal(err)
	}
	// Preferences saved later (at checkout of the next order) keep the mark and
	// still fill in the address: the mark-only row is older than any real write.
	if err := st.SavePreferences(ctx, records.ContactPreferences{CustomerID: "C-2", Email: "c2@example.com", MarketingConsent: true, Locale: "de", TimeZone: "Europe/Berlin", UpdatedAt: placed}); err != nil {
		t.Fatal(err)
	}
	if email, sms, err := undeliverable(ctx, st, "C-2"); err != nil || email || !sms {
		t.Errorf("C-2 undeliverable email %v, sms %v (%v); want sms only", email, sms, err)
	}
	if ok, err := st.MarketingConsent(ctx, "C-2"); err != nil || !ok {
		t.Errorf("C-2 consent after a later save = %v, %v; want true", ok, err)
	}
	if email, sms, err := undeliverable(ctx, st, "C-unknown"); err != nil || email || sms {
		t.Errorf("unknown customer = %v, %v, %v; want none", email, sms, err)
	}
	if err := st.MarkUndeliverable(ctx, "A-unknown", "email"); !errorsIs(err, activities.ErrNotFound) {
		t.Errorf("MarkUndeliverable(unknown order) = %v, want ErrNotFound", err)
	}
	if err := st.MarkUndeliverable(ctx, "A-1", "pigeon"); !errorsIs(err, activities.ErrInvalidRequest) {
		t.Errorf("MarkUndeliverable(pigeon) = %v, want ErrInvalidRequest", err)
	}
}

// undeliverable reads which channels of a customer are marked undeliverable.
func undeliverable(ctx context.Context, st *postgres.Store, customerID string) (email, sms bool, err error) {
	c, _, err := st.Contact(ctx, customerID)
	return c.EmailUndeliverable, c.SMSUndeliverable, err
}
