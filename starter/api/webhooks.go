package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// Provider webhooks: POST /v1/webhooks/{stripe,easypost,sendgrid,twilio}.
//
// Every handler runs the same steps: read the body (at most maxWebhookBody),
// verify the provider's signature before anything else (401, nothing recorded or
// signalled), parse, route the event to its order, act, and only then record the
// provider's event ID in webhook_events.
//
// Act first, record after: recording first would drop the provider's retry when
// the action then fails (Temporal or PostgreSQL down). Acting first means a crash
// between acting and recording repeats the action on the retry, which is safe:
// the workflow ignores a signal whose event ID it has seen, and the journey
// entries and channel marks are idempotent writes. A recorded event answers 200
// and does nothing, so a provider's redelivery costs no Temporal Action.
//
// An outage answers 503 so that the provider retries. An event for an order we do
// not know, or whose workflow has ended, is acknowledged with 200 and logged by
// event type and ID only: no retry can route it, and providers disable endpoints
// that keep failing.
//
// A provider whose secret is not configured has no route (404): setting the
// secret enables it.

// WebhookStore is what the webhook handlers read and write in PostgreSQL.
type WebhookStore interface {
	WebhookEventSeen(ctx context.Context, provider, eventID string) (bool, error)
	RecordWebhookEvent(ctx context.Context, provider, eventID string) (fresh bool, err error)
	OrderForPayment(ctx context.Context, paymentID string) (string, error)
	ShipmentForTracking(ctx context.Context, code string) (orderID, purpose string, err error)
	MarkTrackingEvent(ctx context.Context, orderID, purpose, status string, at time.Time) error
	NotificationByMessageID(ctx context.Context, providerMessageID string) (activities.NotificationRecord, error)
	MarkUndeliverable(ctx context.Context, orderID string, channel domain.Channel) error
	RecordEntry(ctx context.Context, e activities.JourneyEntry) error
}

// Provider names, as recorded in webhook_events.
const (
	providerStripe   = "stripe"
	providerEasyPost = "easypost"
	providerSendGrid = "sendgrid"
	providerTwilio   = "twilio"
)

// maxWebhookBody caps webhook bodies at 1 MiB: a Stripe event or a SendGrid
// batch is far smaller, and anything larger is not from the provider.
const maxWebhookBody = 1 << 20

// webhookRoutes registers the routes of the providers whose secret is configured.
func (s *Server) webhookRoutes(mux *routeMux) {
	if s.cfg.StripeWebhookSecret != "" {
		mux.HandleFunc("POST /v1/webhooks/stripe", s.stripeWebhook)
	}
	if s.cfg.EasyPostWebhookSecret != "" {
		mux.HandleFunc("POST /v1/webhooks/easypost", s.easyPostWebhook)
	}
	if s.cfg.SendGridWebhookPublicKey != "" {
		key, err := sendGridKey(s.cfg.SendGridWebhookPublicKey)
		if err != nil {
			// Registered anyway, so that SendGrid sees failures (and retries) and
			// the log names the cause on every delivery instead of once at start.
			s.logger.Error("sendgrid webhook public key is invalid", "error", err)
		}
		mux.HandleFunc("POST /v1/webhooks/sendgrid", func(w http.ResponseWriter, r *http.Request) {
			s.sendGridWebhook(w, r, key, err)
		})
	}
	if s.cfg.TwilioAuthToken != "" {
		mux.HandleFunc("POST /v1/webhooks/twilio", s.twilioWebhook)
	}
}

// readWebhookBody reads the whole body, at most maxWebhookBody bytes (413 beyond).
func readWebhookBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, newProblem(http.StatusRequestEntityTooLarge, "too-large", "Request too large", "A webhook body may be at most 1 MiB.")
	}
	if err != nil {
		return nil, newProblem(http.StatusBadRequest, "malformed", "Unreadable body", "The body could not be read.")
	}
	return body, nil
}

// plainRefs reports whether every ID an event is routed and recorded by is valid
// UTF-8 without control characters. PostgreSQL refuses NUL and invalid UTF-8, so
// an event with such an ID could never be recorded and would fail (and be
// delivered again) forever; it is answered like any other unreadable event.
func plainRefs(refs ...string) bool {
	for _, ref := range refs {
		if textProblem(ref, false) != "" {
			return false
		}
	}
	return true
}

// badSignature is the answer to a missing or wrong signature.
func badSignature() *Problem {
	return newProblem(http.StatusUnauthorized, "bad-signature", "Bad signature", "The webhook signature is missing or does not match.")
}

// malformedEvent is the answer to a correctly signed body we cannot read.
func malformedEvent(detail string) *Problem {
	return newProblem(http.StatusBadRequest, "malformed", "Malformed event", detail)
}

// webhookEvent names one provider event; the log shows only these fields.
type webhookEvent struct {
	provider, eventType, eventID string
}

// handleOnce acts on an event unless it was handled before, then records it. act
// returns nil when the event is handled (including "no such order", see
// unrouted); any error leaves the event unrecorded and answers 503, so the
// provider delivers it again.
func (s *Server) handleOnce(ctx context.Context, ev webhookEvent, act func(context.Context) error) error {
	seen, err := s.store.WebhookEventSeen(ctx, ev.provider, ev.eventID)
	if err != nil {
		return unavailable("Cannot read the webhook events now.", err)
	}
	if seen {
		return nil
	}
	if err := act(ctx); err != nil {
		return unavailable("Cannot act on the event now; deliver it again later.", err)
	}
	// fresh is false when a concurrent delivery of the same event got here first;
	// both acted, which the idempotent actions absorb.
	if _, err := s.store.RecordWebhookEvent(ctx, ev.provider, ev.eventID); err != nil {
		return unavailable("Cannot record the event now; deliver it again later.", err)
	}
	return nil
}

// unrouted turns "no such order" (a payment, parcel or message we do not know,
// or an order whose workflow has ended) into success, logged by event type and
// ID only; other errors pass through.
func (s *Server) unrouted(ev webhookEvent, err error) error {
	var gone *serviceerror.NotFound
	if errors.Is(err, activities.ErrNotFound) || errors.As(err, &gone) {
		s.logger.Info("webhook event for no running order", "provider", ev.provider, "event_type", ev.eventType, "event_id", ev.eventID)
		return nil
	}
	return err
}

// signal sends a signal to the order's workflow; see unrouted for ended orders.
func (s *Server) signal(ctx context.Context, ev webhookEvent, orderID, name string, arg any) error {
	return s.unrouted(ev, s.temporal.SignalWorkflow(ctx, workflows.WorkflowID(orderID), "", name, arg))
}

// acknowledged answers 200 with a tiny body providers ignore.
func acknowledged(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// ignored logs an event that is signed and readable but not for us.
func (s *Server) ignored(ev webhookEvent, why string) {
	s.logger.Debug("webhook event ignored", "provider", ev.provider, "event_type", ev.eventType, "event_id", ev.eventID, "reason", why)
}
