package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/everywherecommerce/fulfilment/activities"
)

var _ activities.ConsentStore = (*Store)(nil)

// ContactPreferences is how a customer wants to hear from us, kept apart from any
// one order so that consent can change after checkout.
type ContactPreferences struct {
	CustomerID       string
	Email            string
	Phone            string
	Locale           string
	TimeZone         string
	MarketingConsent bool
	UpdatedAt        time.Time
}

// SavePreferences upserts a customer's contact preferences. An older write never
// overwrites a newer one.
func (s *Store) SavePreferences(ctx context.Context, p ContactPreferences) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO contact_preferences (customer_id, email, phone, locale, time_zone, marketing_consent, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (customer_id) DO UPDATE SET
			email = EXCLUDED.email, phone = EXCLUDED.phone, locale = EXCLUDED.locale,
			time_zone = EXCLUDED.time_zone, marketing_consent = EXCLUDED.marketing_consent,
			updated_at = EXCLUDED.updated_at,
			-- a new address may well work: forget that the old one bounced
			email_undeliverable = contact_preferences.email_undeliverable AND contact_preferences.email = EXCLUDED.email,
			sms_undeliverable = contact_preferences.sms_undeliverable AND contact_preferences.phone = EXCLUDED.phone
		WHERE contact_preferences.updated_at <= EXCLUDED.updated_at`,
		p.CustomerID, p.Email, p.Phone, p.Locale, p.TimeZone, p.MarketingConsent, p.UpdatedAt)
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

// Ping checks that PostgreSQL answers, for readiness probes.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping PostgreSQL: %w", err)
	}
	return nil
}
