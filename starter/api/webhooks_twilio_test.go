package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

func TestWebhookTwilio(t *testing.T) {
	t.Parallel()
	keys := newWebhookKeys(t)
	s := newSystem(t, fastPolicy(), withWebhooks(t, keys))
	id := "E2E-WH-TW-" + s.suffix
	customer := "C-" + id
	sid := "SM" + s.suffix
	s.projectOrder(id)
	rec := activities.NotificationRecord{Key: id + ":notify:shipped:sms", OrderID: id, Touchpoint: domain.TouchShipped,
		Channel: "sms", Status: activities.NotificationSending}
	if _, _, err := s.store.Begin(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	if err := s.store.Complete(t.Context(), rec.Key, sid); err != nil {
		t.Fatal(err)
	}
	const path = "/v1/webhooks/twilio"
	callback := func(sid, status string) url.Values {
		return url.Values{"MessageSid": {sid}, "MessageStatus": {status}, "ErrorCode": {"30003"},
			"AccountSid": {"AC0000"}, "To": {"+4915112345678"}, "ApiVersion": {"2010-04-01"}}
	}
	post := func(form url.Values, sig string) int {
		t.Helper()
		headers := map[string]string{}
		if sig != "" {
			headers["X-Twilio-Signature"] = sig
		}
		st, _ := s.webhook(path, []byte(form.Encode()), "application/x-www-form-urlencoded", headers)
		return st
	}
	undelivered := callback(sid, "undelivered")

	forged := keys
	forged.twilio = "forged"
	for name, sig := range map[string]string{
		"forged":    forged.twilioSignature(testPublicURL+path, undelivered),
		"other URL": keys.twilioSignature("https://elsewhere.example.test"+path, undelivered),
		"missing":   "",
	} {
		if st := post(undelivered, sig); st != http.StatusUnauthorized {
			t.Errorf("%s signature: %d, want 401", name, st)
		}
	}
	if _, sms := s.undeliverable(customer); sms || len(s.journeyEntries(id, activities.EntryNotification)) != 1 ||
		s.seen("twilio", sid+":undelivered") {
		t.Fatal("an unsigned callback was acted on or recorded")
	}

	for range 2 { // a repeat changes nothing
		if st := post(undelivered, keys.twilioSignature(testPublicURL+path, undelivered)); st != http.StatusOK {
			t.Fatalf("signed callback: %d, want 200", st)
		}
	}
	var failures []activities.JourneyEntry
	for _, e := range s.journeyEntries(id, activities.EntryNotification) {
		if strings.HasPrefix(e.Key, "webhook:twilio:") {
			failures = append(failures, e)
		}
	}
	if len(failures) != 1 || failures[0].Key != "webhook:twilio:"+sid+":undelivered" || failures[0].Detail != "sms undelivered (error 30003)" {
		t.Errorf("journey = %+v, want one \"sms undelivered\" entry", failures)
	}
	if email, sms := s.undeliverable(customer); email || !sms {
		t.Errorf("undeliverable email %v, sms %v; want sms only", email, sms)
	}

	// Progress of a message, and messages we never sent, are acknowledged.
	for name, form := range map[string]url.Values{
		"delivered":   callback(sid, "delivered"),
		"unknown SID": callback("SM-unknown-"+s.suffix, "failed"),
	} {
		if st := post(form, keys.twilioSignature(testPublicURL+path, form)); st != http.StatusOK {
			t.Errorf("%s: %d, want 200", name, st)
		}
	}
	if !s.seen("twilio", "SM-unknown-"+s.suffix+":failed") {
		t.Error("a callback for an unknown message was not acknowledged as handled")
	}
}
