package contract_test

// Contract tests of activities.EmailSender: the SendGrid adapter, pointed at an
// httptest fake of the Mail Send API that checks each request and answers with
// SendGrid's recorded response shapes, and the sandbox.Email fake must behave the
// same, so workflow tests on the fake prove something about production. The
// helpers shared by the message contracts (email, SMS, push) live here too.

import (
	"context"
	"encoding/json"
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
	"github.com/everywherecommerce/fulfilment/adapters/sendgrid"
	"github.com/everywherecommerce/fulfilment/adapters/twilio"
)

// emailHarness is one EmailSender under test and what its provider accepted.
type emailHarness struct {
	sender   activities.EmailSender
	accepted func() []activities.Email
}

// forEachEmailSender runs the contract f against every implementation, in parallel.
func forEachEmailSender(t *testing.T, f func(t *testing.T, h emailHarness)) {
	t.Helper()
	impls := []struct {
		name string
		new  func(t *testing.T) emailHarness
	}{
		{"sandbox", func(*testing.T) emailHarness {
			s := &sandbox.Email{}
			return emailHarness{sender: s, accepted: func() []activities.Email {
				var out []activities.Email
				for _, m := range s.Sent() {
					out = append(out, m.Email)
				}
				return out
			}}
		}},
		{"sendgrid", func(t *testing.T) emailHarness {
			fake := newSendGridFake(t)
			return emailHarness{sender: fake.adapter(t, nil), accepted: fake.accepted}
		}},
	}
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			t.Parallel()
			f(t, impl.new(t))
		})
	}
}

func TestEmailContractSend(t *testing.T) {
	forEachEmailSender(t, func(t *testing.T, h emailHarness) {
		e := activities.Email{NotificationKey: "A-1:notify:shipped:email", To: "ada@example.com", ToName: "Ada Lovelace",
			Subject: "Order A-1 is on its way", Text: "Hello Ada,\n\nyour order A-1 has shipped.\n",
			HTML:        "<!DOCTYPE html><p>Hello Ada,</p><p>your order A-1 has shipped.</p>",
			Unsubscribe: "https://shop.example/unsubscribe?t=QS0x.c2ln"}
		id, err := h.sender.SendEmail(t.Context(), e)
		if err != nil {
			t.Fatalf("SendEmail: %v", err)
		}
		if id == "" {
			t.Error("SendEmail returned no message ID; the notifications row needs one to match delivery events")
		}
		if got := h.accepted(); len(got) != 1 || got[0] != e {
			t.Errorf("provider accepted %+v, want exactly %+v", got, e)
		}
	})
}

func TestEmailContractFailures(t *testing.T) {
	cases := []struct {
		name string
		to   string
		want error
	}{
		{"refused recipient is undeliverable for good", "gone" + sandbox.EmailDomainUndeliverable, activities.ErrUndeliverable},
		{"missing recipient is an invalid request", "", activities.ErrInvalidRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forEachEmailSender(t, func(t *testing.T, h emailHarness) {
				_, err := h.sender.SendEmail(t.Context(), activities.Email{NotificationKey: "A-1:notify:shipped:email", To: tc.to, Subject: "s", Text: "t"})
				if !errors.Is(err, tc.want) {
					t.Fatalf("SendEmail error = %v, want %v", err, tc.want)
				}
				msgNoRecipient(t, err, tc.to)
				if got := h.accepted(); len(got) != 0 {
					t.Errorf("provider accepted %d emails, want none", len(got))
				}
			})
		})
	}
}

func TestEmailContractRateLimitedOnce(t *testing.T) {
	forEachEmailSender(t, func(t *testing.T, h emailHarness) {
		e := activities.Email{NotificationKey: "A-2:notify:order-confirmed:email", To: "ratelimit@example.com", Subject: "s", Text: "t"}
		_, err := h.sender.SendEmail(t.Context(), e)
		msgWantRetryAfter(t, err)
		if _, err := h.sender.SendEmail(t.Context(), e); err != nil {
			t.Fatalf("second attempt: %v, want it sent", err)
		}
		if got := h.accepted(); len(got) != 1 {
			t.Errorf("provider accepted %d emails, want 1", len(got))
		}
	})
}

func TestEmailContractCancelledContext(t *testing.T) {
	forEachEmailSender(t, func(t *testing.T, h emailHarness) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := h.sender.SendEmail(ctx, activities.Email{NotificationKey: "A-3:notify:shipped:email", To: "ada@example.com", Subject: "s", Text: "t"})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("SendEmail error = %v, want context.Canceled", err)
		}
		if got := h.accepted(); len(got) != 0 {
			t.Errorf("provider accepted %d emails, want none", len(got))
		}
	})
}

// TestSendGridTemplates: a touchpoint with a dynamic template is sent by template
// ID with the rendered subject and text as dynamic data, a numbered reminder uses
// its touchpoint's template, and any other touchpoint is sent as plain text.
func TestSendGridTemplates(t *testing.T) {
	t.Parallel()
	fake := newSendGridFake(t)
	s := fake.adapter(t, map[sendgrid.TemplateKey]string{
		{Touchpoint: activities.TouchShipped}:        "d-shipped",
		{Touchpoint: activities.TouchPickupReminder}: "d-reminder",
	})
	cases := []struct{ key, template string }{
		{"A-1:notify:shipped:email", "d-shipped"},
		{"A-1:notify:pickup-reminder-2:email", "d-reminder"},
		{"A-1:notify:delivered:email", ""},
	}
	for _, tc := range cases {
		if _, err := s.SendEmail(t.Context(), activities.Email{NotificationKey: tc.key, To: "ada@example.com", Subject: "S " + tc.key, Text: "T " + tc.key}); err != nil {
			t.Fatalf("SendEmail %s: %v", tc.key, err)
		}
	}
	reqs := fake.requests()
	if len(reqs) != len(cases) {
		t.Fatalf("fake saw %d requests, want %d", len(reqs), len(cases))
	}
	for i, tc := range cases {
		r := reqs[i]
		if r.TemplateID != tc.template {
			t.Errorf("%s: template_id = %q, want %q", tc.key, r.TemplateID, tc.template)
		}
		data := r.Personalizations[0].DynamicTemplateData
		if tc.template != "" && (data["subject"] != "S "+tc.key || data["text"] != "T "+tc.key || len(r.Content) != 0) {
			t.Errorf("%s: dynamic data %v, content %v; want subject and text as data and no content", tc.key, data, r.Content)
		}
		if tc.template == "" && (r.Subject != "S "+tc.key || len(r.Content) != 1 || r.Content[0].Value != "T "+tc.key || data != nil) {
			t.Errorf("%s: subject %q, content %v, data %v; want the rendered text", tc.key, r.Subject, r.Content, data)
		}
	}
}

// TestSendGridErrorMapping: how each SendGrid answer reaches the activity.
func TestSendGridErrorMapping(t *testing.T) {
	const to = "ada@example.com"
	reset := func(d time.Duration) string { return fmt.Sprint(time.Now().Add(d).Unix()) }
	cases := []struct {
		name    string
		status  int
		header  map[string]string
		body    string
		want    error         // a permanent sentinel, or nil for retryable
		after   time.Duration // with a RetryAfterError: the least wait; -1 for none
		maxWait time.Duration
	}{
		{"400 bad recipient", 400, nil, sendgridBadRecipient, activities.ErrUndeliverable, -1, 0},
		{"400 recipient quoted in the message", 400, nil,
			`{"errors":[{"message":"Invalid email address ` + to + `","field":"personalizations.0.to.0.email","help":null}]}`, activities.ErrUndeliverable, -1, 0},
		{"400 bad content", 400, nil,
			`{"errors":[{"message":"The content value must be a string at least one character in length.","field":"content.0.value","help":"http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message.content.value"}]}`,
			activities.ErrInvalidRequest, -1, 0},
		{"403 unverified sender", 403, nil,
			`{"errors":[{"message":"The from address does not match a verified Sender Identity. Mail cannot be sent until this error is resolved.","field":"from","help":null}]}`,
			activities.ErrInvalidRequest, -1, 0},
		{"413 payload too large", 413, nil, `{"errors":[{"message":"Payload Too Large","field":null,"help":null}]}`, activities.ErrInvalidRequest, -1, 0},
		{"401 revoked key is retried", 401, nil,
			`{"errors":[{"field":null,"message":"The provided authorization grant is invalid, expired, or revoked","help":null}]}`, nil, -1, 0},
		{"429 with X-RateLimit-Reset", 429, map[string]string{"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset(30 * time.Second)},
			sendgridTooManyRequests, nil, 28 * time.Second, 30 * time.Second},
		{"429 with Retry-After", 429, map[string]string{"Retry-After": "7"}, sendgridTooManyRequests, nil, 7 * time.Second, 7 * time.Second},
		{"429 without a hint", 429, nil, sendgridTooManyRequests, nil, 0, 0},
		{"500", 500, nil, `{"errors":[{"field":null,"message":"internal error","help":null}]}`, nil, -1, 0},
		{"502 HTML", 502, map[string]string{"Content-Type": "text/html"}, "<html><body><h1>502 Bad Gateway</h1></body></html>", nil, -1, 0},
		{"503 with Retry-After", 503, map[string]string{"Retry-After": "30"}, "", nil, 30 * time.Second, 30 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body)) // the client sees a short body as an error anyway
			}))
			t.Cleanup(srv.Close)
			s := newSendGrid(t, srv.URL, nil)
			_, err := s.SendEmail(t.Context(), activities.Email{NotificationKey: "A-1:notify:shipped:email", To: to, Subject: "s", Text: "t"})
			msgCheckMapping(t, err, tc.want, tc.after, tc.maxWait)
			msgNoRecipient(t, err, to)
		})
	}
	t.Run("network error", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close() // nothing listens on its address any more
		_, err := newSendGrid(t, srv.URL, nil).SendEmail(t.Context(), activities.Email{NotificationKey: "k", To: to, Subject: "s", Text: "t"})
		msgCheckMapping(t, err, nil, -1, 0)
	})
}

// TestMessageAdaptersRefuseClientsWithoutTimeout: SendGrid and Twilio have no
// idempotency key, so a request that never ends must not be possible; the
// constructors refuse a missing client or one without a Timeout.
func TestMessageAdaptersRefuseClientsWithoutTimeout(t *testing.T) {
	t.Parallel()
	for _, hc := range []*http.Client{nil, {}} {
		if _, err := sendgrid.New(sendgrid.Config{APIKey: sendgridAPIKey, FromEmail: sendgridFrom, HTTPClient: hc}); err == nil {
			t.Errorf("sendgrid.New with client %v: no error", hc)
		}
		if _, err := twilio.New(twilio.Config{AccountSID: twilioAccountSID, AuthToken: twilioAuthToken, From: twilioFrom, HTTPClient: hc}); err == nil {
			t.Errorf("twilio.New with client %v: no error", hc)
		}
	}
}

// Recorded SendGrid answers.
const (
	sendgridBadRecipient    = `{"errors":[{"message":"Does not contain a valid address.","field":"personalizations.0.to.0.email","help":"http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message.personalizations.to"}]}`
	sendgridTooManyRequests = `{"errors":[{"field":null,"message":"too many requests"}]}`
	sendgridAPIKey          = "SG.contract-test-key"
	sendgridFrom            = "orders@everywhere.example"
	sendgridFromName        = "Everywhere Fulfilment"
)

// sendgridMail is the part of a v3 Mail Send body the fake checks.
type sendgridMail struct {
	From             struct{ Email, Name string }   `json:"from"`
	Subject          string                         `json:"subject"`
	TemplateID       string                         `json:"template_id"`
	CustomArgs       map[string]string              `json:"custom_args"`
	Content          []struct{ Type, Value string } `json:"content"`
	Headers          map[string]string              `json:"headers"`
	Personalizations []struct {
		To                  []struct{ Email, Name string } `json:"to"`
		DynamicTemplateData map[string]string              `json:"dynamic_template_data"`
	} `json:"personalizations"`
}

// sendgridFake is SendGrid's Mail Send API as the adapter sees it. It checks every
// request and answers as SendGrid does: 202 with X-Message-Id, 400 for an address
// at bounce.invalid, 429 for the first attempt of each notification key sent to a
// "ratelimit" address.
type sendgridFake struct {
	srv *httptest.Server

	mu       sync.Mutex
	reqs     []sendgridMail
	ok       []activities.Email
	attempts map[string]int
}

func newSendGridFake(t *testing.T) *sendgridFake {
	f := &sendgridFake{attempts: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f.serve(t, w, r) }))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *sendgridFake) serve(t *testing.T, w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v3/mail/send" {
		t.Errorf("SendGrid fake: %s %s, want POST /v3/mail/send", r.Method, r.URL.Path)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer "+sendgridAPIKey {
		t.Errorf("SendGrid fake: Authorization %q, want the Bearer API key", got)
	}
	if got := r.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("SendGrid fake: Content-Type %q, want application/json", got)
	}
	var m sendgridMail
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil || len(m.Personalizations) != 1 || len(m.Personalizations[0].To) != 1 {
		t.Errorf("SendGrid fake: body %+v (%v), want one personalization with one recipient", m, err)
		http.Error(w, `{"errors":[{"message":"Bad Request","field":null,"help":null}]}`, http.StatusBadRequest)
		return
	}
	if m.From.Email != sendgridFrom || m.From.Name != sendgridFromName {
		t.Errorf("SendGrid fake: from %+v, want %s <%s>", m.From, sendgridFromName, sendgridFrom)
	}
	to := m.Personalizations[0].To[0]
	key := m.CustomArgs["notification_key"]
	if key == "" {
		t.Error("SendGrid fake: custom_args.notification_key is missing; delivery events could not be matched")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, m)
	f.attempts[key]++
	switch {
	case strings.HasSuffix(to.Email, sandbox.EmailDomainUndeliverable):
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(sendgridBadRecipient)) // a failed write fails the adapter's call, which the test sees
		return
	case strings.Contains(to.Email, sandbox.RecipientRateLimited) && f.attempts[key] == 1:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-RateLimit-Limit", "600")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", fmt.Sprint(time.Now().Add(2*time.Second).Unix()))
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(sendgridTooManyRequests)) // as above
		return
	}
	text, html := "", ""
	if len(m.Content) > 0 {
		text = m.Content[0].Value
		if m.Content[0].Type != "text/plain" {
			t.Errorf("SendGrid fake: content type %q, want text/plain", m.Content[0].Type)
		}
	}
	if len(m.Content) > 1 {
		html = m.Content[1].Value
		if m.Content[1].Type != "text/html" || len(m.Content) > 2 {
			t.Errorf("SendGrid fake: content %+v, want text/plain then text/html", m.Content)
		}
	}
	unsubscribe := strings.TrimSuffix(strings.TrimPrefix(m.Headers["List-Unsubscribe"], "<"), ">")
	if unsubscribe != "" && m.Headers["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click" {
		t.Errorf("SendGrid fake: List-Unsubscribe without the one-click header: %v", m.Headers)
	}
	f.ok = append(f.ok, activities.Email{NotificationKey: key, To: to.Email, ToName: to.Name, Subject: m.Subject, Text: text,
		HTML: html, Unsubscribe: unsubscribe})
	w.Header().Set("X-Message-Id", fmt.Sprintf("sgfake%05dQx0fS0WUsF8J3Q", len(f.reqs)))
	w.WriteHeader(http.StatusAccepted)
}

func (f *sendgridFake) adapter(t *testing.T, templates map[sendgrid.TemplateKey]string) *sendgrid.Email {
	return newSendGrid(t, f.srv.URL, templates)
}

func (f *sendgridFake) accepted() []activities.Email {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]activities.Email(nil), f.ok...)
}

func (f *sendgridFake) requests() []sendgridMail {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sendgridMail(nil), f.reqs...)
}

func newSendGrid(t *testing.T, host string, templates map[sendgrid.TemplateKey]string) *sendgrid.Email {
	t.Helper()
	s, err := sendgrid.New(sendgrid.Config{
		APIKey: sendgridAPIKey, Host: host, HTTPClient: &http.Client{Timeout: 10 * time.Second},
		FromEmail: sendgridFrom, FromName: sendgridFromName, Templates: templates,
	})
	if err != nil {
		t.Fatalf("sendgrid.New: %v", err)
	}
	return s
}

// msgPermanent reports whether err carries a sentinel that the activity turns into
// a non-retryable error.
func msgPermanent(err error) bool {
	for _, s := range []error{activities.ErrInvalidRequest, activities.ErrUndeliverable, activities.ErrUnregistered} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// msgWantRetryAfter fails unless err asks for a retry after a wait, as a 429 does.
func msgWantRetryAfter(t *testing.T, err error) {
	t.Helper()
	var ra *activities.RetryAfterError
	if !errors.As(err, &ra) || msgPermanent(err) {
		t.Fatalf("error = %v, want a retryable *activities.RetryAfterError", err)
	}
}

// msgCheckMapping checks one row of an error-mapping table: want is the permanent
// sentinel or nil for a retryable error; after is the least wait of a
// RetryAfterError (0 when the provider gave no hint) or -1 for a plain error,
// maxWait its most.
func msgCheckMapping(t *testing.T, err error, want error, after, maxWait time.Duration) {
	t.Helper()
	if err == nil {
		t.Fatal("no error, want one")
	}
	if want != nil {
		if !errors.Is(err, want) {
			t.Errorf("error = %v, want %v (permanent)", err, want)
		}
		return
	}
	if msgPermanent(err) {
		t.Errorf("error = %v is permanent, want retryable", err)
	}
	var ra *activities.RetryAfterError
	switch isRA := errors.As(err, &ra); {
	case after < 0 && isRA:
		t.Errorf("error = %v is a RetryAfterError (%s), want a plain retryable error", err, ra.After)
	case after >= 0 && !isRA:
		t.Errorf("error = %v, want a RetryAfterError", err)
	case after >= 0 && (ra.After < after || ra.After > maxWait):
		t.Errorf("Retry-After %s, want between %s and %s", ra.After, after, maxWait)
	}
}

// msgNoRecipient fails if an error's text names the recipient: error texts end up
// in Temporal's history and in logs, where addresses, numbers and tokens must not.
func msgNoRecipient(t *testing.T, err error, recipient string) {
	t.Helper()
	if err != nil && recipient != "" && strings.Contains(err.Error(), recipient) {
		t.Errorf("error text %q contains the recipient", err)
	}
}
