package api

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/sendgrid/sendgrid-go/helpers/eventwebhook"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

// sendGridEvent is one entry of an Event Webhook batch. NotificationKey is our
// custom argument ("<order_id>:notify:<touchpoint>:email"), set on every email
// the SendGrid adapter sends.
type sendGridEvent struct {
	SGEventID       string `json:"sg_event_id"`
	Event           string `json:"event"`
	Timestamp       int64  `json:"timestamp"`
	NotificationKey string `json:"notification_key"`
}

// sendGridFailures are the events after which an address is not worth another
// try, with the journey's words for them. Deferred, delivered, opens and clicks
// change nothing.
var sendGridFailures = map[string]string{
	"bounce":  "email bounced",
	"dropped": "email dropped",
}

// sendGridKey parses the configured verification key. It checks the key's type
// first: the SDK's ConvertPublicKeyBase64ToECDSA asserts it unchecked and would
// panic on an RSA key.
func sendGridKey(b64 string) (*ecdsa.PublicKey, error) {
	der, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("decode sendgrid public key: %w", err)
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse sendgrid public key: %w", err)
	}
	if _, ok := pub.(*ecdsa.PublicKey); !ok {
		return nil, fmt.Errorf("sendgrid public key is a %T, want ECDSA", pub)
	}
	return eventwebhook.ConvertPublicKeyBase64ToECDSA(b64)
}

// sendGridWebhook handles an Event Webhook batch. A bounce or a drop of one of
// our emails adds a journey entry and marks the customer's email undeliverable;
// each event is handled once by its sg_event_id. A batch that fails half-way
// answers 503: SendGrid sends it again, and the events already handled are
// skipped. key and keyErr come from the configured public key.
func (s *Server) sendGridWebhook(w http.ResponseWriter, r *http.Request, key *ecdsa.PublicKey, keyErr error) {
	if keyErr != nil {
		s.problem(w, r, fmt.Errorf("sendgrid webhook: %w", keyErr))
		return
	}
	body, err := readWebhookBody(w, r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	// The signature covers the timestamp header followed by the raw body. Replays
	// are caught by sg_event_id, so the timestamp's age is not checked.
	ok, err := eventwebhook.VerifySignature(key, body,
		r.Header.Get(eventwebhook.VerificationHTTPHeader), r.Header.Get(eventwebhook.TimestampHTTPHeader))
	if err != nil || !ok {
		s.problem(w, r, badSignature())
		return
	}
	var batch []json.RawMessage
	if err := json.Unmarshal(body, &batch); err != nil {
		s.problem(w, r, malformedEvent("The body must be a JSON array of events."))
		return
	}
	for _, raw := range batch {
		if err := s.sendGridEvent(r.Context(), raw); err != nil {
			s.problem(w, r, err)
			return
		}
	}
	acknowledged(w)
}

// sendGridEvent handles one event of a batch. An entry we cannot read, or one
// without our notification key (mail sent by another system), is skipped: the
// rest of the batch still counts.
func (s *Server) sendGridEvent(ctx context.Context, raw json.RawMessage) error {
	var ev sendGridEvent
	if err := json.Unmarshal(raw, &ev); err != nil || ev.SGEventID == "" || !plainRefs(ev.SGEventID, ev.NotificationKey) {
		s.logger.Debug("webhook event ignored", "provider", providerSendGrid, "reason", "unreadable entry")
		return nil
	}
	ref := webhookEvent{provider: providerSendGrid, eventType: ev.Event, eventID: ev.SGEventID}
	detail, failed := sendGridFailures[ev.Event]
	orderID, _, ours := strings.Cut(ev.NotificationKey, ":notify:")
	if !failed || !ours || orderID == "" {
		s.ignored(ref, "not a failure of one of our emails")
		return nil
	}
	at := s.cfg.Now()
	if ev.Timestamp > 0 {
		at = time.Unix(ev.Timestamp, 0)
	}
	return s.handleOnce(ctx, ref, func(ctx context.Context) error {
		return s.undeliverable(ctx, ref, orderID, domain.ChannelEmail, activities.JourneyEntry{
			OrderID: orderID, Kind: activities.EntryNotification, Key: "webhook:sendgrid:" + ev.SGEventID,
			Detail: detail, Actor: providerSendGrid, At: at.UTC(),
		})
	})
}

// undeliverable marks the order's customer's channel undeliverable and adds the
// journey entry. An order not in the projection is acknowledged (unrouted), and
// then gets no journey entry either.
func (s *Server) undeliverable(ctx context.Context, ref webhookEvent, orderID string, channel domain.Channel, entry activities.JourneyEntry) error {
	if err := s.store.MarkUndeliverable(ctx, orderID, channel); err != nil {
		return s.unrouted(ref, err)
	}
	return s.store.RecordEntry(ctx, entry)
}
