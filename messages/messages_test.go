package messages_test

import (
	"strings"
	"testing"

	"github.com/everywherecommerce/fulfilment/messages"
)

// A request the workflow sent before a touchpoint's newer facts existed (an
// activity scheduled before a deploy and retried after it) still renders, in
// the neutral wording: a message is never refused for a fact it could do without.
func TestMessagesWithoutNewerFactsStillRender(t *testing.T) {
	c, err := messages.Load()
	if err != nil {
		t.Fatal(err)
	}
	base := map[string]any{"order_id": "A-1", "name": "Mia Schmidt", "cross_sell": []string(nil), "unsubscribe_url": "",
		"opening_hours": []string(nil), "store_name": "Berlin Mitte", "store_address": "Rosenthaler Str. 40, 10178 Berlin"}
	for _, tc := range []struct {
		touchpoint string
		facts      map[string]any
		want       string // in the German text
	}{
		{"order-confirmed", map[string]any{"amount": "327,00 €"}, "Wir melden uns, sobald es weitergeht."},
		{"partial-refund", map[string]any{"amount": "39,00 €"}, "Um den Rest Ihrer Bestellung kümmern wir uns wie geplant."},
		{"pickup-date-changed", map[string]any{"promised": "Dienstag, 24. November"}, "an einem anderen Tag"},
	} {
		data := map[string]any{}
		for k, v := range base {
			data[k] = v
		}
		for k, v := range tc.facts {
			data[k] = v
		}
		for _, locale := range []string{"de", "en"} {
			m, err := c.Render(locale, tc.touchpoint, data)
			if err != nil {
				t.Errorf("%s %s: %v", locale, tc.touchpoint, err)
				continue
			}
			if locale == "de" && !strings.Contains(m.Text, tc.want) {
				t.Errorf("%s %s lacks %q:\n%s", locale, tc.touchpoint, tc.want, m.Text)
			}
		}
	}
}

// A reason that stands as a sentence after a colon starts with a capital in
// German; in the SMS, in parentheses, it does not.
func TestGermanReasonAfterColonIsASentence(t *testing.T) {
	c, err := messages.Load()
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.Render("de", "payment-failed", map[string]any{"order_id": "A-1", "name": "Mia",
		"reason": messages.Reason("de", "the card was declined")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Text, "nicht einziehen: Die Karte wurde abgelehnt.") || !strings.Contains(m.SMS, "(die Karte wurde abgelehnt)") {
		t.Errorf("text %q, SMS %q", m.Text, m.SMS)
	}
}
