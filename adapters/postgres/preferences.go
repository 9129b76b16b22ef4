package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

var _ activities.ContactDirectory = (*Store)(nil)

// allChannels are the channels a customer allows unless they say otherwise.
var allChannels = []string{string(domain.ChannelEmail), string(domain.ChannelSMS), string(domain.ChannelPush)}

// SavePreferences upserts a customer's contact preferences. An older write never
// overwrites a newer one.
func (s *Store) SavePreferences(ctx context.Context, p records.ContactPreferences) error {
	channels := p.Channels
	if len(channels) == 0 {
		channels = allChannels
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO contact_preferences (customer_id, email, phone, locale, time_zone, marketing_consent, push_token, channels, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (customer_id) DO UPDATE SET
			email = EXCLUDED.email, phone = EXCLUDED.phone, locale = EXCLUDED.locale,
			time_zone = EXCLUDED.time_zone, marketing_consent = EXCLUDED.marketing_consent,
			push_token = CASE WHEN $10 AND EXCLUDED.push_token = '' THEN contact_preferences.push_token ELSE EXCLUDED.push_token END,
			channels = CASE WHEN $10 AND $11 THEN contact_preferences.channels ELSE EXCLUDED.channels END,
			updated_at = EXCLUDED.updated_at,
			-- a new address may well work: forget that the old one bounced
			email_undeliverable = contact_preferences.email_undeliverable AND contact_preferences.email = EXCLUDED.email,
			sms_undeliverable = contact_preferences.sms_undeliverable AND contact_preferences.phone = EXCLUDED.phone
		WHERE contact_preferences.updated_at <= EXCLUDED.updated_at`,
		p.CustomerID, p.Email, p.Phone, p.Locale, p.TimeZone, p.MarketingConsent, p.PushToken, channels, p.UpdatedAt,
		p.FromCheckout, len(p.Channels) == 0)
	if err != nil {
		return fmt.Errorf("save preferences of %s: %w", p.CustomerID, err)
	}
	return nil
}

// MarketingConsent reads the customer's consent now; no preferences means no consent.
func (s *Store) MarketingConsent(ctx context.Context, customerID string) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT marketing_consent FROM contact_preferences WHERE customer_id = $1`, customerID).Scan(&ok)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read consent of %s: %w", customerID, err)
	}
	return ok, nil
}

// Contact returns the customer's contact preferences as the notifications read
// them at send time; found=false when the customer has none.
func (s *Store) Contact(ctx context.Context, customerID string) (activities.Contact, bool, error) {
	var c activities.Contact
	err := s.pool.QueryRow(ctx, `
		SELECT email, phone, push_token, locale, time_zone, channels, marketing_consent,
			email_undeliverable, sms_undeliverable
		FROM contact_preferences WHERE customer_id = $1`, customerID,
	).Scan(&c.Email, &c.Phone, &c.PushToken, &c.Locale, &c.TimeZone, &c.Channels, &c.MarketingConsent,
		&c.EmailUndeliverable, &c.SMSUndeliverable)
	if errors.Is(err, pgx.ErrNoRows) {
		return activities.Contact{}, false, nil
	}
	if err != nil {
		return activities.Contact{}, false, fmt.Errorf("read contact preferences of %s: %w", customerID, err)
	}
	return c, true, nil
}

// Preferences returns the customer's contact preferences, or an error wrapping
// ErrNotFound.
func (s *Store) Preferences(ctx context.Context, customerID string) (records.ContactPreferences, error) {
	p := records.ContactPreferences{CustomerID: customerID}
	err := s.pool.QueryRow(ctx, `
		SELECT email, phone, push_token, locale, time_zone, channels, marketing_consent, updated_at
		FROM contact_preferences WHERE customer_id = $1`, customerID,
	).Scan(&p.Email, &p.Phone, &p.PushToken, &p.Locale, &p.TimeZone, &p.Channels, &p.MarketingConsent, &p.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return records.ContactPreferences{}, fmt.Errorf("preferences of %s: %w", customerID, activities.ErrNotFound)
	}
	if err != nil {
		return records.ContactPreferences{}, fmt.Errorf("read preferences of %s: %w", customerID, err)
	}
	return p, nil
}

// DropPushToken forgets the customer's push token if it is still token (FCM said
// the app is gone); a token registered since is kept.
func (s *Store) DropPushToken(ctx context.Context, customerID, token string) error {
	_, err := s.pool.Exec(ctx, `
		UPDATE contact_preferences SET push_token = '' WHERE customer_id = $1 AND push_token = $2 AND $2 <> ''`,
		customerID, token)
	if err != nil {
		return fmt.Errorf("drop push token of %s: %w", customerID, err)
	}
	return nil
}

// WithdrawConsent withdraws a customer's marketing consent (the unsubscribe link).
// A customer without preferences gets a row that says so; withdrawing twice
// changes nothing.
func (s *Store) WithdrawConsent(ctx context.Context, customerID string, at time.Time) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO contact_preferences (customer_id, marketing_consent, updated_at) VALUES ($1, false, $2)
		ON CONFLICT (customer_id) DO UPDATE SET marketing_consent = false,
			updated_at = greatest(contact_preferences.updated_at, EXCLUDED.updated_at)`, customerID, at)
	if err != nil {
		return fmt.Errorf("withdraw consent of %s: %w", customerID, err)
	}
	return nil
}

// Recommendations returns the names of at most limit products recommended for
// the SKUs, best rank first, leaving out the SKUs themselves and unnamed rows.
func (s *Store) Recommendations(ctx context.Context, skus []string, limit int) ([]string, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT name FROM (
			SELECT DISTINCT ON (recommended_sku) recommended_sku, name, rank
			FROM recommendations
			WHERE sku = ANY($1) AND NOT recommended_sku = ANY($1) AND name <> ''
			ORDER BY recommended_sku, rank
		) r ORDER BY rank, recommended_sku LIMIT $2`, skus, limit)
	if err != nil {
		return nil, fmt.Errorf("read recommendations: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read recommendations: %w", err)
	}
	return names, nil
}

// Ping checks that PostgreSQL answers, for readiness probes.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping PostgreSQL: %w", err)
	}
	return nil
}
