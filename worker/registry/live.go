package registry

import (
	"fmt"
	"net/http"
	"time"

	"github.com/everywherecommerce/fulfilment/adapters/easypost"
	"github.com/everywherecommerce/fulfilment/adapters/postgres"
	"github.com/everywherecommerce/fulfilment/adapters/sendgrid"
	"github.com/everywherecommerce/fulfilment/adapters/stripe"
)

// LiveConfig holds the credentials of the live providers; worker/main.go fills it
// from the environment and refuses to start, naming every missing variable, when
// one is absent.
type LiveConfig struct {
	StripeSecretKey string
	EasyPostAPIKey  string
	EasyPostRate    easypost.RatePreference
	SendGridAPIKey  string
	EmailFrom       string
	EmailFromName   string
}

// providerTimeout bounds one provider call: well inside the activities' 30 s
// StartToClose, so a hung connection fails the attempt and Temporal retries it.
const providerTimeout = 20 * time.Second

// Live builds the real adapters: Stripe for payments, EasyPost for labels (its
// purchases logged in PostgreSQL before buying), SendGrid for email. Each gets an
// HTTP client of its own with a timeout.
func Live(cfg LiveConfig, store *postgres.Store) (Providers, error) {
	payments, err := stripe.NewPayments(stripe.Config{SecretKey: cfg.StripeSecretKey, HTTPClient: &http.Client{Timeout: providerTimeout}})
	if err != nil {
		return Providers{}, fmt.Errorf("stripe: %w", err)
	}
	carrier, err := easypost.NewCarrier(easypost.Config{
		APIKey: cfg.EasyPostAPIKey, HTTPClient: &http.Client{Timeout: providerTimeout}, Rate: cfg.EasyPostRate,
		Parcel:    easypost.Parcel{LengthIn: 12, WidthIn: 9, HeightIn: 4, WeightOzPerItem: 16},
		Purchases: store,
	})
	if err != nil {
		return Providers{}, fmt.Errorf("easypost: %w", err)
	}
	email, err := sendgrid.New(sendgrid.Config{
		APIKey: cfg.SendGridAPIKey, HTTPClient: &http.Client{Timeout: providerTimeout},
		FromEmail: cfg.EmailFrom, FromName: cfg.EmailFromName,
	})
	if err != nil {
		return Providers{}, fmt.Errorf("sendgrid: %w", err)
	}
	return Providers{Payments: payments, Carrier: carrier, Email: email}, nil
}
