package contract_test

// The SMS channel: the sender contract (sender_test.go) for the sandbox.SMS fake
// and the Twilio adapter, pointed at an httptest fake of the Messages API that
// checks each request and answers with Twilio's recorded response shapes, and
// what only Twilio does (its error codes, Messaging Services, an SDK that ignores
// contexts).

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/adapters/sandbox"
	"github.com/everywherecommerce/fulfilment/adapters/twilio"
)

// smsContract is the sender contract of activities.SMSSender.
func smsContract() senderContract[activities.SMS] {
	return senderContract[activities.SMS]{
		sample:      activities.SMS{NotificationKey: "A-1:notify:ready-for-pickup:sms", Body: "Order A-1 is ready for pickup at Berlin Mitte."},
		to:          func(m activities.SMS, to string) activities.SMS { m.To = to; return m },
		recipient:   "+4915112345678",
		refused:     "+491511234" + sandbox.PhoneSuffixUndeliverable,
		refusedErr:  activities.ErrUndeliverable,
		rateLimited: "+49151" + sandbox.RecipientRateLimited,
		idShape:     "a message SID (SM...) to match status callbacks",
		validID:     func(sid string) bool { return strings.HasPrefix(sid, "SM") },
		// Twilio does not see the notification key.
		seen: func(m activities.SMS) activities.SMS { return activities.SMS{To: m.To, Body: m.Body} },
		impls: []senderImpl[activities.SMS]{
			{"sandbox", func(*testing.T) senderHarness[activities.SMS] {
				s := &sandbox.SMS{}
				return sandboxHarness(s.SendSMS, s.Sent, func(m sandbox.SentSMS) activities.SMS { return m.SMS }, &s.Faults)
			}},
			{"twilio", func(t *testing.T) senderHarness[activities.SMS] {
				fake := newTwilioFake(t)
				return fake.harness(newTwilio(t, fake.srv.URL).SendSMS)
			}},
		},
	}
}

// TestTwilioCancelWhileWaiting: the SDK ignores contexts, so the adapter binds the
// request to the activity's context; cancelling it ends a call that Twilio does
// not answer, promptly and with the context's error.
func TestTwilioCancelWhileWaiting(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first: lets a stuck handler go so Close can return

	s := newTwilio(t, srv.URL) // its client's Timeout is 10s: only the context can end the call in time
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := s.SendSMS(ctx, activities.SMS{NotificationKey: "A-4:notify:shipped:sms", To: "+4915112345678", Body: "b"})
		done <- err
	}()
	select {
	case <-arrived:
	case <-time.After(5 * time.Second):
		t.Fatal("the request never reached the fake")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("SendSMS error = %v, want context.Canceled", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("SendSMS did not return within 2s of the cancellation")
	}
}

// TestTwilioErrorMapping: how each Twilio answer reaches the activity.
func TestTwilioErrorMapping(t *testing.T) {
	const to = "+15005550001"
	checkErrorMappings(t, "application/json", to, []errorMapping{
		{"21211 invalid number", 400, nil, twilioInvalidNumber, activities.ErrUndeliverable, -1, 0},
		{"21610 unsubscribed", 400, nil, twilioError(400, 21610, "Attempt to send to unsubscribed recipient"), activities.ErrUndeliverable, -1, 0},
		{"21614 not a mobile number", 400, nil, twilioError(400, 21614, "'To' number "+to+" is not a valid mobile number"), activities.ErrUndeliverable, -1, 0},
		{"21602 missing body", 400, nil, twilioError(400, 21602, "Message body is required."), activities.ErrInvalidRequest, -1, 0},
		{"21606 sender not ours", 400, nil, twilioError(400, 21606, "The From phone number +15017122661 is not a valid, SMS-capable inbound phone number or short code for your account."), activities.ErrInvalidRequest, -1, 0},
		{"404 unknown account", 404, nil, twilioError(404, 20404, "The requested resource /2010-04-01/Accounts/ACx/Messages.json was not found"), activities.ErrInvalidRequest, -1, 0},
		{"401 bad credentials are retried", 401, nil, twilioError(401, 20003, "Authenticate"), nil, -1, 0},
		{"429 20429 with Retry-After", 429, map[string]string{"Retry-After": "3"}, twilioTooManyRequests, nil, 3 * time.Second, 3 * time.Second},
		{"429 20429 without a hint", 429, nil, twilioTooManyRequests, nil, 0, 0},
		{"500 HTML body", 500, map[string]string{"Content-Type": "text/html"}, twilioInternalErrorHTML, nil, -1, 0},
		{"503 JSON", 503, nil, twilioServiceUnavailable, nil, -1, 0},
		{"network error", 0, nil, "", nil, -1, 0},
	}, func(t *testing.T, baseURL string) error {
		_, err := newTwilio(t, baseURL).SendSMS(t.Context(), activities.SMS{NotificationKey: "A-1:notify:shipped:sms", To: to, Body: "b"})
		return err
	})
}

// twilioError is Twilio's error body.
func twilioError(status, code int, msg string) string {
	return fmt.Sprintf(`{"code": %d, "message": %q, "more_info": "https://www.twilio.com/docs/errors/%d", "status": %d}`, code, msg, code, status)
}

// Recorded Twilio answers and the test account.
const (
	twilioAccountSID         = "AC0123456789abcdef0123456789abcdef"
	twilioAuthToken          = "0123456789abcdef0123456789abcdef"
	twilioFrom               = "+15017122661"
	twilioStatusCallback     = "https://fulfilment.example/webhooks/twilio/status"
	twilioInvalidNumber      = `{"code": 21211, "message": "The 'To' number +15005550001 is not a valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}`
	twilioServiceUnavailable = `{"code": 20503, "message": "Service Unavailable", "more_info": "https://www.twilio.com/docs/errors/20503", "status": 503}`
	twilioTooManyRequests    = `{"code": 20429, "message": "Too Many Requests", "more_info": "https://www.twilio.com/docs/errors/20429", "status": 429}`
	twilioInternalErrorHTML  = "<html>\n<head><title>500 Internal Server Error</title></head>\n<body>\n<center><h1>500 Internal Server Error</h1></center>\n</body>\n</html>\n"
	twilioMessageCreated     = `{"account_sid": %q, "api_version": "2010-04-01", "body": %q, "date_created": "Thu, 24 Aug 2023 05:01:45 +0000", "date_sent": null, "date_updated": "Thu, 24 Aug 2023 05:01:45 +0000", "direction": "outbound-api", "error_code": null, "error_message": null, "from": %q, "messaging_service_sid": null, "num_media": "0", "num_segments": "1", "price": null, "price_unit": "USD", "sid": %q, "status": "queued", "subresource_uris": {"media": "/2010-04-01/Accounts/%s/Messages/%s/Media.json"}, "to": %q, "uri": "/2010-04-01/Accounts/%s/Messages/%s.json"}`
)

// twilioFake is Twilio's Messages API as the adapter sees it. It checks every
// request and answers as Twilio does: 201 with the message, 400 code 21211 for a
// number ending in 0000, 429 code 20429 for the first attempt of each message to
// a "ratelimit" number (Twilio does not see our notification key), 503 once its
// outage began.
type twilioFake struct {
	providerFake[activities.SMS]
}

func newTwilioFake(t *testing.T) *twilioFake {
	f := &twilioFake{}
	f.start(t, func(w http.ResponseWriter, r *http.Request) { f.serve(t, w, r) })
	return f
}

func (f *twilioFake) serve(t *testing.T, w http.ResponseWriter, r *http.Request) {
	if want := "/2010-04-01/Accounts/" + twilioAccountSID + "/Messages.json"; r.Method != http.MethodPost || r.URL.Path != want {
		t.Errorf("Twilio fake: %s %s, want POST %s", r.Method, r.URL.Path, want)
	}
	if user, pass, ok := r.BasicAuth(); !ok || user != twilioAccountSID || pass != twilioAuthToken {
		t.Error("Twilio fake: want HTTP Basic auth with the account SID and auth token")
	}
	if got := r.Header.Get("Content-Type"); got != "application/x-www-form-urlencoded" {
		t.Errorf("Twilio fake: Content-Type %q, want a form", got)
	}
	if err := r.ParseForm(); err != nil {
		t.Errorf("Twilio fake: form: %v", err)
	}
	to, body := r.PostForm.Get("To"), r.PostForm.Get("Body")
	if to == "" || body == "" {
		t.Errorf("Twilio fake: To %q, Body %q; want both", to, body)
	}
	if got := r.PostForm.Get("From"); got != twilioFrom || r.PostForm.Has("MessagingServiceSid") {
		t.Errorf("Twilio fake: From %q, MessagingServiceSid %q; want From %s only", got, r.PostForm.Get("MessagingServiceSid"), twilioFrom)
	}
	if got := r.PostForm.Get("StatusCallback"); got != twilioStatusCallback {
		t.Errorf("Twilio fake: StatusCallback %q, want %s", got, twilioStatusCallback)
	}
	const contentType = "application/json"
	switch v, n := f.judge(to+"\x00"+body, to, strings.HasSuffix(to, sandbox.PhoneSuffixUndeliverable), activities.SMS{To: to, Body: body}); v {
	case fakeOutage:
		writeAnswer(w, contentType, http.StatusServiceUnavailable, nil, twilioServiceUnavailable)
	case fakeRefused:
		writeAnswer(w, contentType, http.StatusBadRequest, nil, twilioInvalidNumber)
	case fakeRateLimited:
		writeAnswer(w, contentType, http.StatusTooManyRequests, nil, twilioTooManyRequests)
	default:
		sid := fmt.Sprintf("SM%032x", n)
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(http.StatusCreated)
		_, _ = fmt.Fprintf(w, twilioMessageCreated, twilioAccountSID, body, twilioFrom, sid, twilioAccountSID, sid, to, twilioAccountSID, sid) // a short body fails the adapter's call, which the test sees
	}
}

func newTwilio(t *testing.T, baseURL string) *twilio.SMS {
	t.Helper()
	s, err := twilio.New(twilio.Config{
		AccountSID: twilioAccountSID, AuthToken: twilioAuthToken, From: twilioFrom,
		StatusCallback: twilioStatusCallback, BaseURL: baseURL,
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
	})
	if err != nil {
		t.Fatalf("twilio.New: %v", err)
	}
	return s
}

// TestTwilioMessagingService: with a Messaging Service the adapter sends its SID
// and no From, so Twilio picks the sender from the service's pool.
func TestTwilioMessagingService(t *testing.T) {
	t.Parallel()
	const service = "MG0123456789abcdef0123456789abcdef"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("MessagingServiceSid") != service || r.PostForm.Has("From") {
			t.Errorf("Twilio fake: form %v (%v), want MessagingServiceSid %s and no From", r.PostForm, err, service)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = fmt.Fprintf(w, twilioMessageCreated, twilioAccountSID, "b", "", "SM1", twilioAccountSID, "SM1", "+4915112345678", twilioAccountSID, "SM1") // a short body fails the call, which the test sees
	}))
	t.Cleanup(srv.Close)
	s, err := twilio.New(twilio.Config{AccountSID: twilioAccountSID, AuthToken: twilioAuthToken, MessagingServiceSID: service,
		BaseURL: srv.URL, HTTPClient: &http.Client{Timeout: 10 * time.Second}})
	if err != nil {
		t.Fatalf("twilio.New: %v", err)
	}
	if sid, err := s.SendSMS(t.Context(), activities.SMS{NotificationKey: "k", To: "+4915112345678", Body: "b"}); err != nil || sid != "SM1" {
		t.Errorf("SendSMS = %q, %v; want SM1", sid, err)
	}
}
