package api_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/adapters/sandbox"
)

// With every sandbox provider failing often (payments, labels, email, SMS, push),
// an order still ends with one capture, one label and one message per touchpoint
// and channel, for both fulfilment methods.
func TestChaosOneCaptureAndOneMessagePerTouchpointAndChannel(t *testing.T) {
	t.Parallel()
	s := newSystem(t, fastPolicy(), func(st *systemSettings) {
		// Seeded, so that every run meets faults (the first two calls of each fake fail).
		st.faultRate, st.faultSeed = 0.3, 2
	})
	paths := map[string][]string{
		"ship_to_store": {"order-confirmed", "ready-for-pickup", "picked-up"},
		"home_delivery": {"order-confirmed", "shipped", "delivered"},
	}
	ids := map[string]string{}
	for method := range paths {
		id := "E2E-CHAOS-" + method[:4] + "-" + s.suffix
		ids[method] = id
		body := s.orderBody(id, method)
		body["customer"].(map[string]string)["phone"] = "+4915112345678"
		if st, b := s.do(http.MethodPost, "/v1/orders", s.tokens["checkout"], body); st != http.StatusCreated || b["outcome"] != "captured" {
			t.Fatalf("place %s order: %d %v", method, st, b)
		}
	}
	s.pickAll(ids["ship_to_store"], "berlin-mitte", "berlin")
	s.pickAll(ids["home_delivery"], "dc-erfurt", "dc")
	s.handOver(ids["ship_to_store"])
	for method, id := range ids {
		if res := s.result(id); res.Stage != "completed" || res.Captured != 32700 {
			t.Fatalf("%s result = %+v", method, res)
		}
		if got := s.providers.Payments.(*sandbox.Payments).Captured("pi_" + id); got != 32700 {
			t.Errorf("%s: captured %d at the provider, want 32700 once", method, got)
		}
		byKey := s.outboxByKey(id)
		for _, tp := range paths[method] {
			for _, ch := range []string{"email", "sms"} {
				if key := id + ":notify:" + tp + ":" + ch; len(byKey[key]) != 1 {
					t.Errorf("%s: %d messages, want 1", key, len(byKey[key]))
				}
			}
		}
		if key := id + ":notify:review-request:email"; len(byKey[key]) != 1 {
			t.Errorf("%s: %d messages, want 1", key, len(byKey[key]))
		}
		for key, msgs := range byKey {
			if len(msgs) != 1 {
				t.Errorf("%s sent %d times", key, len(msgs))
			}
		}
	}
	if n := s.providers.Carrier.(*sandbox.Carrier).LabelsBought(); n != 1 {
		t.Errorf("%d labels bought, want 1 (the home delivery's)", n)
	}
	faults := 0
	for _, f := range []*sandbox.Faults{&s.providers.Email.(*sandbox.Email).Faults, &s.providers.SMS.(*sandbox.SMS).Faults,
		&s.providers.Push.(*sandbox.Push).Faults, &s.providers.Carrier.(*sandbox.Carrier).Faults} {
		faults += f.Injected()
	}
	if faults == 0 {
		t.Error("no fault was injected: the test proved nothing")
	}
	t.Logf("%d faults injected into labels and messages", faults)
}

// The app's push token from the checkout makes push the instant channel; support
// resends the pickup code by SMS as a message of its own; consent withdrawn
// through the preferences API before the review date means no review request.
func TestPushResendAndConsentWithdrawnThroughTheAPI(t *testing.T) {
	t.Parallel()
	s := newSystem(t, fastPolicy())
	id := "E2E-N-" + s.suffix
	body := s.orderBody(id, "ship_to_store")
	body["customer"].(map[string]string)["phone"] = "+4915112345678"
	body["push_token"] = "app-token-of-mias-phone"
	if st, b := s.do(http.MethodPost, "/v1/orders", s.tokens["checkout"], body); st != http.StatusCreated {
		t.Fatalf("place order: %d %v", st, b)
	}
	s.pickAll(id, "berlin-mitte", "berlin")
	s.waitStage(id, "ready_for_pickup")
	code := s.pickupCode(id)
	byKey := s.waitOutbox(id, id+":notify:ready-for-pickup:push")
	push := byKey[id+":notify:ready-for-pickup:push"]
	if len(push) != 1 || !strings.Contains(push[0].Body, code) || strings.Contains(push[0].Recipient, "app-token-of") {
		t.Errorf("ready-for-pickup push = %+v; want one with the code, the token masked", push)
	}
	if n := len(byKey[id+":notify:ready-for-pickup:sms"]); n != 0 {
		t.Errorf("%d SMS besides the push; the app is the instant channel", n)
	}

	resend := map[string]string{"touchpoint": "ready-for-pickup", "channel": "sms"}
	path := "/v1/orders/" + id + "/resend-notification"
	if st, _ := s.do(http.MethodPost, path, s.tokens["berlin"], resend); st != http.StatusForbidden {
		t.Errorf("staff resend: %d, want 403", st)
	}
	if st, b := s.do(http.MethodPost, path, s.tokens["support"], map[string]string{"touchpoint": "review-request", "channel": "fax"}); st != http.StatusBadRequest || len(b["errors"].([]any)) != 2 {
		t.Errorf("bad resend: %d %v, want 400 naming both fields", st, b)
	}
	if st, b := s.do(http.MethodPost, path, s.tokens["support"], map[string]string{"touchpoint": "shipped"}); st != http.StatusConflict {
		t.Errorf("resend of a message never sent: %d %v, want 409", st, b)
	}
	// The message counts as sent once its step's activity has completed.
	var out map[string]any
	for deadline := time.Now().Add(s.patience); ; time.Sleep(50 * time.Millisecond) {
		st, b := s.do(http.MethodPost, path, s.tokens["support"], resend)
		if st == http.StatusOK || time.Now().After(deadline) {
			if st != http.StatusOK {
				t.Fatalf("resend: %d %v", st, b)
			}
			out = b
			break
		}
	}
	if out["resend"] != float64(1) {
		t.Errorf("resend answer = %v", out)
	}
	sms := s.waitOutbox(id, id+":notify:ready-for-pickup-resend-1:sms")[id+":notify:ready-for-pickup-resend-1:sms"]
	if len(sms) != 1 || !strings.Contains(sms[0].Body, code) || sms[0].Recipient != "+4915112345678" {
		t.Errorf("resent SMS = %+v", sms)
	}

	prefs := map[string]any{"email": "mia@example.com", "phone": "+4915112345678", "locale": "de-DE",
		"time_zone": "Europe/Berlin", "marketing_consent": false, "channels": []string{"email", "sms"}}
	prefsPath := "/v1/customers/C-" + id + "/preferences"
	if st, _ := s.do(http.MethodPut, prefsPath, s.tokens["berlin"], prefs); st != http.StatusForbidden {
		t.Errorf("staff changing preferences: %d, want 403", st)
	}
	bad := map[string]any{"email": "nope", "phone": "0151", "locale": "German", "time_zone": "Mars/Base", "channels": []string{"sms", "pager"}}
	if st, b := s.do(http.MethodPut, prefsPath, s.tokens["support"], bad); st != http.StatusBadRequest || len(b["errors"].([]any)) != 6 {
		t.Errorf("bad preferences: %d %v, want 400 naming 6 fields", st, b)
	}
	if st, b := s.do(http.MethodPut, prefsPath, s.tokens["support"], prefs); st != http.StatusOK || b["marketing_consent"] != false || b["app_installed"] != false {
		t.Fatalf("withdraw consent: %d %v", st, b)
	}

	s.handOver(id)
	if res := s.result(id); res.Stage != "completed" {
		t.Fatalf("result = %+v", res)
	}
	if n := len(s.outboxByKey(id)[id+":notify:review-request:email"]); n != 0 {
		t.Errorf("%d review requests despite withdrawn consent", n)
	}
	entries, err := s.store.Journey(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var why, who, placedBy bool
	for _, e := range entries {
		placedBy = placedBy || (e.Key == "stage:accepted" && e.Actor == "e2e-checkout")
		why = why || strings.Contains(e.Detail, "review-request via email skipped: no marketing consent")
		who = who || (strings.Contains(e.Detail, "resend 1 of ready-for-pickup via sms") && e.Actor != "")
	}
	if !why || !who || !placedBy {
		t.Errorf("journey lacks the skipped review (%v), who resent (%v) or who placed the order (%v): %+v", why, who, placedBy, entries)
	}
	// The picked-up thank-you went by SMS now: push is no longer among the channels.
	if n := len(s.waitOutbox(id, id+":notify:picked-up:sms")[id+":notify:picked-up:sms"]); n != 1 {
		t.Errorf("picked-up SMS: %d, want 1", n)
	}
}

// The customer reads their order in German: money and dates in German, the
// confirmation suggests straps for the watch (they allowed marketing), and its
// unsubscribe link withdraws the consent, after which the review request is not
// sent and the journey says why. A forged link changes nothing.
func TestGermanMessagesCrossSellAndUnsubscribeLink(t *testing.T) {
	t.Parallel()
	s := newSystem(t, fastPolicy())
	id := "E2E-DE-" + s.suffix
	s.place(id, "ship_to_store")
	s.pickAll(id, "berlin-mitte", "berlin")
	s.waitStage(id, "ready_for_pickup")

	confirmation := s.outboxByKey(id)[id+":notify:order-confirmed:email"]
	if len(confirmation) != 1 {
		t.Fatalf("confirmations: %+v", confirmation)
	}
	body := confirmation[0].Body
	for _, want := range []string{"Hallo Mia Schmidt", "327,00 €", "Das könnte Ihnen auch gefallen", "Steel bracelet 20 mm"} {
		if !strings.Contains(body, want) {
			t.Errorf("confirmation lacks %q:\n%s", want, body)
		}
	}
	ready := s.outboxByKey(id)[id+":notify:ready-for-pickup:email"][0].Body
	if !strings.Contains(ready, "Öffnungszeiten:") || !strings.Contains(ready, " Uhr") {
		t.Errorf("ready-for-pickup lacks German opening hours and deadline:\n%s", ready)
	}
	req, err := http.NewRequest(http.MethodGet, s.url+"/dev/outbox", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	page, err := s.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(html), "Ihr Abholcode:") {
		t.Errorf("the outbox page for a browser lacks the German pickup notice (%s)", page.Header.Get("Content-Type"))
	}
	i := strings.Index(body, "http://starter.test/unsubscribe?t=")
	if i < 0 {
		t.Fatalf("no unsubscribe link in:\n%s", body)
	}
	link := strings.Fields(body[i:])[0]
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	token := u.Query().Get("t")
	if strings.Contains(link, "C-"+id) {
		t.Errorf("the link carries the raw customer ID: %s", link)
	}

	form := func(tok string) int {
		resp, err := s.http.PostForm(s.url+"/unsubscribe", url.Values{"t": {tok}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	consent := func() bool {
		ok, err := s.store.MarketingConsent(context.Background(), "C-"+id)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if st := form(token[:len(token)-2] + "xx"); st != http.StatusBadRequest || !consent() {
		t.Fatalf("forged token: %d, consent %v; want 400 and consent kept", st, consent())
	}
	resp, err := s.http.Get(s.url + "/unsubscribe?t=" + url.QueryEscape(token))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !consent() {
		t.Fatalf("GET of the link: %d, consent %v; want the question, consent kept", resp.StatusCode, consent())
	}
	if st := form(token); st != http.StatusOK || consent() {
		t.Fatalf("POST of the link: %d, consent %v; want 200 and consent withdrawn", st, consent())
	}

	s.handOver(id)
	if res := s.result(id); res.Stage != "completed" {
		t.Fatalf("result = %+v", res)
	}
	if n := len(s.outboxByKey(id)[id+":notify:review-request:email"]); n != 0 {
		t.Errorf("%d review requests after unsubscribing", n)
	}
	if got := s.journeyStages(id); got[len(got)-1] != "completed" || strings.Contains(strings.Join(got, ","), "review_requested") {
		t.Errorf("journey stages = %v", got)
	}
}
