package api_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/starter/api"
)

// testPublicURL is the public base URL Twilio signs in the tests; requests reach
// the test server under another host, as they do behind a proxy.
const testPublicURL = "https://fulfilment.example.test"

// webhookKeys are one test's provider secrets, and what signs its events.
type webhookKeys struct {
	stripe, easyPost, twilio string
	sendGrid                 *ecdsa.PrivateKey
}

func newWebhookKeys(t testing.TB) webhookKeys {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return webhookKeys{
		stripe:   "whsec_" + hex.EncodeToString(randomBytes(t, 16)),
		easyPost: hex.EncodeToString(randomBytes(t, 16)),
		twilio:   hex.EncodeToString(randomBytes(t, 16)),
		sendGrid: key,
	}
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// configure puts the keys into the starter's configuration.
func (k webhookKeys) configure(t testing.TB, cfg *api.Config) {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&k.sendGrid.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	cfg.StripeWebhookSecret = k.stripe
	cfg.EasyPostWebhookSecret = k.easyPost
	cfg.SendGridWebhookPublicKey = base64.StdEncoding.EncodeToString(der)
	cfg.TwilioAuthToken = k.twilio
	cfg.PublicURL = testPublicURL
}

// withWebhooks enables every provider's webhook with the keys.
func withWebhooks(t testing.TB, k webhookKeys) systemOption {
	return func(s *systemSettings) { k.configure(t, &s.api) }
}

// withIdleCarrier stops the sandbox carrier from delivering parcels by itself
// within a test, so that only the test's EasyPost events move them.
func withIdleCarrier() systemOption {
	return func(s *systemSettings) { s.carrierStep = 24 * time.Hour }
}

// stripeHeader signs a Stripe event with the SDK's test helper.
func (k webhookKeys) stripeHeader(body []byte) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: k.stripe}).Header
}

// easyPostHeader signs an EasyPost event: HMAC-SHA256 of the body, in hex.
func (k webhookKeys) easyPostHeader(body []byte) string {
	mac := hmac.New(sha256.New, []byte(k.easyPost))
	mac.Write(body)
	return "hmac-sha256-hex=" + hex.EncodeToString(mac.Sum(nil))
}

// sendGridHeaders signs a SendGrid batch: ECDSA P-256 over SHA-256 of the
// timestamp followed by the body, ASN.1 DER, base64.
func (k webhookKeys) sendGridHeaders(t testing.TB, body []byte) map[string]string {
	t.Helper()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	digest := sha256.Sum256(append([]byte(ts), body...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.sendGrid, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"X-Twilio-Email-Event-Webhook-Signature": base64.StdEncoding.EncodeToString(sig),
		"X-Twilio-Email-Event-Webhook-Timestamp": ts,
	}
}

// twilioSignature signs a status callback as Twilio does: HMAC-SHA1 of the full
// URL followed by each parameter's name and value, sorted by name, in base64.
func (k webhookKeys) twilioSignature(fullURL string, form url.Values) string {
	names := make([]string, 0, len(form))
	for name := range form {
		names = append(names, name)
	}
	slices.Sort(names)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, name := range names {
		b.WriteString(name + form.Get(name))
	}
	mac := hmac.New(sha1.New, []byte(k.twilio))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// stripeEvent builds a Stripe event of the given type around object.
func stripeEvent(t testing.TB, id, typ string, object map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"id": id, "object": "event", "type": typ, "api_version": "2024-06-20", "created": time.Now().Unix(),
		"livemode": false, "pending_webhooks": 1, "data": map[string]any{"object": object},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// easyPostEvent builds a tracker event for a tracking code and status.
func easyPostEvent(t testing.TB, id, description, code, status string) []byte {
	t.Helper()
	at := time.Now().UTC().Format(time.RFC3339)
	b, err := json.Marshal(map[string]any{
		"id": id, "object": "Event", "mode": "test", "description": description,
		"result": map[string]any{
			"id": "trk_" + id, "object": "Tracker", "mode": "test", "tracking_code": code, "status": status,
			"status_detail": "arrived_at_destination", "carrier": "DHLExpress", "updated_at": at,
			"tracking_details": []map[string]any{{"object": "TrackingDetail", "status": status, "datetime": at, "message": "scan"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mustJSON marshals v or fails the test.
func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// webhook posts a provider's request to the starter and returns the status and
// the decoded JSON body (nil for a plain-text answer such as the mux's 404).
func (s *system) webhook(path string, body []byte, contentType string, headers map[string]string) (int, map[string]any) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.url+path, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(data, &out) // the mux's own 404 is plain text
	return resp.StatusCode, out
}

// seen reports whether the starter recorded a provider's event.
func (s *system) seen(provider, eventID string) bool {
	s.t.Helper()
	ok, err := s.store.WebhookEventSeen(context.Background(), provider, eventID)
	if err != nil {
		s.t.Fatal(err)
	}
	return ok
}

// signals counts the signals of a name in the order's workflow history: the
// starter's de-duplication shows as a signal never sent twice.
func (s *system) signals(id, name string) int {
	s.t.Helper()
	n := 0
	for _, ev := range s.history(id) {
		if a := ev.GetWorkflowExecutionSignaledEventAttributes(); a != nil && a.GetSignalName() == name {
			n++
		}
	}
	return n
}

// signalsAtLeast counts the order's signals of a name once there are at least
// want of them in its history (signals sent during a workflow task are written
// when the task completes), or after ten seconds.
func (s *system) signalsAtLeast(id, name string, want int) int {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := s.signals(id, name)
		if n >= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// journeyEntries lists the order's journey entries of a kind.
func (s *system) journeyEntries(id, kind string) []activities.JourneyEntry {
	s.t.Helper()
	entries, err := s.store.Journey(context.Background(), id)
	if err != nil {
		s.t.Fatal(err)
	}
	var out []activities.JourneyEntry
	for _, e := range entries {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// undeliverable reads the customer's undeliverable channels.
func (s *system) undeliverable(customerID string) (email, sms bool) {
	s.t.Helper()
	c, _, err := s.store.Contact(context.Background(), customerID)
	if err != nil {
		s.t.Fatal(err)
	}
	return c.EmailUndeliverable, c.SMSUndeliverable
}

// projectOrder writes an order's projection row directly, for webhooks that need
// only the row (SendGrid, Twilio), not a running workflow.
func (s *system) projectOrder(id string) {
	s.t.Helper()
	now := time.Now().UTC()
	err := s.store.RecordStage(context.Background(), activities.StageChange{Stage: "shipped", At: now, Order: activities.OrderSummary{
		OrderID: id, CustomerID: "C-" + id, Method: "home_delivery", Total: 32700, Currency: "EUR", PlacedAt: now,
	}})
	if err != nil {
		s.t.Fatal(err)
	}
}

// waitAttention polls the projection until the order needs attention.
func (s *system) waitAttention(id string) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		row, err := s.store.OrderRow(context.Background(), id)
		if err == nil && row.NeedsAttention {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("order %s never needed attention (%v)", id, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
