package sandbox

// Store as an activities.NotificationLog: one row per notification key, written
// before the provider is called and settled after it.

import (
	"context"
	"fmt"
	"sort"

	"github.com/everywherecommerce/fulfilment/activities"
)

var _ activities.NotificationLog = (*Store)(nil)

// Begin writes the notification row in status "sending", or returns the existing
// row with fresh=false; a failed row is set to "sending" again (fresh=true).
func (s *Store) Begin(_ context.Context, rec activities.NotificationRecord) (activities.NotificationRecord, bool, error) {
	if rec.Key == "" || rec.OrderID == "" {
		return activities.NotificationRecord{}, false, fmt.Errorf("begin notification %q: %w", rec.Key, activities.ErrInvalidRequest)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.notifications[rec.Key]; ok {
		if old.Status != activities.NotificationFailed {
			return old, false, nil
		}
		old.Status = activities.NotificationSending
		s.notifications[rec.Key] = old
		return old, true, nil
	}
	rec.Status, rec.ProviderMessageID = activities.NotificationSending, ""
	s.notifications[rec.Key] = rec
	return rec, true, nil
}

// Complete marks the notification sent (keeping the first message ID) and adds the
// journey entry "<touchpoint> via <channel>"; an unknown key wraps ErrNotFound.
func (s *Store) Complete(_ context.Context, key, providerMessageID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.notifications[key]
	if !ok {
		return fmt.Errorf("complete notification %s: %w", key, activities.ErrNotFound)
	}
	if rec.Status != activities.NotificationSent {
		rec.Status, rec.ProviderMessageID = activities.NotificationSent, providerMessageID
		s.notifications[key] = rec
	}
	s.addEntry(activities.JourneyEntry{OrderID: rec.OrderID, Kind: activities.EntryNotification, Key: key,
		Detail: string(rec.Touchpoint) + " via " + string(rec.Channel), At: storeTime(s.now())})
	return nil
}

// Settle gives an unsent row its fate; undeliverable and unconfirmed add a journey
// entry "<key>:<status>". A sent row is never changed.
func (s *Store) Settle(_ context.Context, key, status, detail string) error {
	switch status {
	case activities.NotificationFailed, activities.NotificationUndeliverable, activities.NotificationUnconfirmed:
	default:
		return fmt.Errorf("settle notification %s as %q: %w", key, status, activities.ErrInvalidRequest)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.notifications[key]
	if !ok {
		return fmt.Errorf("settle notification %s: %w", key, activities.ErrNotFound)
	}
	if rec.Status == activities.NotificationSent {
		return nil
	}
	rec.Status = status
	s.notifications[key] = rec
	if status != activities.NotificationFailed {
		s.addEntry(activities.JourneyEntry{OrderID: rec.OrderID, Kind: activities.EntryNotification, Key: key + ":" + status,
			Detail: detail, At: storeTime(s.now())})
	}
	return nil
}

// Notifications returns every notification row, by key.
func (s *Store) Notifications() []activities.NotificationRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]activities.NotificationRecord, 0, len(s.notifications))
	for _, rec := range s.notifications {
		out = append(out, rec)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}
