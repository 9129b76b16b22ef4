// Package sendgrid sends the customer emails through Twilio SendGrid's v3 Mail Send
// API. It implements activities.EmailSender and maps SendGrid's answers to the
// activities sentinels; nothing else belongs here.
package sendgrid

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sendgrid/rest"
	sg "github.com/sendgrid/sendgrid-go"
	"github.com/sendgrid/sendgrid-go/helpers/mail"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

// DefaultHost is SendGrid's global API host; EU-pinned accounts use
// https://api.eu.sendgrid.com and tests a local server.
const DefaultHost = "https://api.sendgrid.com"

// sendPath is the Mail Send endpoint.
const sendPath = "/v3/mail/send"

// CustomArgNotificationKey is the custom_args key that carries our notification key,
// so that Event Webhook events (delivered, bounce, spam report) can be matched to
// the notifications row.
const CustomArgNotificationKey = "notification_key"

// TemplateKey selects a SendGrid dynamic template: one per touchpoint and locale.
type TemplateKey struct {
	Touchpoint domain.Touchpoint
	// Locale ("de", "en") is the language the message was rendered in; an entry
	// with an empty Locale serves every language that has none of its own.
	Locale string
}

// Config is what Email needs. Everything comes from the caller (worker/main.go reads
// the environment); the adapter reads nothing itself.
type Config struct {
	// APIKey needs the mail.send scope. It is sent as a Bearer token and never logged.
	APIKey string
	// Host is the API base URL; empty means DefaultHost.
	Host string
	// HTTPClient must have a Timeout: SendGrid has no idempotency key, so a hung
	// request must end, with an error the activity retries, before the activity's
	// own timeout does.
	HTTPClient *http.Client
	// FromEmail and FromName are the sender, a verified SendGrid sender identity.
	FromEmail string
	FromName  string
	// Templates, optional, maps a touchpoint (and locale) to a dynamic template ID.
	// A touchpoint with a template is sent with template_id and dynamic data
	// {subject, text}; one without is sent as the locally rendered plain text.
	Templates map[TemplateKey]string
}

// Email sends emails through SendGrid. It is safe for concurrent use: every send
// builds its own request, because a shared *sendgrid.Client writes each message
// into its one Body field.
type Email struct {
	apiKey    string
	host      string
	client    *rest.Client
	from      *mail.Email
	templates map[TemplateKey]string
}

var _ activities.EmailSender = (*Email)(nil)

// New checks the configuration and returns the adapter. It refuses a nil or
// timeout-less HTTP client rather than fall back to one without a timeout.
func New(cfg Config) (*Email, error) {
	switch {
	case cfg.APIKey == "":
		return nil, errors.New("sendgrid: API key is required")
	case cfg.FromEmail == "":
		return nil, errors.New("sendgrid: from address is required")
	case cfg.HTTPClient == nil || cfg.HTTPClient.Timeout <= 0:
		return nil, errors.New("sendgrid: an *http.Client with a Timeout is required")
	}
	host := strings.TrimSuffix(cfg.Host, "/")
	if host == "" {
		host = DefaultHost
	}
	if _, err := url.ParseRequestURI(host); err != nil {
		return nil, fmt.Errorf("sendgrid: host %q: %w", host, err)
	}
	templates := make(map[TemplateKey]string, len(cfg.Templates))
	for k, v := range cfg.Templates {
		templates[k] = v
	}
	return &Email{
		apiKey:    cfg.APIKey,
		host:      host,
		client:    &rest.Client{HTTPClient: cfg.HTTPClient},
		from:      mail.NewEmail(cfg.FromName, cfg.FromEmail),
		templates: templates,
	}, nil
}

// SendEmail sends one email and returns SendGrid's X-Message-Id. SendGrid answers
// HTTP errors with err == nil, so the status code decides: 2xx is accepted, 400,
// 403 and 413 are permanent (ErrUndeliverable when the recipient is refused,
// ErrInvalidRequest otherwise), 429 is a *activities.RetryAfterError, 401, 5xx and
// network errors are retryable. The request is sent once: SendGrid has no
// idempotency key, so the notifications row guards against duplicates instead.
func (s *Email) SendEmail(ctx context.Context, e activities.Email) (string, error) {
	if e.To == "" || e.NotificationKey == "" {
		return "", fmt.Errorf("sendgrid email %s: recipient and notification key are required: %w", e.NotificationKey, activities.ErrInvalidRequest)
	}
	body, err := json.Marshal(s.message(e))
	if err != nil {
		return "", fmt.Errorf("sendgrid email %s: encode: %w: %w", e.NotificationKey, activities.ErrInvalidRequest, err)
	}
	req := sg.GetRequest(s.apiKey, sendPath, s.host)
	req.Method = rest.Post
	req.Body = body
	// The same as sendgrid.MakeRequestWithContext, but on our client: that function
	// uses the package-level rest.DefaultClient, which has no timeout.
	resp, err := s.client.SendWithContext(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("sendgrid email %s: %w", e.NotificationKey, ctx.Err())
		}
		return "", fmt.Errorf("sendgrid email %s: %w", e.NotificationKey, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// 202 carries X-Message-Id; a 200 (sandbox mode) has none and sent nothing.
		return http.Header(resp.Headers).Get("X-Message-Id"), nil
	}
	return "", s.statusError(e, resp)
}

// message builds the v3 mail: one personalization, our key in custom_args, and
// either the touchpoint's dynamic template or the rendered plain text.
func (s *Email) message(e activities.Email) *mail.SGMailV3 {
	m := mail.NewV3Mail()
	m.SetFrom(s.from)
	m.SetCustomArg(CustomArgNotificationKey, e.NotificationKey)
	p := mail.NewPersonalization()
	p.AddTos(mail.NewEmail(e.ToName, e.To))
	if id, ok := s.templateID(e.NotificationKey, e.Locale); ok {
		m.SetTemplateID(id)
		p.SetDynamicTemplateData("subject", e.Subject)
		p.SetDynamicTemplateData("text", e.Text)
		if e.HTML != "" {
			p.SetDynamicTemplateData("html", e.HTML)
		}
	} else {
		m.Subject = e.Subject
		m.AddContent(mail.NewContent("text/plain", e.Text)) // SendGrid wants text/plain first
		if e.HTML != "" {
			m.AddContent(mail.NewContent("text/html", e.HTML))
		}
	}
	if e.Unsubscribe != "" {
		// One-click unsubscribe (RFC 8058): mail clients show a button for it.
		m.SetHeader("List-Unsubscribe", "<"+e.Unsubscribe+">")
		m.SetHeader("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	}
	m.AddPersonalizations(p)
	return m
}

// templateID finds the dynamic template of the touchpoint in a notification key
// "<order_id>:notify:<touchpoint>[-<occurrence>]:<channel>"; a numbered reminder
// ("pickup-reminder-2") uses its touchpoint's template.
func (s *Email) templateID(key, locale string) (string, bool) {
	i := strings.LastIndex(key, ":notify:")
	if i < 0 || len(s.templates) == 0 {
		return "", false
	}
	tp, _, _ := strings.Cut(key[i+len(":notify:"):], ":")
	tp, _, _ = strings.Cut(tp, "-resend-") // a resend uses its touchpoint's template
	lookup := func(tp string) (string, bool) {
		if id, ok := s.templates[TemplateKey{Touchpoint: domain.Touchpoint(tp), Locale: locale}]; ok && locale != "" {
			return id, true
		}
		id, ok := s.templates[TemplateKey{Touchpoint: domain.Touchpoint(tp)}]
		return id, ok
	}
	if id, ok := lookup(tp); ok {
		return id, true
	}
	base, occurrence, ok := cutLast(tp, "-")
	if _, err := strconv.Atoi(occurrence); !ok || err != nil {
		return "", false
	}
	return lookup(base)
}

// cutLast is strings.Cut at the last sep.
func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// apiErrors is SendGrid's error body: {"errors":[{"message","field","help"}]}.
type apiErrors struct {
	Errors []struct {
		Message string  `json:"message"`
		Field   *string `json:"field"`
	} `json:"errors"`
}

// statusError maps a non-2xx answer to a sentinel. Its text names the status and
// SendGrid's fields and messages, with the recipient's address cut out.
func (s *Email) statusError(e activities.Email, resp *rest.Response) error {
	var body apiErrors
	_ = json.Unmarshal([]byte(resp.Body), &body) // an HTML or empty body leaves it empty; the status decides
	var details []string
	recipient := false
	for _, x := range body.Errors {
		field := ""
		if x.Field != nil {
			field = *x.Field
		}
		if strings.HasPrefix(field, "personalizations.") && (strings.Contains(field, ".to.") || strings.HasSuffix(field, ".to")) {
			recipient = true
		}
		msg := strings.ReplaceAll(x.Message, e.To, "<recipient>")
		if field != "" {
			msg = field + ": " + msg
		}
		details = append(details, msg)
	}
	what := fmt.Sprintf("sendgrid email %s: status %d", e.NotificationKey, resp.StatusCode)
	if len(details) > 0 {
		what += " (" + strings.Join(details, "; ") + ")"
	}
	h := http.Header(resp.Headers)
	switch {
	case resp.StatusCode == http.StatusTooManyRequests,
		resp.StatusCode == http.StatusServiceUnavailable && h.Get("Retry-After") != "":
		return &activities.RetryAfterError{After: retryAfter(h, time.Now()), Err: errors.New(what)}
	case resp.StatusCode == http.StatusBadRequest && recipient:
		return fmt.Errorf("%s: %w", what, activities.ErrUndeliverable)
	case resp.StatusCode == http.StatusUnauthorized, resp.StatusCode == http.StatusRequestTimeout:
		// A revoked or rotating key is fixed by an operator, not by the message:
		// failing permanently would drop every email sent meanwhile. The retry
		// policy bounds the attempts.
		return errors.New(what)
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		return fmt.Errorf("%s: %w", what, activities.ErrInvalidRequest)
	}
	return errors.New(what) // 5xx and anything unexpected: retryable
}

// retryAfter reads how long SendGrid wants us to wait: Retry-After (seconds or an
// HTTP date), else X-RateLimit-Reset (a Unix time). Zero means no hint; the retry
// policy then decides.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if v := h.Get("Retry-After"); v != "" {
		if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs > 0 {
			return time.Duration(secs) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil && t.After(now) {
			return t.Sub(now)
		}
	}
	if v := h.Get("X-RateLimit-Reset"); v != "" {
		if unix, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && time.Unix(unix, 0).After(now) {
			return time.Unix(unix, 0).Sub(now)
		}
	}
	return 0
}
