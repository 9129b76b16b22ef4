package api_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/workflows"
)

func TestWebhookEasyPost(t *testing.T) {
	t.Parallel()
	keys := newWebhookKeys(t)
	s := newSystem(t, fastPolicy(), withWebhooks(t, keys), withIdleCarrier())
	id := "E2E-WH-EP-" + s.suffix
	s.place(id, "home_delivery")
	s.pickAll(id, "dc-erfurt", "dc")
	s.waitStage(id, "shipped")
	sh, err := s.store.Shipment(t.Context(), id, activities.PurposeHomeDelivery)
	if err != nil {
		t.Fatal(err)
	}
	code := sh.Label.TrackingCode
	post := func(body []byte, sig string) int {
		t.Helper()
		headers := map[string]string{}
		if sig != "" {
			headers["X-Hmac-Signature"] = sig
		}
		st, _ := s.webhook("/v1/webhooks/easypost", body, "application/json", headers)
		return st
	}
	trackingStatus := func() string {
		t.Helper()
		v, err := s.store.Tracking(context.Background(), code)
		if err != nil {
			t.Fatal(err)
		}
		return v.Status
	}

	// An in-transit scan is kept with the shipment; the order is not woken.
	inTransit := easyPostEvent(t, "evt_transit_"+s.suffix, "tracker.updated", code, workflows.CarrierInTransit)
	if st := post(inTransit, keys.easyPostHeader(inTransit)); st != http.StatusOK {
		t.Fatalf("in transit: %d, want 200", st)
	}
	if got := trackingStatus(); got != workflows.CarrierInTransit {
		t.Errorf("tracking status = %q, want in_transit", got)
	}

	delivered := easyPostEvent(t, "evt_delivered_"+s.suffix, "tracker.updated", code, workflows.CarrierDelivered)
	forged := keys
	forged.easyPost = "forged"
	for name, sig := range map[string]string{"forged": forged.easyPostHeader(delivered), "missing": "", "bare hex": keys.easyPostHeader(delivered)[len("hmac-sha256-hex="):]} {
		if st := post(delivered, sig); st != http.StatusUnauthorized {
			t.Errorf("%s signature: %d, want 401", name, st)
		}
	}
	if s.seen("easypost", "evt_delivered_"+s.suffix) || trackingStatus() != workflows.CarrierInTransit {
		t.Fatal("an unsigned event was recorded or applied")
	}

	// Delivered completes the delivery, once however often EasyPost sends it.
	if st := post(delivered, keys.easyPostHeader(delivered)); st != http.StatusOK {
		t.Fatalf("delivered: %d, want 200", st)
	}
	s.waitStage(id, "delivered")
	if st := post(delivered, keys.easyPostHeader(delivered)); st != http.StatusOK {
		t.Errorf("repeated delivered: %d, want 200", st)
	}
	if n := s.signals(id, workflows.SignalCarrierEvent); n != 1 {
		t.Errorf("carrier-event signals = %d, want 1 (delivered only, once)", n)
	}
	if got := trackingStatus(); got != workflows.CarrierDelivered {
		t.Errorf("tracking status = %q, want delivered", got)
	}

	for name, body := range map[string][]byte{
		"unknown parcel": easyPostEvent(t, "evt_unknown_"+s.suffix, "tracker.updated", "TRK-UNKNOWN-"+s.suffix, workflows.CarrierDelivered),
		"not a tracker":  mustJSON(t, map[string]any{"id": "evt_batch_" + s.suffix, "object": "Event", "description": "batch.created", "result": map[string]any{"object": "Batch", "id": "batch_1"}}),
	} {
		if st := post(body, keys.easyPostHeader(body)); st != http.StatusOK {
			t.Errorf("%s: %d, want 200", name, st)
		}
	}
	if res := s.result(id); res.Stage != "completed" {
		t.Errorf("result = %+v, want completed after delivery", res)
	}
	// An event for an order whose workflow has ended is acknowledged.
	late := easyPostEvent(t, "evt_late_"+s.suffix, "tracker.updated", code, workflows.CarrierReturnToSender)
	if st := post(late, keys.easyPostHeader(late)); st != http.StatusOK {
		t.Errorf("event for an ended order: %d, want 200", st)
	}
}
