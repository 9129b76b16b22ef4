package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/jackc/pgx/v5"
)

// Begin writes the notification's guard row in status "sending" before the
// provider is called. If the key exists, nothing is written and the existing row
// comes back with fresh=false: the caller then knows whether it was already sent.
func (s *Store) Begin(ctx context.Context, rec activities.NotificationRecord) (activities.NotificationRecord, bool, error) {
	if rec.Key == "" || rec.OrderID == "" {
		return activities.NotificationRecord{}, false, fmt.Errorf("begin notification %q: %w", rec.Key, activities.ErrInvalidRequest)
	}
	// A failed row (the provider refused it for now) is armed again: this attempt
	// sends. One round trip: the row written (fresh) or, when the key was there and
	// not failed, the row as it was.
	var got activities.NotificationRecord
	var touchpoint string
	var fresh bool
	err := s.pool.QueryRow(ctx, `
		with ins as (
			insert into notifications (key, order_id, touchpoint, channel, status)
			values ($1, $2, $3, $4, $5)
			on conflict (key) do update set status = 'sending' where notifications.status = 'failed'
			returning key, order_id, touchpoint, channel, status, provider_message_id)
		select key, order_id, touchpoint, channel, status, provider_message_id, true from ins
		union all
		select key, order_id, touchpoint, channel, status, provider_message_id, false
		from notifications where key = $1 and not exists (select from ins)`,
		rec.Key, rec.OrderID, string(rec.Touchpoint), string(rec.Channel), activities.NotificationSending,
	).Scan(&got.Key, &got.OrderID, &touchpoint, &got.Channel, &got.Status, &got.ProviderMessageID, &fresh)
	if errors.Is(err, pgx.ErrNoRows) {
		// The key was written by a concurrent attempt that committed after this
		// statement's snapshot: read it now.
		got, err = s.notification(ctx, rec.Key)
		if err != nil {
			return activities.NotificationRecord{}, false, fmt.Errorf("begin notification %s: %w", rec.Key, err)
		}
		return got, false, nil
	}
	if err != nil {
		return activities.NotificationRecord{}, false, fmt.Errorf("begin notification %s: %w", rec.Key, err)
	}
	got.Touchpoint = domain.Touchpoint(touchpoint)
	return got, fresh, nil
}

// notification reads one row of the notifications table.
func (s *Store) notification(ctx context.Context, key string) (activities.NotificationRecord, error) {
	var rec activities.NotificationRecord
	var touchpoint string
	err := s.pool.QueryRow(ctx, `
		select key, order_id, touchpoint, channel, status, provider_message_id
		from notifications where key = $1`, key,
	).Scan(&rec.Key, &rec.OrderID, &touchpoint, &rec.Channel, &rec.Status, &rec.ProviderMessageID)
	if errors.Is(err, pgx.ErrNoRows) {
		return activities.NotificationRecord{}, fmt.Errorf("notification %s: %w", key, activities.ErrNotFound)
	}
	if err != nil {
		return activities.NotificationRecord{}, fmt.Errorf("read notification %s: %w", key, err)
	}
	rec.Touchpoint = domain.Touchpoint(touchpoint)
	return rec, nil
}

// Complete marks the notification sent with the provider's message ID and adds the
// journey entry (kind "notification", key = the notification key, detail
// "<touchpoint> via <channel>") in one transaction. Completing a row already sent
// keeps the first message ID; an unknown key is an error wrapping ErrNotFound.
func (s *Store) Complete(ctx context.Context, key, providerMessageID string) error {
	// One statement, so one round trip and one transaction.
	var n int
	err := s.pool.QueryRow(ctx, `
		with sent as (
			update notifications set
				provider_message_id = case when status = 'sent' then provider_message_id else $2 end,
				sent_at = coalesce(sent_at, now()),
				status = 'sent'
			where key = $1
			returning order_id, touchpoint, channel),
		entry as (
			insert into order_journey (order_id, kind, entry_key, detail, at)
			select order_id, $3, $1, touchpoint || ' via ' || channel, now() from sent
			on conflict (order_id, entry_key) do nothing)
		select count(*) from sent`, key, providerMessageID, activities.EntryNotification,
	).Scan(&n)
	if err == nil && n == 0 {
		err = fmt.Errorf("notification %s: %w", key, activities.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("complete notification %s: %w", key, err)
	}
	return nil
}

// Settle gives a row that was not sent its fate: failed (the next Begin arms it
// again), undeliverable or unconfirmed; the last two add the journey entry
// "<key>:<status>" with the detail in the same transaction. A sent row is never
// changed; an unknown key is an error wrapping ErrNotFound.
func (s *Store) Settle(ctx context.Context, key, status, detail string) error {
	switch status {
	case activities.NotificationFailed, activities.NotificationUndeliverable, activities.NotificationUnconfirmed:
	default:
		return fmt.Errorf("settle notification %s as %q: %w", key, status, activities.ErrInvalidRequest)
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var orderID, was string
		err := tx.QueryRow(ctx, `select order_id, status from notifications where key = $1 for update`, key).Scan(&orderID, &was)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("notification %s: %w", key, activities.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read notification: %w", err)
		}
		if was == activities.NotificationSent {
			return nil
		}
		if _, err := tx.Exec(ctx, `update notifications set status = $2, detail = $3 where key = $1`, key, status, detail); err != nil {
			return fmt.Errorf("update notification: %w", err)
		}
		if status == activities.NotificationFailed {
			return nil
		}
		if _, err := tx.Exec(ctx, `
			insert into order_journey (order_id, kind, entry_key, detail, at)
			values ($1, $2, $3, $4, now())
			on conflict (order_id, entry_key) do nothing`,
			orderID, activities.EntryNotification, key+":"+status, detail); err != nil {
			return fmt.Errorf("insert journey entry: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("settle notification %s as %s: %w", key, status, err)
	}
	return nil
}
