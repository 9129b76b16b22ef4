package sandbox

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
)

// SentEmail is an email the fake "sent", and when (by the Now clock).
type SentEmail struct {
	MessageID string
	At        time.Time
	activities.Email
}

// Email is a fake email provider. Every email is kept in memory and handed to the
// optional Deliver function (make run writes them to the outbox table that the
// starter shows at /dev/outbox).
type Email struct {
	// Deliver, when set, receives every sent email; an error fails the send.
	Deliver func(ctx context.Context, e SentEmail) error
	// Now stamps sent emails; time.Now unless set (tests pass a virtual clock).
	Now func() time.Time

	mu   sync.Mutex
	sent []SentEmail
}

var _ activities.EmailSender = (*Email)(nil)

// SendEmail "sends" the email. An address at bounce.invalid is rejected as an
// invalid request, as a provider rejects a malformed recipient.
func (s *Email) SendEmail(ctx context.Context, e activities.Email) (string, error) {
	if strings.HasSuffix(e.To, "@bounce.invalid") {
		return "", fmt.Errorf("sandbox email %s: recipient rejected: %w", e.NotificationKey, activities.ErrInvalidRequest)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	m := SentEmail{MessageID: "sbx-msg-" + shortHash(e.NotificationKey), At: now(), Email: e}
	if s.Deliver != nil {
		if err := s.Deliver(ctx, m); err != nil {
			return "", fmt.Errorf("sandbox email %s: deliver: %w", e.NotificationKey, err)
		}
	}
	s.mu.Lock()
	s.sent = append(s.sent, m)
	s.mu.Unlock()
	return m.MessageID, nil
}

// Sent returns every email sent so far, oldest first.
func (s *Email) Sent() []SentEmail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SentEmail(nil), s.sent...)
}
