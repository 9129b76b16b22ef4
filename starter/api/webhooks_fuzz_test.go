package api_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/starter/api"
)

// fakeWebhookStore is the part of PostgreSQL the webhook handlers use, in
// memory: one order A-1 with payment pi_1, parcel TRK1 and SMS SM1. The embedded
// api.Store is nil: the handlers must call nothing else. down makes every call
// fail like an unreachable database.
type fakeWebhookStore struct {
	api.Store
	mu      sync.Mutex
	down    bool
	events  map[string]bool
	marks   []string
	entries []activities.JourneyEntry
}

func newFakeWebhookStore() *fakeWebhookStore {
	return &fakeWebhookStore{events: map[string]bool{}}
}

var errOutage = serviceerror.NewUnavailable("down for the test")

func (f *fakeWebhookStore) check() error {
	if f.down {
		return errOutage
	}
	return nil
}

func (f *fakeWebhookStore) WebhookEventSeen(_ context.Context, provider, eventID string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.events[provider+"/"+eventID], f.check()
}

func (f *fakeWebhookStore) RecordWebhookEvent(_ context.Context, provider, eventID string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(); err != nil {
		return false, err
	}
	fresh := !f.events[provider+"/"+eventID]
	f.events[provider+"/"+eventID] = true
	return fresh, nil
}

func (f *fakeWebhookStore) OrderForPayment(_ context.Context, paymentID string) (string, error) {
	if err := f.check(); err != nil {
		return "", err
	}
	if paymentID != "pi_1" {
		return "", activities.ErrNotFound
	}
	return "A-1", nil
}

func (f *fakeWebhookStore) ShipmentForTracking(_ context.Context, code string) (string, string, error) {
	if err := f.check(); err != nil {
		return "", "", err
	}
	if code != "TRK1" {
		return "", "", activities.ErrNotFound
	}
	return "A-1", activities.PurposeHomeDelivery, nil
}

func (f *fakeWebhookStore) MarkTrackingEvent(context.Context, string, string, string, time.Time) error {
	return f.check()
}

func (f *fakeWebhookStore) NotificationByMessageID(_ context.Context, sid string) (activities.NotificationRecord, error) {
	if err := f.check(); err != nil {
		return activities.NotificationRecord{}, err
	}
	if sid != "SM1" {
		return activities.NotificationRecord{}, activities.ErrNotFound
	}
	return activities.NotificationRecord{Key: "A-1:notify:shipped:sms", OrderID: "A-1", Channel: "sms", ProviderMessageID: "SM1"}, nil
}

func (f *fakeWebhookStore) MarkUndeliverable(_ context.Context, orderID string, channel domain.Channel) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(); err != nil {
		return err
	}
	if orderID != "A-1" {
		return activities.ErrNotFound
	}
	f.marks = append(f.marks, string(channel))
	return nil
}

func (f *fakeWebhookStore) RecordEntry(_ context.Context, e activities.JourneyEntry) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(); err != nil {
		return err
	}
	f.entries = append(f.entries, e)
	return nil
}

// fakeSignals records signals; only A-1 runs. down fails them like an
// unreachable Temporal.
type fakeSignals struct {
	api.TemporalClient
	mu   sync.Mutex
	down bool
	sent []string
}

func (f *fakeSignals) SignalWorkflow(_ context.Context, workflowID, _, name string, _ any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errOutage
	}
	if workflowID != "order:A-1" {
		return serviceerror.NewNotFound("workflow execution already completed")
	}
	f.sent = append(f.sent, name)
	return nil
}

// fakeHandler is the starter on the fakes, with the keys' webhooks enabled.
func fakeHandler(t testing.TB, keys webhookKeys, configure bool) (http.Handler, *fakeWebhookStore, *fakeSignals) {
	t.Helper()
	var cfg api.Config
	if configure {
		keys.configure(t, &cfg)
	}
	store, signals := newFakeWebhookStore(), &fakeSignals{}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	return api.New(cfg, signals, store, nil, logger).Handler(), store, signals
}

// serve sends one request to h and returns the status.
func serve(h http.Handler, path, contentType string, body []byte, headers map[string]string) int {
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

func TestWebhookUnconfiguredProvidersHaveNoRoute(t *testing.T) {
	t.Parallel()
	h, _, _ := fakeHandler(t, newWebhookKeys(t), false)
	for _, p := range []string{"stripe", "easypost", "sendgrid", "twilio"} {
		if st := serve(h, "/v1/webhooks/"+p, "application/json", []byte("{}"), nil); st != http.StatusNotFound {
			t.Errorf("%s without a secret: %d, want 404", p, st)
		}
	}
}

func TestWebhookBodyLimit(t *testing.T) {
	t.Parallel()
	keys := newWebhookKeys(t)
	h, store, _ := fakeHandler(t, keys, true)
	big := bytes.Repeat([]byte(" "), 1<<20+1)
	for _, p := range []string{"stripe", "easypost", "sendgrid", "twilio"} {
		if st := serve(h, "/v1/webhooks/"+p, "application/json", big, nil); st != http.StatusRequestEntityTooLarge {
			t.Errorf("%s with 1 MiB + 1 byte: %d, want 413", p, st)
		}
	}
	if len(store.events) != 0 {
		t.Errorf("events recorded: %v", store.events)
	}
}

// TestWebhookOutage: while Temporal or PostgreSQL is down the provider gets 503
// and nothing is recorded, so its retry after the outage acts.
func TestWebhookOutage(t *testing.T) {
	t.Parallel()
	keys := newWebhookKeys(t)
	dispute := stripeEvent(t, "evt_1", "charge.dispute.created", map[string]any{"id": "dp_1", "object": "dispute", "payment_intent": "pi_1"})
	delivered := easyPostEvent(t, "evt_2", "tracker.updated", "TRK1", "delivered")
	bounce := mustJSON(t, []any{map[string]any{"sg_event_id": "sg_1", "event": "bounce", "notification_key": "A-1:notify:shipped:email"}})
	failed := url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"failed"}}
	requests := []struct {
		name, path, contentType string
		body                    []byte
		headers                 map[string]string
	}{
		{"stripe", "/v1/webhooks/stripe", "application/json", dispute, map[string]string{"Stripe-Signature": keys.stripeHeader(dispute)}},
		{"easypost", "/v1/webhooks/easypost", "application/json", delivered, map[string]string{"X-Hmac-Signature": keys.easyPostHeader(delivered)}},
		{"sendgrid", "/v1/webhooks/sendgrid", "application/json", bounce, keys.sendGridHeaders(t, bounce)},
		{"twilio", "/v1/webhooks/twilio", "application/x-www-form-urlencoded", []byte(failed.Encode()),
			map[string]string{"X-Twilio-Signature": keys.twilioSignature(testPublicURL+"/v1/webhooks/twilio", failed)}},
	}
	for _, down := range []string{"temporal", "postgres"} {
		for _, rq := range requests {
			if down == "temporal" && (rq.name == "sendgrid" || rq.name == "twilio") {
				continue // these only write to PostgreSQL
			}
			t.Run(down+"/"+rq.name, func(t *testing.T) {
				t.Parallel()
				h, store, signals := fakeHandler(t, keys, true)
				store.down, signals.down = down == "postgres", down == "temporal"
				if st := serve(h, rq.path, rq.contentType, rq.body, rq.headers); st != http.StatusServiceUnavailable {
					t.Fatalf("during the outage: %d, want 503", st)
				}
				if len(store.events) != 0 {
					t.Fatalf("recorded during the outage: %v", store.events)
				}
				store.down, signals.down = false, false
				if st := serve(h, rq.path, rq.contentType, rq.body, rq.headers); st != http.StatusOK {
					t.Fatalf("retry after the outage: %d, want 200", st)
				}
				if len(store.events) != 1 || len(signals.sent)+len(store.marks) == 0 {
					t.Errorf("after the retry: events %v, signals %v, marks %v", store.events, signals.sent, store.marks)
				}
			})
		}
	}
}

// fuzzWebhook asserts that a body, signed correctly when forged is empty,
// never panics the handler nor makes it answer 5xx.
func fuzzWebhook(t *testing.T, keys webhookKeys, path, contentType string, body []byte, headers map[string]string) {
	h, _, _ := fakeHandler(t, keys, true)
	if st := serve(h, path, contentType, body, headers); st >= 500 {
		t.Errorf("%s answered %d for %q", path, st, body)
	}
}

func FuzzStripeWebhook(f *testing.F) {
	keys := newWebhookKeys(f)
	f.Add(stripeEvent(f, "evt_1", "charge.dispute.created", map[string]any{"id": "dp_1", "payment_intent": "pi_1"}), "")
	f.Add(stripeEvent(f, "evt_2", "refund.created", map[string]any{"id": "re_1", "payment_intent": map[string]any{"id": "pi_1"}}), "")
	f.Add(stripeEvent(f, "evt_3", "charge.refunded", map[string]any{"payment_intent": "pi_1", "refunds": map[string]any{"data": []any{nil, map[string]any{"id": "re_2"}}}}), "")
	f.Add(stripeEvent(f, "evt_4", "charge.dispute.created", map[string]any{"payment_intent": 42}), "")
	f.Add([]byte(`{"id":"evt_5","type":"charge.refunded","data":{"object":null}}`), "")
	f.Add([]byte(`{"id":"evt_6","type":"charge.dispute.created"}`), "")
	f.Add([]byte(`[]`), "")
	f.Add([]byte(`{}`), "t=1,v1=00")
	f.Add([]byte("not json"), "")
	f.Fuzz(func(t *testing.T, body []byte, forged string) {
		sig := forged
		if sig == "" {
			sig = keys.stripeHeader(body)
		}
		fuzzWebhook(t, keys, "/v1/webhooks/stripe", "application/json", body, map[string]string{"Stripe-Signature": sig})
	})
}

func FuzzEasyPostWebhook(f *testing.F) {
	keys := newWebhookKeys(f)
	f.Add(easyPostEvent(f, "evt_1", "tracker.updated", "TRK1", "delivered"), "")
	f.Add(easyPostEvent(f, "evt_2", "tracker.updated", "TRK-unknown", "failure"), "")
	f.Add([]byte(`{"id":"evt_3","description":"tracker.updated","result":{"object":"Tracker","tracking_code":"TRK1","status":"delivered","tracking_details":[null,{"status":"delivered","datetime":"yesterday"}],"updated_at":"x"}}`), "")
	f.Add([]byte(`{"id":"evt_4","description":"tracker.updated","result":{"object":"Tracker"}}`), "")
	f.Add([]byte(`{"id":"evt_5","description":"tracker.updated","result":null}`), "")
	f.Add([]byte(`{"result":{"object":"Nope"}}`), "")
	f.Add([]byte(`{"result":[1,2]}`), "")
	f.Add([]byte("not json"), "hmac-sha256-hex=00")
	f.Fuzz(func(t *testing.T, body []byte, forged string) {
		sig := forged
		if sig == "" {
			sig = keys.easyPostHeader(body)
		}
		fuzzWebhook(t, keys, "/v1/webhooks/easypost", "application/json", body, map[string]string{"X-Hmac-Signature": sig})
	})
}

func FuzzSendGridWebhook(f *testing.F) {
	keys := newWebhookKeys(f)
	f.Add([]byte(`[{"sg_event_id":"sg_1","event":"bounce","notification_key":"A-1:notify:shipped:email","timestamp":1700000000}]`), "")
	f.Add([]byte(`[{"sg_event_id":"sg_2","event":"dropped","notification_key":"B-9:notify:shipped:email"}]`), "")
	f.Add([]byte(`[{"sg_event_id":"sg_3","event":"bounce","notification_key":":notify:"},{"sg_event_id":4},"x",null,[]]`), "")
	f.Add([]byte(`[{"sg_event_id":"sg_5","event":"bounce","notification_key":"A-1:notify:x:email","timestamp":-9223372036854775808}]`), "")
	f.Add([]byte(`{"not":"an array"}`), "")
	f.Add([]byte(`[]`), "MEUCIQ==")
	f.Add([]byte(""), "!!!")
	f.Fuzz(func(t *testing.T, body []byte, forged string) {
		headers := keys.sendGridHeaders(t, body)
		if forged != "" {
			headers["X-Twilio-Email-Event-Webhook-Signature"] = forged
		}
		fuzzWebhook(t, keys, "/v1/webhooks/sendgrid", "application/json", body, headers)
	})
}

func FuzzTwilioWebhook(f *testing.F) {
	keys := newWebhookKeys(f)
	f.Add("MessageSid=SM1&MessageStatus=undelivered&ErrorCode=30003", "")
	f.Add("MessageSid=SM2&MessageStatus=failed", "")
	f.Add("MessageSid=SM1&MessageStatus=delivered", "")
	f.Add("MessageSid=&MessageStatus=failed&ErrorCode=%00%ff", "")
	f.Add("MessageSid=SM1&MessageSid=SM2&MessageStatus=failed", "")
	f.Add("%zz=1", "")
	f.Add("", "AAAA")
	f.Fuzz(func(t *testing.T, body, forged string) {
		sig := forged
		if sig == "" {
			form, _ := url.ParseQuery(body) // what the handler parses; a bad body is refused before the signature
			sig = keys.twilioSignature(testPublicURL+"/v1/webhooks/twilio", form)
		}
		fuzzWebhook(t, keys, "/v1/webhooks/twilio", "application/x-www-form-urlencoded", []byte(body), map[string]string{"X-Twilio-Signature": sig})
	})
}

// A seed of every fuzz target must reach the order: the corpus exercises the
// acting path, not only the refusals.
func TestWebhookFuzzSeedsAct(t *testing.T) {
	t.Parallel()
	keys := newWebhookKeys(t)
	h, store, signals := fakeHandler(t, keys, true)
	stripeBody := stripeEvent(t, "evt_1", "charge.dispute.created", map[string]any{"id": "dp_1", "payment_intent": "pi_1"})
	epBody := easyPostEvent(t, "evt_1", "tracker.updated", "TRK1", "delivered")
	sgBody := []byte(`[{"sg_event_id":"sg_1","event":"bounce","notification_key":"A-1:notify:shipped:email"}]`)
	twForm := url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"undelivered"}}
	for _, st := range []int{
		serve(h, "/v1/webhooks/stripe", "application/json", stripeBody, map[string]string{"Stripe-Signature": keys.stripeHeader(stripeBody)}),
		serve(h, "/v1/webhooks/easypost", "application/json", epBody, map[string]string{"X-Hmac-Signature": keys.easyPostHeader(epBody)}),
		serve(h, "/v1/webhooks/sendgrid", "application/json", sgBody, keys.sendGridHeaders(t, sgBody)),
		serve(h, "/v1/webhooks/twilio", "application/x-www-form-urlencoded", []byte(twForm.Encode()),
			map[string]string{"X-Twilio-Signature": keys.twilioSignature(testPublicURL+"/v1/webhooks/twilio", twForm)}),
	} {
		if st != http.StatusOK {
			t.Errorf("status %d, want 200", st)
		}
	}
	if got := strings.Join(signals.sent, ","); got != "payment-event,carrier-event" {
		t.Errorf("signals = %s", got)
	}
	if got := strings.Join(store.marks, ","); got != "email,sms" {
		t.Errorf("undeliverable marks = %s", got)
	}
}
