package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

// What the starter's webhook handlers read and write: providers name their own
// objects (a PaymentIntent, a tracking code, a message SID), so each event is
// routed to its order through the rows below.

// WebhookEventSeen reports whether a provider's event was already handled. The
// webhook handlers check it before acting and call RecordWebhookEvent only after
// acting, so that an event whose action failed is retried by the provider.
func (s *Store) WebhookEventSeen(ctx context.Context, provider, eventID string) (bool, error) {
	var seen bool
	err := s.pool.QueryRow(ctx, `select exists (select 1 from webhook_events where provider = $1 and event_id = $2)`,
		provider, eventID).Scan(&seen)
	if err != nil {
		return false, fmt.Errorf("read webhook event %s of %s: %w", eventID, provider, err)
	}
	return seen, nil
}

// RecordPaymentOrder remembers which order a PaymentIntent paid for, so that
// Stripe's events reach the order. It is idempotent: the same pair again changes
// nothing. A PaymentIntent already recorded for another order is refused with
// ErrInvalidRequest, because one payment never pays for two orders and the
// first routing must not be redirected.
func (s *Store) RecordPaymentOrder(ctx context.Context, paymentID, orderID string) error {
	if paymentID == "" || orderID == "" {
		return fmt.Errorf("record payment %q of order %q: %w", paymentID, orderID, activities.ErrInvalidRequest)
	}
	// One statement: the row inserted now, or the one that was there (a retry of
	// this order, or another order's payment).
	var owner string
	err := s.pool.QueryRow(ctx, `
		with ins as (
			insert into payment_orders (payment_id, order_id) values ($1, $2)
			on conflict (payment_id) do nothing
			returning order_id)
		select order_id from ins
		union all
		select order_id from payment_orders where payment_id = $1
		limit 1`, paymentID, orderID).Scan(&owner)
	if errors.Is(err, pgx.ErrNoRows) {
		// A concurrent insert of the same payment committed after this statement's
		// snapshot: read it now.
		owner, err = s.OrderForPayment(ctx, paymentID)
	}
	if err != nil {
		return fmt.Errorf("record payment %s of order %s: %w", paymentID, orderID, err)
	}
	if owner != orderID {
		return fmt.Errorf("payment %s belongs to order %s, not %s: %w", paymentID, owner, orderID, activities.ErrInvalidRequest)
	}
	return nil
}

// OrderForPayment returns the order a PaymentIntent paid for, or an error wrapping
// ErrNotFound (a payment of another system on the same Stripe account).
func (s *Store) OrderForPayment(ctx context.Context, paymentID string) (string, error) {
	var orderID string
	err := s.pool.QueryRow(ctx, `select order_id from payment_orders where payment_id = $1`, paymentID).Scan(&orderID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("payment %s: %w", paymentID, activities.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("read order of payment %s: %w", paymentID, err)
	}
	return orderID, nil
}

// ShipmentForTracking returns the order and purpose of the shipment with a
// tracking code, or an error wrapping ErrNotFound. Codes are unique per carrier,
// not across the table; should two shipments share one, the newest label is the
// one the carrier is reporting on.
func (s *Store) ShipmentForTracking(ctx context.Context, code string) (orderID, purpose string, err error) {
	if code == "" {
		return "", "", fmt.Errorf("shipment with an empty tracking code: %w", activities.ErrNotFound)
	}
	err = s.pool.QueryRow(ctx, `
		select order_id, purpose from shipments where tracking_code = $1
		order by created_at desc, order_id, purpose limit 1`, code).Scan(&orderID, &purpose)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", fmt.Errorf("shipment with tracking code %s: %w", code, activities.ErrNotFound)
	}
	if err != nil {
		return "", "", fmt.Errorf("read shipment with tracking code %s: %w", code, err)
	}
	return orderID, purpose, nil
}

// NotificationByMessageID returns the notification a provider's message ID (a
// Twilio message SID) was recorded for, or an error wrapping ErrNotFound.
func (s *Store) NotificationByMessageID(ctx context.Context, providerMessageID string) (activities.NotificationRecord, error) {
	if providerMessageID == "" {
		return activities.NotificationRecord{}, fmt.Errorf("notification without a message ID: %w", activities.ErrNotFound)
	}
	var key string
	err := s.pool.QueryRow(ctx, `
		select key from notifications where provider_message_id = $1
		order by created_at, key limit 1`, providerMessageID).Scan(&key)
	if errors.Is(err, pgx.ErrNoRows) {
		return activities.NotificationRecord{}, fmt.Errorf("notification of message %s: %w", providerMessageID, activities.ErrNotFound)
	}
	if err != nil {
		return activities.NotificationRecord{}, fmt.Errorf("read notification of message %s: %w", providerMessageID, err)
	}
	return s.notification(ctx, key)
}

// MarkUndeliverable marks a channel ("email" or "sms") of the order's customer as
// undeliverable after the provider reported a bounce or a failed delivery. The
// customer comes from the orders projection; an order not in it is an error
// wrapping ErrNotFound. Marking twice changes nothing.
//
// A customer without preferences gets a row holding only the mark, dated
// -infinity, so that SavePreferences (which keeps the newer of two writes) still
// fills in the address and consent later.
func (s *Store) MarkUndeliverable(ctx context.Context, orderID string, channel domain.Channel) error {
	if channel != domain.ChannelEmail && channel != domain.ChannelSMS {
		return fmt.Errorf("mark channel %q of order %s undeliverable: %w", channel, orderID, activities.ErrInvalidRequest)
	}
	email, sms := channel == domain.ChannelEmail, channel == domain.ChannelSMS
	tag, err := s.pool.Exec(ctx, `
		insert into contact_preferences (customer_id, email_undeliverable, sms_undeliverable, updated_at)
		select customer_id, $2, $3, '-infinity' from orders where order_id = $1
		on conflict (customer_id) do update set
			email_undeliverable = contact_preferences.email_undeliverable or excluded.email_undeliverable,
			sms_undeliverable = contact_preferences.sms_undeliverable or excluded.sms_undeliverable`,
		orderID, email, sms)
	if err != nil {
		return fmt.Errorf("mark channel %s of order %s undeliverable: %w", channel, orderID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("order %s: %w", orderID, activities.ErrNotFound)
	}
	return nil
}
