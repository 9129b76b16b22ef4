// Package twilio sends customer text messages through Twilio's Programmable
// Messaging API (2010-04-01). It implements activities.SMSSender and maps Twilio's
// answers to the activities sentinels; nothing else belongs here.
package twilio

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/everywherecommerce/fulfilment/activities"
)

// DefaultBaseURL is where the SDK sends Messages requests; tests point BaseURL at a
// local server instead.
const DefaultBaseURL = "https://api.twilio.com"

// Twilio error codes that decide a message's fate.
const (
	// CodeInvalidTo: the 'To' number is not a valid phone number.
	CodeInvalidTo = 21211
	// CodeNotMobile: the 'To' number cannot receive SMS (a landline).
	CodeNotMobile = 21614
	// CodeUnsubscribed: the recipient replied STOP; Twilio refuses until they opt in.
	CodeUnsubscribed = 21610
	// CodeTooManyRequests: the account's concurrency or rate limit was hit.
	CodeTooManyRequests = 20429
)

// Config is what SMS needs. Everything comes from the caller (worker/main.go reads
// the environment); the adapter reads nothing itself, not even TWILIO_EDGE or
// TWILIO_REGION, which the SDK's default request handler would.
type Config struct {
	// AccountSID and AuthToken authenticate (HTTP Basic); the token is never logged.
	AccountSID string
	AuthToken  string
	// Exactly one of From (an E.164 sender number) and MessagingServiceSID (MG...,
	// which picks a sender from its pool) is set.
	From                string
	MessagingServiceSID string
	// StatusCallback, optional, is the public https URL Twilio posts delivery
	// statuses to; its signature is checked against this exact URL.
	StatusCallback string
	// BaseURL is the API base URL; empty means DefaultBaseURL. The SDK cannot be
	// pointed elsewhere, so requests are rewritten to it on the way out.
	BaseURL string
	// HTTPClient must have a Timeout: Twilio has no idempotency key, so a hung
	// request must end with an error the activity retries. The Timeout bounds each
	// call (as a context deadline); the Transport (or http.DefaultTransport)
	// carries the requests and pools the connections.
	HTTPClient *http.Client
}

// SMS sends text messages through Twilio. It is safe for concurrent use.
type SMS struct {
	cfg     Config
	base    *url.URL
	timeout time.Duration
	rt      http.RoundTripper
}

var _ activities.SMSSender = (*SMS)(nil)

// New checks the configuration and returns the adapter. It refuses a nil or
// timeout-less HTTP client rather than fall back to one without a timeout.
func New(cfg Config) (*SMS, error) {
	switch {
	case cfg.AccountSID == "" || cfg.AuthToken == "":
		return nil, errors.New("twilio: account SID and auth token are required")
	case (cfg.From == "") == (cfg.MessagingServiceSID == ""):
		return nil, errors.New("twilio: exactly one of From and MessagingServiceSID is required")
	case cfg.HTTPClient == nil || cfg.HTTPClient.Timeout <= 0:
		return nil, errors.New("twilio: an *http.Client with a Timeout is required")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	base, err := url.Parse(strings.TrimSuffix(cfg.BaseURL, "/"))
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, fmt.Errorf("twilio: base URL %q is not an absolute URL", cfg.BaseURL)
	}
	rt := cfg.HTTPClient.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	return &SMS{cfg: cfg, base: base, timeout: cfg.HTTPClient.Timeout, rt: rt}, nil
}

// SendSMS sends one message and returns its SID. The request is sent once: Twilio
// has no idempotency key, so the notifications row guards against duplicates.
//
// CreateMessage takes no context and the SDK builds its requests on
// context.Background(), so each call gets its own client.Client whose transport
// is bound to ctx: cancelling the activity cancels the request. The client is a
// few small structs; connections are pooled in the shared transport.
func (s *SMS) SendSMS(ctx context.Context, m activities.SMS) (string, error) {
	if m.To == "" || m.Body == "" || m.NotificationKey == "" {
		return "", fmt.Errorf("twilio sms %s: recipient, body and notification key are required: %w", m.NotificationKey, activities.ErrInvalidRequest)
	}
	// The client's Timeout becomes the call's deadline: http.Client enforces its
	// Timeout through the request's context, which boundTransport replaces.
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	bound := &boundTransport{ctx: ctx, base: s.base, next: s.rt}
	tc := &client.Client{
		Credentials: client.NewCredentials(s.cfg.AccountSID, s.cfg.AuthToken),
		HTTPClient: &http.Client{
			Transport: bound,
			// Like the SDK's default client: a redirect is an answer, not a hop.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	tc.SetAccountSid(s.cfg.AccountSID)
	// A handler built by hand, not client.NewRequestHandler: that one reads
	// TWILIO_EDGE and TWILIO_REGION from the environment.
	svc := api.NewApiService(&client.RequestHandler{Client: tc})
	msg, err := svc.CreateMessage(s.params(m))
	if err != nil {
		return "", classify(ctx, m.NotificationKey, err, bound.retryAfter())
	}
	if msg.Sid == nil || *msg.Sid == "" {
		return "", fmt.Errorf("twilio sms %s: answer without a message SID", m.NotificationKey)
	}
	return *msg.Sid, nil
}

// params are the Messages form: To, Body, the sender (a number or a Messaging
// Service) and the status callback.
func (s *SMS) params(m activities.SMS) *api.CreateMessageParams {
	p := &api.CreateMessageParams{}
	p.SetTo(m.To)
	p.SetBody(m.Body)
	if s.cfg.MessagingServiceSID != "" {
		p.SetMessagingServiceSid(s.cfg.MessagingServiceSID)
	} else {
		p.SetFrom(s.cfg.From)
	}
	if s.cfg.StatusCallback != "" {
		p.SetStatusCallback(s.cfg.StatusCallback)
	}
	return p
}

// restError keeps Twilio's error in the chain for errors.As while leaving its
// message, which can quote the recipient's number, out of the text.
type restError struct{ e *client.TwilioRestError }

func (r restError) Error() string {
	return fmt.Sprintf("twilio status %d code %d (%s)", r.e.Status, r.e.Code, r.e.MoreInfo)
}
func (r restError) Unwrap() error { return r.e }

// classify maps what CreateMessage returned to the activities sentinels:
//
//	21211, 21614, 21610           ErrUndeliverable (permanent)
//	429 or 20429                  *RetryAfterError (Retry-After when Twilio sent one)
//	401                           retryable: an operator fixes credentials
//	other 4xx                     ErrInvalidRequest (permanent)
//	5xx, non-JSON body, network   retryable
//	cancelled or expired ctx      ctx.Err()
func classify(ctx context.Context, key string, err error, after time.Duration) error {
	if ctx.Err() != nil {
		return fmt.Errorf("twilio sms %s: %w", key, ctx.Err())
	}
	var tre *client.TwilioRestError
	if !errors.As(err, &tre) {
		// A 5xx with an HTML body arrives as a JSON decode error; like a network
		// error it is worth another attempt.
		return fmt.Errorf("twilio sms %s: %w", key, err)
	}
	re := restError{tre}
	switch {
	case tre.Code == CodeInvalidTo, tre.Code == CodeNotMobile, tre.Code == CodeUnsubscribed:
		return fmt.Errorf("twilio sms %s: %w: %w", key, re, activities.ErrUndeliverable)
	case tre.Status == http.StatusTooManyRequests, tre.Code == CodeTooManyRequests:
		return &activities.RetryAfterError{After: after, Err: fmt.Errorf("twilio sms %s: %w", key, re)}
	case tre.Status == http.StatusUnauthorized:
		return fmt.Errorf("twilio sms %s: %w", key, re)
	case tre.Status >= 400 && tre.Status < 500:
		return fmt.Errorf("twilio sms %s: %w: %w", key, re, activities.ErrInvalidRequest)
	}
	return fmt.Errorf("twilio sms %s: %w", key, re)
}

// boundTransport sends the SDK's requests with the activity's context and to the
// configured base URL, and remembers the last answer's Retry-After, which the
// SDK's error does not carry.
type boundTransport struct {
	ctx  context.Context
	base *url.URL
	next http.RoundTripper

	mu    sync.Mutex
	after string
}

// RoundTrip clones the request onto the bound context and the base URL; the
// caller's request is left untouched, as RoundTrip requires.
func (b *boundTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(b.ctx)
	out.URL.Scheme = b.base.Scheme
	out.URL.Host = b.base.Host
	out.URL.Path = b.base.Path + req.URL.Path
	out.URL.RawPath = ""
	out.Host = ""
	resp, err := b.next.RoundTrip(out)
	if resp != nil {
		b.mu.Lock()
		b.after = resp.Header.Get("Retry-After")
		b.mu.Unlock()
	}
	return resp, err
}

// retryAfter is the last answer's Retry-After in seconds or as an HTTP date;
// zero when absent (the retry policy then decides).
func (b *boundTransport) retryAfter() time.Duration {
	b.mu.Lock()
	v := strings.TrimSpace(b.after)
	b.mu.Unlock()
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}
