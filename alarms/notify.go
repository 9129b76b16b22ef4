package alarms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// Notification statuses (alarm_notifications.status).
const (
	StatusPending     = "pending"
	StatusSent        = "sent"
	StatusFailed      = "failed"
	StatusUnconfirmed = "unconfirmed"
)

// maxAttempts is how many times a message is tried before it is failed.
const maxAttempts = 5

// staleSending is how long a message may stay "sending" before it counts as
// interrupted (longer than any send's timeout).
const staleSending = 2 * time.Minute

// Notifier sends the queued alarm messages: a Slack-compatible webhook and
// email through the configured email provider.
type Notifier struct {
	Store Store
	// WebhookURL receives {"text": …, "blocks": […]} (Slack's incoming
	// webhook format, which Mattermost and Rocket.Chat take too); "" = none.
	WebhookURL string
	HTTPClient *http.Client
	// EmailTo is the address alarm emails go to (a team's list); "" = no email.
	EmailTo string
	Email   activities.EmailSender
	// ConsoleURL is the public base URL of the starter, for links to the KPI page.
	ConsoleURL string
}

// Channels are the channels configured: the webhook if it has a URL, email if
// it has an address (sent through Email by whoever sends the messages).
func Channels(webhookURL, emailTo string) []string {
	var out []string
	if webhookURL != "" {
		out = append(out, "webhook")
	}
	if emailTo != "" {
		out = append(out, "email")
	}
	return out
}

// Sent counts what one SendPending did.
type Sent struct {
	Sent, Failed, Unconfirmed, Retry int
}

// SendPending sends every queued message once: each is claimed (so a second
// sender skips it), sent, and recorded. A message that fails for a reason that
// may pass is left pending for the next run, up to maxAttempts.
func (n *Notifier) SendPending(ctx context.Context) (Sent, error) {
	var s Sent
	for {
		batch, err := n.Store.ClaimAlarmNotifications(ctx, 20, staleSending)
		if err != nil {
			return s, err
		}
		if len(batch) == 0 {
			return s, nil
		}
		for _, m := range batch {
			status, errText := n.send(ctx, m)
			if status == StatusPending && m.Attempts >= maxAttempts {
				status = StatusFailed
			}
			if err := n.Store.FinishAlarmNotification(ctx, m.Alarm.ID, m.Event, m.Channel, status, errText); err != nil {
				return s, err
			}
			switch status {
			case StatusSent:
				s.Sent++
			case StatusFailed:
				s.Failed++
			case StatusUnconfirmed:
				s.Unconfirmed++
			default:
				s.Retry++
			}
		}
		if s.Retry > 0 {
			return s, nil // the rest waits for the next run rather than spinning here
		}
	}
}

func (n *Notifier) send(ctx context.Context, m records.AlarmNotification) (string, string) {
	var err error
	switch m.Channel {
	case "webhook":
		if n.WebhookURL == "" {
			return StatusFailed, "no webhook is configured (FULFILMENT_ALARM_WEBHOOK_URL)"
		}
		err = n.postWebhook(ctx, m)
	case "email":
		if n.EmailTo == "" || n.Email == nil {
			return StatusFailed, "no alarm email address is configured (FULFILMENT_ALARM_EMAIL)"
		}
		err = n.sendEmail(ctx, m)
	default:
		return StatusFailed, "unknown channel " + m.Channel
	}
	switch {
	case err == nil:
		return StatusSent, ""
	case errors.Is(err, errPermanent), errors.Is(err, activities.ErrUndeliverable), errors.Is(err, activities.ErrInvalidRequest):
		return StatusFailed, err.Error()
	case errors.Is(err, errMaybeSent), errors.Is(err, context.DeadlineExceeded):
		return StatusUnconfirmed, err.Error()
	default:
		return StatusPending, err.Error()
	}
}

var (
	errPermanent = errors.New("refused for good")
	errMaybeSent = errors.New("may have been delivered")
)

// Title is a message's first line.
func Title(m records.AlarmNotification) string {
	a := m.Alarm
	where := "store " + a.StoreID
	if a.StoreID == records.KPIAll {
		where = "all stores"
	}
	if m.Event == "resolved" {
		return fmt.Sprintf("Resolved: %s at %s is back to %s (baseline %s)", a.Signal, where,
			FormatValue(a.Signal, a.LastObserved), FormatValue(a.Signal, a.LastExpected))
	}
	return fmt.Sprintf("Alarm: %s at %s %s ×%.2g (%s against %s)", a.Signal, where, map[string]string{"up": "up", "down": "down"}[a.Direction],
		clampRatio(ratio(a.Observed, a.Expected)), FormatValue(a.Signal, a.Observed), FormatValue(a.Signal, a.Expected))
}

// Body is a message's text: what moved, by how much, against what, and where
// to look.
func (n *Notifier) Body(m records.AlarmNotification) string {
	a := m.Alarm
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n%s\n", Title(m), Summary(a))
	fmt.Fprintf(&b, "Opened %s (window of %d h, %0.f events against %.1f expected", a.OpenedAt.Format(time.RFC3339), a.WindowHours, a.ObservedEvents, a.ExpectedEvents)
	if a.Volume > 0 {
		fmt.Fprintf(&b, ", out of %.0f", a.Volume)
	}
	b.WriteString(").\n")
	if a.ResolvedAt != nil {
		fmt.Fprintf(&b, "Resolved %s; at its peak it was ×%.2g the baseline.\n", a.ResolvedAt.Format(time.RFC3339), a.PeakRatio)
	}
	if n.ConsoleURL != "" {
		q := url.Values{"store_id": {a.StoreID}}
		fmt.Fprintf(&b, "KPI page: %s/store/kpis.html?%s\n", strings.TrimRight(n.ConsoleURL, "/"), q.Encode())
	}
	fmt.Fprintf(&b, "Alarm %d. Runbook: docs/alarms.md\n", a.ID)
	return b.String()
}

// webhookMessage is Slack's incoming-webhook JSON: text, and one section block
// with the same in mrkdwn.
type webhookMessage struct {
	Text   string         `json:"text"`
	Blocks []webhookBlock `json:"blocks"`
}

type webhookBlock struct {
	Type string       `json:"type"`
	Text *webhookText `json:"text,omitempty"`
}

type webhookText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

func (n *Notifier) postWebhook(ctx context.Context, m records.AlarmNotification) error {
	body, err := json.Marshal(webhookMessage{Text: Title(m), Blocks: []webhookBlock{
		{Type: "section", Text: &webhookText{Type: "mrkdwn", Text: n.Body(m)}},
	}})
	if err != nil {
		return fmt.Errorf("encode the alarm webhook: %w: %w", errPermanent, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("alarm webhook: %w: %w", errPermanent, err)
	}
	req.Header.Set("Content-Type", "application/json")
	client := n.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return fmt.Errorf("alarm webhook: %w", err) // nothing went out: try again
		}
		return fmt.Errorf("alarm webhook: %w: %w", errMaybeSent, err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fmt.Errorf("alarm webhook answered %d: %s", resp.StatusCode, strings.TrimSpace(string(text)))
	default:
		return fmt.Errorf("alarm webhook answered %d: %s: %w", resp.StatusCode, strings.TrimSpace(string(text)), errPermanent)
	}
}

func (n *Notifier) sendEmail(ctx context.Context, m records.AlarmNotification) error {
	_, err := n.Email.SendEmail(ctx, activities.Email{
		NotificationKey: fmt.Sprintf("alarm:%d:%s", m.Alarm.ID, m.Event),
		To:              n.EmailTo, Subject: Title(m), Text: n.Body(m), Locale: "en",
	})
	if err != nil {
		return fmt.Errorf("alarm email to %s: %w", n.EmailTo, err)
	}
	return nil
}
