package sandbox

// Store as an activities.ContactDirectory: customers' contact preferences, read
// and corrected at send time.

import (
	"context"
	"fmt"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

var _ activities.ContactDirectory = (*Store)(nil)

// SetMarketingConsent records a customer's marketing consent, as the checkout or a
// preference centre would.
func (s *Store) SetMarketingConsent(customerID string, consent bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.contacts[customerID]
	if !ok {
		c.Channels = domain.Channels()
	}
	c.MarketingConsent = consent
	s.contacts[customerID] = c
}

// SetContact replaces a customer's contact preferences, as the checkout or the
// preferences API would.
func (s *Store) SetContact(customerID string, c activities.Contact) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.Channels = append([]domain.Channel(nil), c.Channels...)
	s.contacts[customerID] = c
}

// Contact returns the customer's preferences; found=false when there are none.
func (s *Store) Contact(_ context.Context, customerID string) (activities.Contact, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.contacts[customerID]
	c.Channels = append([]domain.Channel(nil), c.Channels...)
	return c, ok, nil
}

// DropPushToken forgets the customer's push token if it is still token.
func (s *Store) DropPushToken(_ context.Context, customerID, token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.contacts[customerID]; ok && c.PushToken == token {
		c.PushToken = ""
		s.contacts[customerID] = c
	}
	return nil
}

// MarkUndeliverable marks a channel ("email" or "sms") of the order's customer as
// undeliverable; an order the store has no stage for wraps ErrNotFound.
func (s *Store) MarkUndeliverable(_ context.Context, orderID string, channel domain.Channel) error {
	if channel != domain.ChannelEmail && channel != domain.ChannelSMS {
		return fmt.Errorf("mark channel %q of order %s undeliverable: %w", channel, orderID, activities.ErrInvalidRequest)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[orderID]
	if !ok {
		return fmt.Errorf("order %s: %w", orderID, activities.ErrNotFound)
	}
	c := s.contacts[o.summary.CustomerID]
	if channel == domain.ChannelEmail {
		c.EmailUndeliverable = true
	} else {
		c.SMSUndeliverable = true
	}
	s.contacts[o.summary.CustomerID] = c
	return nil
}
