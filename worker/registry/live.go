package registry

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"google.golang.org/api/option"

	"github.com/everywherecommerce/fulfilment/adapters/easypost"
	"github.com/everywherecommerce/fulfilment/adapters/fcm"
	"github.com/everywherecommerce/fulfilment/adapters/postgres"
	"github.com/everywherecommerce/fulfilment/adapters/sendgrid"
	"github.com/everywherecommerce/fulfilment/adapters/stripe"
	"github.com/everywherecommerce/fulfilment/adapters/twilio"
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
	// SMS, when set, sends text messages through Twilio; nil sends none.
	SMS *twilio.Config
	// FCMProjectID, when set, sends app pushes through FCM with the service
	// account key file FCMCredentialsFile (a service account JSON); empty sends none.
	FCMProjectID       string
	FCMCredentialsFile string
	// HTTPTransport, when set, carries the Stripe, EasyPost, SendGrid and
	// Twilio calls (the worker's tracing transport); nil is http.DefaultTransport.
	HTTPTransport http.RoundTripper
}

// providerTimeout bounds one provider call: well inside the activities' 30 s
// StartToClose, so a hung connection fails the attempt and Temporal retries it.
const providerTimeout = 20 * time.Second

// Live builds the real adapters: Stripe for payments, EasyPost for labels (its
// purchases logged in PostgreSQL before buying), SendGrid for email. Each gets an
// HTTP client of its own with a timeout. Twilio for SMS and FCM for push are
// optional: without them customers hear by email only.
func Live(ctx context.Context, cfg LiveConfig, store *postgres.Store) (Providers, error) {
	newClient := func() *http.Client { return &http.Client{Timeout: providerTimeout, Transport: cfg.HTTPTransport} }
	payments, err := stripe.NewPayments(stripe.Config{SecretKey: cfg.StripeSecretKey, HTTPClient: newClient()})
	if err != nil {
		return Providers{}, fmt.Errorf("stripe: %w", err)
	}
	carrier, err := easypost.NewCarrier(easypost.Config{
		APIKey: cfg.EasyPostAPIKey, HTTPClient: newClient(), Rate: cfg.EasyPostRate,
		Parcel:    easypost.Parcel{LengthIn: 12, WidthIn: 9, HeightIn: 4, WeightOzPerItem: 16},
		Purchases: store,
	})
	if err != nil {
		return Providers{}, fmt.Errorf("easypost: %w", err)
	}
	email, err := sendgrid.New(sendgrid.Config{
		APIKey: cfg.SendGridAPIKey, HTTPClient: newClient(),
		FromEmail: cfg.EmailFrom, FromName: cfg.EmailFromName,
	})
	if err != nil {
		return Providers{}, fmt.Errorf("sendgrid: %w", err)
	}
	p := Providers{Payments: payments, Carrier: carrier, Email: email}
	if cfg.SMS != nil {
		smsCfg := *cfg.SMS
		smsCfg.HTTPClient = newClient()
		sms, err := twilio.New(smsCfg)
		if err != nil {
			return Providers{}, err
		}
		p.SMS = sms
	}
	if cfg.FCMProjectID != "" {
		push, err := fcm.New(ctx, cfg.FCMProjectID, option.WithAuthCredentialsFile(option.ServiceAccount, cfg.FCMCredentialsFile))
		if err != nil {
			return Providers{}, err
		}
		p.Push = push
	}
	return p, nil
}
