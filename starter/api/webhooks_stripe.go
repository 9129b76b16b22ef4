package api

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/everywherecommerce/fulfilment/workflows"
)

// refundSourceKey and refundSourceFulfilment mark the refunds this system makes:
// the Stripe adapter must put metadata "source": "fulfilment" on every
// Refunds.New. The webhook ignores those, because the workflow made them; any
// other refund was made elsewhere (the dashboard) and the order needs support.
const (
	refundSourceKey        = "source"
	refundSourceFulfilment = "fulfilment"
)

// paymentNews is what a Stripe event tells an order: which payment, and the
// PaymentEvent for its workflow.
type paymentNews struct {
	paymentID string
	event     workflows.PaymentEvent
}

// stripeWebhook handles charge.dispute.created, refund.created and
// charge.refunded; other event types are acknowledged and ignored.
func (s *Server) stripeWebhook(w http.ResponseWriter, r *http.Request) {
	body, err := readWebhookBody(w, r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	// IgnoreAPIVersionMismatch: stripe-go v76 refuses events rendered in any API
	// version but its own (2023-10-16), and an endpoint's version is set in the
	// dashboard, not here. The few fields read below are stable across versions.
	ev, err := webhook.ConstructEventWithOptions(body, r.Header.Get("Stripe-Signature"), s.cfg.StripeWebhookSecret,
		webhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true})
	switch {
	case errors.Is(err, webhook.ErrNotSigned), errors.Is(err, webhook.ErrInvalidHeader),
		errors.Is(err, webhook.ErrNoValidSignature), errors.Is(err, webhook.ErrTooOld):
		s.problem(w, r, badSignature())
		return
	case err != nil:
		s.problem(w, r, malformedEvent("The event is not a Stripe event."))
		return
	}
	ref := webhookEvent{provider: providerStripe, eventType: string(ev.Type), eventID: ev.ID}
	if ev.ID == "" || ev.Data == nil {
		s.problem(w, r, malformedEvent("The event has no ID or no data."))
		return
	}
	news, ok, err := stripeNews(ev)
	if err != nil {
		s.problem(w, r, malformedEvent("The event's object does not match its type."))
		return
	}
	if !ok {
		s.ignored(ref, "not a dispute or an outside refund")
		acknowledged(w)
		return
	}
	if !plainRefs(ev.ID, news.paymentID, news.event.EventID) {
		s.problem(w, r, malformedEvent("The event's IDs must be text without control characters."))
		return
	}
	err = s.handleOnce(r.Context(), ref, func(ctx context.Context) error {
		orderID, err := s.store.OrderForPayment(ctx, news.paymentID)
		if err != nil {
			return s.unrouted(ref, err)
		}
		return s.signal(ctx, ref, orderID, workflows.SignalPaymentEvent, news.event)
	})
	if err != nil {
		s.problem(w, r, err)
		return
	}
	acknowledged(w)
}

// stripeNews reads a dispute or an outside refund from the event; ok is false for
// anything else. The PaymentEvent's ID is the dispute's or the refund's ID, not
// the event's: one refund arrives as both refund.created and charge.refunded, and
// the workflow must flag it once.
func stripeNews(ev stripe.Event) (paymentNews, bool, error) {
	at := time.Unix(ev.Created, 0).UTC()
	switch ev.Type {
	case stripe.EventTypeChargeDisputeCreated:
		var d stripe.Dispute
		if err := json.Unmarshal(ev.Data.Raw, &d); err != nil {
			return paymentNews{}, false, err
		}
		if d.PaymentIntent == nil || d.PaymentIntent.ID == "" || d.ID == "" {
			return paymentNews{}, false, nil
		}
		return paymentNews{paymentID: d.PaymentIntent.ID, event: workflows.PaymentEvent{
			EventID: d.ID, Kind: "dispute", Amount: d.Amount, At: at,
		}}, true, nil
	case stripe.EventTypeRefundCreated:
		var rf stripe.Refund
		if err := json.Unmarshal(ev.Data.Raw, &rf); err != nil {
			return paymentNews{}, false, err
		}
		return outsideRefund(&rf, rf.PaymentIntent, at)
	case stripe.EventTypeChargeRefunded:
		var c stripe.Charge
		if err := json.Unmarshal(ev.Data.Raw, &c); err != nil {
			return paymentNews{}, false, err
		}
		// Since API version 2022-11-15 a charge no longer embeds its refunds, so
		// the metadata that tells our refunds apart is missing: then refund.created
		// (which the endpoint must also receive) reports the refund instead.
		if c.Refunds == nil || len(c.Refunds.Data) == 0 {
			return paymentNews{}, false, nil
		}
		latest := slices.MaxFunc(c.Refunds.Data, func(a, b *stripe.Refund) int {
			if a == nil || b == nil {
				return 0
			}
			return cmp.Compare(a.Created, b.Created)
		})
		return outsideRefund(latest, c.PaymentIntent, at)
	}
	return paymentNews{}, false, nil
}

// outsideRefund reports a refund unless this system made it.
func outsideRefund(rf *stripe.Refund, pi *stripe.PaymentIntent, at time.Time) (paymentNews, bool, error) {
	if rf == nil || rf.ID == "" || pi == nil || pi.ID == "" || rf.Metadata[refundSourceKey] == refundSourceFulfilment {
		return paymentNews{}, false, nil
	}
	return paymentNews{paymentID: pi.ID, event: workflows.PaymentEvent{
		EventID: rf.ID, Kind: "refund", Amount: rf.Amount, At: at,
	}}, true, nil
}
