package contract_test

// Contract tests of activities.SMSSender: the Twilio adapter, pointed at an
// httptest fake of the Messages API that checks each request and answers with
// Twilio's recorded response shapes, and the sandbox.SMS fake must behave the same.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/adapters/sandbox"
	"github.com/everywherecommerce/fulfilment/adapters/twilio"
)

// smsHarness is one SMSSender under test and what its provider accepted.
type smsHarness struct {
	sender   activities.SMSSender
	accepted func() []activities.SMS
}

// forEachSMSSender runs the contract f against every implementation, in parallel.
func forEachSMSSender(t *testing.T, f func(t *testing.T, h smsHarness)) {
	t.Helper()
	impls := []struct {
		name string
		new  func(t *testing.T) smsHarness
	}{
		{"sandbox", func(*testing.T) smsHarness {
			s := &sandbox.SMS{}
			return smsHarness{sender: s, accepted: func() []activities.SMS {
				var out []activities.SMS
				for _, m := range s.Sent() {
					out = append(out, m.SMS)
				}
				return out
			}}
		}},
		{"twilio", func(t *testing.T) smsHarness {
			fake := newTwilioFake(t)
			return smsHarness{sender: newTwilio(t, fake.srv.URL), accepted: fake.accepted}
		}},
	}
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			t.Parallel()
			f(t, impl.new(t))
		})
	}
}

func TestSMSContractSend(t *testing.T) {
	forEachSMSSender(t, func(t *testing.T, h smsHarness) {
		m := activities.SMS{NotificationKey: "A-1:notify:ready-for-pickup:sms", To: "+4915112345678", Body: "Order A-1 is ready for pickup at Berlin Mitte."}
		sid, err := h.sender.SendSMS(t.Context(), m)
		if err != nil {
			t.Fatalf("SendSMS: %v", err)
		}
		if !strings.HasPrefix(sid, "SM") {
			t.Errorf("SendSMS returned SID %q, want a message SID (SM...) to match status callbacks", sid)
		}
		// The provider does not see the notification key; compare the rest.
		got := h.accepted()
		if len(got) != 1 || got[0].To != m.To || got[0].Body != m.Body {
			t.Errorf("provider accepted %+v, want exactly %+v", got, m)
		}
	})
}

func TestSMSContractFailures(t *testing.T) {
	cases := []struct {
		name string
		to   string
		want error
	}{
		{"invalid number is undeliverable for good", "+4915112340000", activities.ErrUndeliverable},
		{"missing number is an invalid request", "", activities.ErrInvalidRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forEachSMSSender(t, func(t *testing.T, h smsHarness) {
				_, err := h.sender.SendSMS(t.Context(), activities.SMS{NotificationKey: "A-1:notify:shipped:sms", To: tc.to, Body: "b"})
				if !errors.Is(err, tc.want) {
					t.Fatalf("SendSMS error = %v, want %v", err, tc.want)
				}
				msgNoRecipient(t, err, tc.to)
				if got := h.accepted(); len(got) != 0 {
					t.Errorf("provider accepted %d messages, want none", len(got))
				}
			})
		})
	}
}

func TestSMSContractRateLimitedOnce(t *testing.T) {
	forEachSMSSender(t, func(t *testing.T, h smsHarness) {
		m := activities.SMS{NotificationKey: "A-2:notify:shipped:sms", To: "+49151ratelimit", Body: "b"}
		_, err := h.sender.SendSMS(t.Context(), m)
		msgWantRetryAfter(t, err)
		if _, err := h.sender.SendSMS(t.Context(), m); err != nil {
			t.Fatalf("second attempt: %v, want it sent", err)
		}
		if got := h.accepted(); len(got) != 1 {
			t.Errorf("provider accepted %d messages, want 1", len(got))
		}
	})
}

func TestSMSContractCancelledContext(t *testing.T) {
	forEachSMSSender(t, func(t *testing.T, h smsHarness) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := h.sender.SendSMS(ctx, activities.SMS{NotificationKey: "A-3:notify:shipped:sms", To: "+4915112345678", Body: "b"})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("SendSMS error = %v, want context.Canceled", err)
		}
		if got := h.accepted(); len(got) != 0 {
			t.Errorf("provider accepted %d messages, want none", len(got))
		}
	})
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
	jsonErr := func(status, code int, msg string) string {
		return fmt.Sprintf(`{"code": %d, "message": %q, "more_info": "https://www.twilio.com/docs/errors/%d", "status": %d}`, code, msg, code, status)
	}
	cases := []struct {
		name    string
		status  int
		header  map[string]string
		body    string
		want    error
		after   time.Duration
		maxWait time.Duration
	}{
		{"21211 invalid number", 400, nil, twilioInvalidNumber, activities.ErrUndeliverable, -1, 0},
		{"21610 unsubscribed", 400, nil, jsonErr(400, 21610, "Attempt to send to unsubscribed recipient"), activities.ErrUndeliverable, -1, 0},
		{"21614 not a mobile number", 400, nil, jsonErr(400, 21614, "'To' number "+to+" is not a valid mobile number"), activities.ErrUndeliverable, -1, 0},
		{"21602 missing body", 400, nil, jsonErr(400, 21602, "Message body is required."), activities.ErrInvalidRequest, -1, 0},
		{"21606 sender not ours", 400, nil, jsonErr(400, 21606, "The From phone number +15017122661 is not a valid, SMS-capable inbound phone number or short code for your account."), activities.ErrInvalidRequest, -1, 0},
		{"404 unknown account", 404, nil, jsonErr(404, 20404, "The requested resource /2010-04-01/Accounts/ACx/Messages.json was not found"), activities.ErrInvalidRequest, -1, 0},
		{"401 bad credentials are retried", 401, nil, jsonErr(401, 20003, "Authenticate"), nil, -1, 0},
		{"429 20429 with Retry-After", 429, map[string]string{"Retry-After": "3"}, twilioTooManyRequests, nil, 3 * time.Second, 3 * time.Second},
		{"429 20429 without a hint", 429, nil, twilioTooManyRequests, nil, 0, 0},
		{"500 HTML body", 500, map[string]string{"Content-Type": "text/html"}, twilioInternalErrorHTML, nil, -1, 0},
		{"503 JSON", 503, nil, jsonErr(503, 20503, "Service Unavailable"), nil, -1, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if w.Header().Get("Content-Type") == "" {
					w.Header().Set("Content-Type", "application/json")
				}
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body)) // a short body fails the adapter's call, which the test sees
			}))
			t.Cleanup(srv.Close)
			_, err := newTwilio(t, srv.URL).SendSMS(t.Context(), activities.SMS{NotificationKey: "A-1:notify:shipped:sms", To: to, Body: "b"})
			msgCheckMapping(t, err, tc.want, tc.after, tc.maxWait)
			msgNoRecipient(t, err, to)
		})
	}
	t.Run("network error", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		_, err := newTwilio(t, srv.URL).SendSMS(t.Context(), activities.SMS{NotificationKey: "k", To: to, Body: "b"})
		msgCheckMapping(t, err, nil, -1, 0)
	})
}

// Recorded Twilio answers and the test account.
const (
	twilioAccountSID        = "AC0123456789abcdef0123456789abcdef"
	twilioAuthToken         = "0123456789abcdef0123456789abcdef"
	twilioFrom              = "+15017122661"
	twilioStatusCallback    = "https://fulfilment.example/webhooks/twilio/status"
	twilioInvalidNumber     = `{"code": 21211, "message": "The 'To' number +15005550001 is not a valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}`
	twilioTooManyRequests   = `{"code": 20429, "message": "Too Many Requests", "more_info": "https://www.twilio.com/docs/errors/20429", "status": 429}`
	twilioInternalErrorHTML = "<html>\n<head><title>500 Internal Server Error</title></head>\n<body>\n<center><h1>500 Internal Server Error</h1></center>\n</body>\n</html>\n"
	twilioMessageCreated    = `{"account_sid": %q, "api_version": "2010-04-01", "body": %q, "date_created": "Thu, 24 Aug 2023 05:01:45 +0000", "date_sent": null, "date_updated": "Thu, 24 Aug 2023 05:01:45 +0000", "direction": "outbound-api", "error_code": null, "error_message": null, "from": %q, "messaging_service_sid": null, "num_media": "0", "num_segments": "1", "price": null, "price_unit": "USD", "sid": %q, "status": "queued", "subresource_uris": {"media": "/2010-04-01/Accounts/%s/Messages/%s/Media.json"}, "to": %q, "uri": "/2010-04-01/Accounts/%s/Messages/%s.json"}`
)

// twilioFake is Twilio's Messages API as the adapter sees it. It checks every
// request and answers as Twilio does: 201 with the message, 400 code 21211 for a
// number ending in 0000, 429 code 20429 for the first attempt of each message to
// a "ratelimit" number (Twilio does not see our notification key).
type twilioFake struct {
	srv *httptest.Server

	mu       sync.Mutex
	ok       []activities.SMS
	attempts map[string]int
}

func newTwilioFake(t *testing.T) *twilioFake {
	f := &twilioFake{attempts: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f.serve(t, w, r) }))
	t.Cleanup(f.srv.Close)
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
	w.Header().Set("Content-Type", "application/json")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts[to+"\x00"+body]++
	switch {
	case strings.HasSuffix(to, sandbox.PhoneSuffixUndeliverable):
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(twilioInvalidNumber)) // a short body fails the adapter's call, which the test sees
		return
	case strings.Contains(to, sandbox.RecipientRateLimited) && f.attempts[to+"\x00"+body] == 1:
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(twilioTooManyRequests)) // as above
		return
	}
	f.ok = append(f.ok, activities.SMS{To: to, Body: body})
	sid := fmt.Sprintf("SM%032x", len(f.ok))
	w.WriteHeader(http.StatusCreated)
	_, _ = fmt.Fprintf(w, twilioMessageCreated, twilioAccountSID, body, twilioFrom, sid, twilioAccountSID, sid, to, twilioAccountSID, sid) // as above
}

func (f *twilioFake) accepted() []activities.SMS {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]activities.SMS(nil), f.ok...)
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
