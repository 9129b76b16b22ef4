package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/EasyPost/easypost-go/v5"

	"github.com/everywherecommerce/fulfilment/workflows"
)

// easyPostSignatureHeader carries "hmac-sha256-hex=<hex>": the HMAC-SHA256 of the
// raw body under the webhook secret.
const easyPostSignatureHeader = "X-Hmac-Signature"

// easyPostWebhook handles tracker.created and tracker.updated: the status is kept
// with the shipment, and the order's workflow is signalled only when the status
// changes its course (workflows.CarrierEventMatters), because every signal is a
// billable Action. Other events are acknowledged and ignored.
func (s *Server) easyPostWebhook(w http.ResponseWriter, r *http.Request) {
	body, err := readWebhookBody(w, r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	ev, err := verifyEasyPost(r.Context(), body, r.Header.Get(easyPostSignatureHeader), s.cfg.EasyPostWebhookSecret)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	ref := webhookEvent{provider: providerEasyPost, eventType: ev.Description, eventID: ev.ID}
	tracker, ok := ev.Result.(*easypost.Tracker)
	if (ev.Description != "tracker.created" && ev.Description != "tracker.updated") || !ok || tracker == nil {
		s.ignored(ref, "not a tracker event")
		acknowledged(w)
		return
	}
	if ev.ID == "" || tracker.TrackingCode == "" || tracker.Status == "" {
		s.problem(w, r, malformedEvent("The tracker event lacks an ID, a tracking code or a status."))
		return
	}
	if !plainRefs(ev.ID, tracker.TrackingCode, tracker.Status) {
		s.problem(w, r, malformedEvent("The tracker event's ID, tracking code and status must be text without control characters."))
		return
	}
	carrierEvent := workflows.CarrierEvent{
		EventID: ev.ID, TrackingCode: tracker.TrackingCode, Status: tracker.Status, At: trackerTime(tracker, s.cfg.Now()),
	}
	err = s.handleOnce(r.Context(), ref, func(ctx context.Context) error {
		orderID, purpose, err := s.store.ShipmentForTracking(ctx, carrierEvent.TrackingCode)
		if err != nil {
			return s.unrouted(ref, err)
		}
		if err := s.store.MarkTrackingEvent(ctx, orderID, purpose, carrierEvent.Status, carrierEvent.At); err != nil {
			return s.unrouted(ref, err)
		}
		if !workflows.CarrierEventMatters(carrierEvent.Status) {
			return nil // kept with the shipment; the order need not wake up
		}
		return s.signal(ctx, ref, orderID, workflows.SignalCarrierEvent, carrierEvent)
	})
	if err != nil {
		s.problem(w, r, err)
		return
	}
	acknowledged(w)
}

// verifyEasyPost checks the signature with the SDK's own ValidateWebhook (it
// normalises the secret to NFKD before the HMAC, as EasyPost does, and compares
// in constant time) and returns the parsed event. The method uses nothing of its
// client, so a zero Client serves. A missing or wrong signature is a 401, a
// signed body that does not parse a 400.
func verifyEasyPost(ctx context.Context, body []byte, signature, secret string) (*easypost.Event, error) {
	headers := map[string]any{}
	if signature != "" {
		headers[easyPostSignatureHeader] = signature
	}
	ev, err := (&easypost.Client{}).ValidateWebhookWithContext(ctx, body, headers, secret)
	var missing *easypost.MissingWebhookSignatureError
	var mismatch *easypost.MismatchWebhookSignatureError
	switch {
	case errors.As(err, &missing), errors.As(err, &mismatch):
		return nil, badSignature()
	case err != nil || ev == nil:
		return nil, malformedEvent("The event is not an EasyPost event.")
	}
	return ev, nil
}

// trackerTime is when the tracker's current status happened: the time of its
// latest tracking detail with that status (the carrier's scan), else the
// tracker's last update, else now. MarkTrackingEvent keeps the newest status by
// this time, so late deliveries of older events change nothing.
func trackerTime(t *easypost.Tracker, now time.Time) time.Time {
	for i := len(t.TrackingDetails) - 1; i >= 0; i-- {
		d := t.TrackingDetails[i]
		if d == nil || d.Status != t.Status {
			continue
		}
		if at, err := time.Parse(time.RFC3339, d.DateTime); err == nil {
			return at.UTC()
		}
	}
	if t.UpdatedAt != nil && !time.Time(*t.UpdatedAt).IsZero() {
		return time.Time(*t.UpdatedAt).UTC()
	}
	return now.UTC()
}
