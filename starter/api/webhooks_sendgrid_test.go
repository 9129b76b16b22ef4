package api_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"maps"
	"net/http"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

func TestWebhookSendGrid(t *testing.T) {
	t.Parallel()
	keys := newWebhookKeys(t)
	s := newSystem(t, fastPolicy(), withWebhooks(t, keys))
	id := "E2E-WH-SG-" + s.suffix
	customer := "C-" + id
	s.projectOrder(id)
	if err := s.store.SavePreferences(t.Context(), records.ContactPreferences{CustomerID: customer, Email: "mia@example.com",
		Locale: "de-DE", TimeZone: "Europe/Berlin", UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	post := func(body []byte, headers map[string]string) int {
		t.Helper()
		st, _ := s.webhook("/v1/webhooks/sendgrid", body, "application/json", headers)
		return st
	}
	event := func(sgID, kind, key string) map[string]any {
		return map[string]any{"sg_event_id": sgID, "event": kind, "notification_key": key, "email": "mia@example.com",
			"timestamp": time.Now().Unix(), "sg_message_id": "msg." + sgID}
	}
	key := id + ":notify:shipped:email"
	batch := mustJSON(t, []any{
		event("sg-bounce-"+s.suffix, "bounce", key),
		event("sg-delivered-"+s.suffix, "delivered", key),
		map[string]any{"sg_event_id": "sg-other-" + s.suffix, "event": "open"}, // mail of another system
		"not an event",
	})

	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	forged := webhookKeys{sendGrid: other}.sendGridHeaders(t, batch)
	tampered := keys.sendGridHeaders(t, batch)
	tampered["X-Twilio-Email-Event-Webhook-Timestamp"] = "1"
	for name, headers := range map[string]map[string]string{"forged": forged, "missing": nil, "tampered timestamp": tampered} {
		if st := post(batch, headers); st != http.StatusUnauthorized {
			t.Errorf("%s signature: %d, want 401", name, st)
		}
	}
	if email, _ := s.undeliverable(customer); email || len(s.journeyEntries(id, activities.EntryNotification)) != 0 ||
		s.seen("sendgrid", "sg-bounce-"+s.suffix) {
		t.Fatal("an unsigned batch was acted on or recorded")
	}

	signed := keys.sendGridHeaders(t, batch)
	for range 2 { // a repeated batch changes nothing
		if st := post(batch, maps.Clone(signed)); st != http.StatusOK {
			t.Fatalf("signed batch: %d, want 200", st)
		}
	}
	entries := s.journeyEntries(id, activities.EntryNotification)
	if len(entries) != 1 || entries[0].Key != "webhook:sendgrid:sg-bounce-"+s.suffix || entries[0].Detail != "email bounced" {
		t.Errorf("journey = %+v, want one \"email bounced\" entry", entries)
	}
	if email, sms := s.undeliverable(customer); !email || sms {
		t.Errorf("undeliverable email %v, sms %v; want email only", email, sms)
	}
	if !s.seen("sendgrid", "sg-bounce-"+s.suffix) {
		t.Error("the bounce was not recorded as handled")
	}

	dropped := mustJSON(t, []any{
		event("sg-dropped-"+s.suffix, "dropped", key),
		event("sg-unknown-"+s.suffix, "bounce", "UNKNOWN-"+s.suffix+":notify:shipped:email"),
	})
	if st := post(dropped, keys.sendGridHeaders(t, dropped)); st != http.StatusOK {
		t.Fatalf("dropped and unknown order: %d, want 200", st)
	}
	if entries := s.journeyEntries(id, activities.EntryNotification); len(entries) != 2 || entries[1].Detail != "email dropped" {
		t.Errorf("journey = %+v, want a second entry \"email dropped\"", entries)
	}
	if len(s.journeyEntries("UNKNOWN-"+s.suffix, activities.EntryNotification)) != 0 || !s.seen("sendgrid", "sg-unknown-"+s.suffix) {
		t.Error("an event for an unknown order was written to a journey, or not acknowledged")
	}
}
