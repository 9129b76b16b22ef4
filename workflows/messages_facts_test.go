package workflows_test

import (
	"strings"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// emailText is the text of the touchpoint's email to the harness's customer
// (German), "" when none was sent.
func (h *harness) emailText(tp domain.Touchpoint) string {
	for _, m := range h.email.Sent() {
		if strings.Split(m.NotificationKey, ":")[2] == string(tp) {
			return m.Subject + "\n\n" + m.Text
		}
	}
	return ""
}

// contains reports each wanted piece of text the message lacks, and each
// unwanted one it has.
func contains(t *testing.T, what, text string, want []string, not []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
	for _, n := range not {
		if strings.Contains(text, n) {
			t.Errorf("%s says %q:\n%s", what, n, text)
		}
	}
}

// The confirmation of a ship-to-store order names what was ordered, the pickup
// store with its address and the promised ready day (in the store's time zone),
// and what happens next.
func TestConfirmationNamesItemsStoreAndPromisedDay(t *testing.T) {
	h := newHarness(t, domain.MethodShipToStore)
	h.checkout()
	h.pickAll(time.Hour)
	h.collect(3 * time.Hour)
	h.run()

	contains(t, "confirmation", h.emailText(domain.TouchOrderConfirmed), []string{
		"327,00 €", "1 × Automatic watch", "2 × Leather strap",
		"Abholfiliale: Berlin Mitte, Rosenthaler Str. 40, 10178 Berlin",
		"Voraussichtlich abholbereit ab: Montag, 23. November", "Abholcode",
	}, []string{"sobald es weitergeht"})
}

// A home delivery's confirmation names the delivery address instead of a store.
func TestConfirmationOfHomeDeliveryNamesTheAddress(t *testing.T) {
	h := newHarness(t, domain.MethodHomeDelivery)
	h.checkout()
	h.pickAll(time.Hour)
	h.env.RegisterDelayedCallback(func() {
		code := h.trackingCode()
		h.env.SignalWorkflow(workflows.SignalCarrierEvent, workflows.CarrierEvent{
			EventID: code + ":delivered", TrackingCode: code, Status: "delivered", At: h.env.Now(),
		})
	}, 30*time.Hour)
	h.run()

	contains(t, "confirmation", h.emailText(domain.TouchOrderConfirmed), []string{
		"1 × Automatic watch", "Lieferadresse:\nMia Schmidt\nTorstraße 1\n10119 Berlin", "Sendungsverfolgung",
	}, []string{"Abholfiliale", "abholbereit"})
}

// A short pick of a ship-to-store order names the missing item and says the rest
// is being made ready in the store, not that it is on its way.
func TestPartialRefundOfShipToStoreSaysTheRestWillBeReadyInTheStore(t *testing.T) {
	h := newHarness(t, domain.MethodShipToStore)
	h.checkout()
	h.update(time.Hour, workflows.UpdateCompletePick, workflows.CompletePickRequest{By: "staff-1", Lines: []domain.PickedLine{
		{SKU: "WATCH-001", Quantity: 1}, {SKU: "STRAP-LEA-20", Quantity: 1},
	}}, nil)
	h.collect(3 * time.Hour)
	h.run()

	contains(t, "partial refund", h.emailText(domain.TouchPartialRefund), []string{
		"1 × Leather strap", "39,00 €", "für die Abholung in Berlin Mitte vor",
	}, []string{"unterwegs"})
}

// A pickup date that moved is good news when the order is ready early, and an
// apology with the new day when it is late.
func TestPickupDateChangedSaysEarlyOrLate(t *testing.T) {
	for _, tc := range []struct {
		name      string
		arrival   time.Duration // after checkout; promised Wednesday noon
		want, not []string
	}{
		{"early", 2 * time.Hour, []string{"gute Nachricht", "schon heute, Montag, 23. November", "geplant war Mittwoch, 25. November"},
			[]string{"Entschuldigen", "tut uns leid"}},
		{"late", 3*24*time.Hour + 6*time.Hour, []string{"tut uns leid", "geplant war Mittwoch, 25. November", "Seit heute, Donnerstag, 26. November", "entschuldigen Sie"},
			[]string{"ute Nachricht"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, domain.MethodShipToStore)
			h.setStock("berlin-mitte", "WATCH-001", 0)
			h.checkout()
			h.pickAll(time.Hour)
			h.update(tc.arrival, workflows.UpdateConfirmArrival, workflows.ConfirmArrivalRequest{StoreID: "berlin-mitte", By: "staff-1"}, nil)
			h.collect(tc.arrival + 24*time.Hour)
			h.run()

			contains(t, "pickup date changed", h.emailText(domain.TouchPickupChanged), tc.want, tc.not)
		})
	}
}
