package api_test

import (
	"net/http"
	"testing"

	"github.com/everywherecommerce/fulfilment/workflows"
)

func TestWebhookStripe(t *testing.T) {
	t.Parallel()
	keys := newWebhookKeys(t)
	s := newSystem(t, fastPolicy(), withWebhooks(t, keys))
	id := "E2E-WH-STRIPE-" + s.suffix
	s.place(id, "ship_to_store")
	// POST /v1/orders will record the pair; here the test does.
	if err := s.store.RecordPaymentOrder(t.Context(), "pi_"+id, id); err != nil {
		t.Fatal(err)
	}
	s.waitStage(id, "picking")
	post := func(body []byte, sig string) int {
		t.Helper()
		headers := map[string]string{}
		if sig != "" {
			headers["Stripe-Signature"] = sig
		}
		st, _ := s.webhook("/v1/webhooks/stripe", body, "application/json", headers)
		return st
	}
	dispute := stripeEvent(t, "evt_dispute_"+s.suffix, "charge.dispute.created", map[string]any{
		"id": "dp_" + s.suffix, "object": "dispute", "amount": 32700, "currency": "eur", "charge": "ch_" + s.suffix,
		"payment_intent": "pi_" + id, "reason": "fraudulent", "status": "needs_response",
	})

	forged := keys
	forged.stripe = "whsec_forged"
	for name, sig := range map[string]string{"forged": forged.stripeHeader(dispute), "missing": "", "garbage": "t=1,v1=zz"} {
		if st := post(dispute, sig); st != http.StatusUnauthorized {
			t.Errorf("%s signature: %d, want 401", name, st)
		}
	}
	if s.seen("stripe", "evt_dispute_"+s.suffix) || s.signals(id, workflows.SignalPaymentEvent) != 0 {
		t.Fatal("an unsigned event was recorded or signalled")
	}

	// A dispute marks the order for support, once however often Stripe delivers it.
	if st := post(dispute, keys.stripeHeader(dispute)); st != http.StatusOK {
		t.Fatalf("signed dispute: %d, want 200", st)
	}
	s.waitAttention(id)
	if st := post(dispute, keys.stripeHeader(dispute)); st != http.StatusOK {
		t.Errorf("repeated dispute: %d, want 200", st)
	}
	if n := s.signals(id, workflows.SignalPaymentEvent); n != 1 {
		t.Errorf("payment-event signals after a repeated dispute = %d, want 1", n)
	}

	// Our own refunds are known to the workflow; a dashboard refund is news, and
	// Stripe reports it twice (refund.created, charge.refunded): one signal per
	// delivery, one flag per refund (the workflow de-duplicates by refund ID).
	ours := stripeEvent(t, "evt_ours_"+s.suffix, "refund.created", map[string]any{
		"id": "re_ours_" + s.suffix, "object": "refund", "amount": 3900, "payment_intent": "pi_" + id,
		"metadata": map[string]string{"source": "fulfilment"}, "status": "succeeded",
	})
	outside := map[string]any{
		"id": "re_outside_" + s.suffix, "object": "refund", "amount": 1000, "payment_intent": "pi_" + id,
		"metadata": map[string]string{}, "status": "succeeded", "created": 1,
	}
	refundCreated := stripeEvent(t, "evt_refund_"+s.suffix, "refund.created", outside)
	chargeRefunded := stripeEvent(t, "evt_charge_"+s.suffix, "charge.refunded", map[string]any{
		"id": "ch_" + s.suffix, "object": "charge", "amount": 32700, "amount_refunded": 1000, "payment_intent": "pi_" + id,
		"refunds": map[string]any{"object": "list", "data": []any{outside}},
	})
	// Since API 2022-11-15 charges carry no refunds: nothing to tell ours apart by.
	chargeWithoutRefunds := stripeEvent(t, "evt_charge_bare_"+s.suffix, "charge.refunded", map[string]any{
		"id": "ch_" + s.suffix, "object": "charge", "amount": 32700, "amount_refunded": 3900, "payment_intent": "pi_" + id,
	})
	other := stripeEvent(t, "evt_other_"+s.suffix, "payment_intent.succeeded", map[string]any{"id": "pi_" + id, "object": "payment_intent"})
	unknownOrder := stripeEvent(t, "evt_unknown_"+s.suffix, "charge.dispute.created", map[string]any{
		"id": "dp_unknown_" + s.suffix, "object": "dispute", "amount": 100, "payment_intent": "pi_someone_else",
	})
	for name, body := range map[string][]byte{
		"our refund": ours, "outside refund": refundCreated, "charge refunded": chargeRefunded,
		"charge without refunds": chargeWithoutRefunds, "other type": other, "unknown payment": unknownOrder,
	} {
		if st := post(body, keys.stripeHeader(body)); st != http.StatusOK {
			t.Errorf("%s: %d, want 200", name, st)
		}
	}
	// A signal that arrives while the workflow runs a task is written to history
	// when that task completes: wait for the history to catch up.
	if n := s.signalsAtLeast(id, workflows.SignalPaymentEvent, 3); n != 3 {
		t.Errorf("payment-event signals = %d, want 3 (dispute, refund.created, charge.refunded)", n)
	}
	if !s.seen("stripe", "evt_unknown_"+s.suffix) {
		t.Error("an event for an unknown payment was not recorded as handled")
	}
	status := s.post("/v1/orders/"+id+"/cancel", s.tokens["support"], map[string]string{"reason": "test over"})
	if status["refunded"] == nil {
		t.Errorf("cancel: %v", status)
	}
	// An order whose workflow has ended is acknowledged too.
	s.result(id)
	late := stripeEvent(t, "evt_late_"+s.suffix, "charge.dispute.created", map[string]any{
		"id": "dp_late_" + s.suffix, "object": "dispute", "amount": 100, "payment_intent": "pi_" + id,
	})
	if st := post(late, keys.stripeHeader(late)); st != http.StatusOK {
		t.Errorf("dispute for an ended order: %d, want 200", st)
	}
}
