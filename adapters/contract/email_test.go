package contract_test

// The email channel: the sender contract (sender_test.go) for the sandbox.Email
// fake and the SendGrid adapter, pointed at an httptest fake of the Mail Send API
// that checks each request and answers with SendGrid's recorded response shapes,
// and what only SendGrid does (templates, its error answers).

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/adapters/sandbox"
	"github.com/everywherecommerce/fulfilment/adapters/sendgrid"
	"github.com/everywherecommerce/fulfilment/domain"
)

// emailContract is the sender contract of activities.EmailSender.
func emailContract() senderContract[activities.Email] {
	return senderContract[activities.Email]{
		sample: activities.Email{NotificationKey: "A-1:notify:shipped:email", ToName: "Ada Lovelace",
			Subject: "Order A-1 is on its way", Text: "Hello Ada,\n\nyour order A-1 has shipped.\n",
			HTML:        "<!DOCTYPE html><p>Hello Ada,</p><p>your order A-1 has shipped.</p>",
			Unsubscribe: "https://shop.example/unsubscribe?t=QS0x.c2ln"},
		to:          func(e activities.Email, to string) activities.Email { e.To = to; return e },
		recipient:   "ada@example.com",
		refused:     "gone" + sandbox.EmailDomainUndeliverable,
		refusedErr:  activities.ErrUndeliverable,
		rateLimited: "ratelimit@example.com",
		idShape:     "a message ID",
		validID:     func(id string) bool { return id != "" },
		impls: []senderImpl[activities.Email]{
			{"sandbox", func(*testing.T) senderHarness[activities.Email] {
				s := &sandbox.Email{}
				return sandboxHarness(s.SendEmail, s.Sent, func(m sandbox.SentEmail) activities.Email { return m.Email }, &s.Faults)
			}},
			{"sendgrid", func(t *testing.T) senderHarness[activities.Email] {
				fake := newSendGridFake(t)
				return fake.harness(fake.adapter(t, nil).SendEmail)
			}},
		},
	}
}

// TestSendGridTemplates: a touchpoint with a dynamic template is sent by template
// ID with the rendered subject and text as dynamic data, a numbered reminder uses
// its touchpoint's template, and any other touchpoint is sent as plain text.
func TestSendGridTemplates(t *testing.T) {
	t.Parallel()
	fake := newSendGridFake(t)
	s := fake.adapter(t, map[sendgrid.TemplateKey]string{
		{Touchpoint: domain.TouchShipped}:        "d-shipped",
		{Touchpoint: domain.TouchPickupReminder}: "d-reminder",
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
	checkErrorMappings(t, "", to, []errorMapping{
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
		{"500", 500, nil, sendgridInternalError, nil, -1, 0},
		{"502 HTML", 502, map[string]string{"Content-Type": "text/html"}, "<html><body><h1>502 Bad Gateway</h1></body></html>", nil, -1, 0},
		{"503 with Retry-After", 503, map[string]string{"Retry-After": "30"}, "", nil, 30 * time.Second, 30 * time.Second},
		{"network error", 0, nil, "", nil, -1, 0},
	}, func(t *testing.T, baseURL string) error {
		_, err := newSendGrid(t, baseURL, nil).SendEmail(t.Context(), activities.Email{NotificationKey: "A-1:notify:shipped:email", To: to, Subject: "s", Text: "t"})
		return err
	})
}

// Recorded SendGrid answers.
const (
	sendgridBadRecipient    = `{"errors":[{"message":"Does not contain a valid address.","field":"personalizations.0.to.0.email","help":"http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message.personalizations.to"}]}`
	sendgridTooManyRequests = `{"errors":[{"field":null,"message":"too many requests"}]}`
	sendgridInternalError   = `{"errors":[{"field":null,"message":"internal error","help":null}]}`
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
// "ratelimit" address, 500 once its outage began.
type sendgridFake struct {
	providerFake[activities.Email]
	reqs []sendgridMail // guarded by providerFake.mu
}

func newSendGridFake(t *testing.T) *sendgridFake {
	f := &sendgridFake{}
	f.start(t, func(w http.ResponseWriter, r *http.Request) { f.serve(t, w, r) })
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
	f.mu.Lock()
	f.reqs = append(f.reqs, m)
	f.mu.Unlock()
	e := activities.Email{NotificationKey: key, To: to.Email, ToName: to.Name, Subject: m.Subject, Text: text, HTML: html, Unsubscribe: unsubscribe}
	const contentType = "application/json"
	switch v, n := f.judge(key, to.Email, strings.HasSuffix(to.Email, sandbox.EmailDomainUndeliverable), e); v {
	case fakeOutage:
		writeAnswer(w, contentType, http.StatusInternalServerError, nil, sendgridInternalError)
	case fakeRefused:
		writeAnswer(w, contentType, http.StatusBadRequest, nil, sendgridBadRecipient)
	case fakeRateLimited:
		writeAnswer(w, contentType, http.StatusTooManyRequests, map[string]string{"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0",
			"X-RateLimit-Reset": fmt.Sprint(time.Now().Add(2 * time.Second).Unix())}, sendgridTooManyRequests)
	default:
		w.Header().Set("X-Message-Id", fmt.Sprintf("sgfake%05dQx0fS0WUsF8J3Q", n))
		w.WriteHeader(http.StatusAccepted)
	}
}

func (f *sendgridFake) adapter(t *testing.T, templates map[sendgrid.TemplateKey]string) *sendgrid.Email {
	return newSendGrid(t, f.srv.URL, templates)
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
