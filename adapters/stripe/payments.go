// Package stripe is the live payment provider: it captures, voids and refunds
// PaymentIntents that the checkout service authorized with capture_method=manual,
// through Stripe's API (stripe-go v76, API version 2023-10-16). It maps Stripe's
// errors to the activities sentinels once, here, so that activities never see a
// Stripe type. Its test helpers (a fake Stripe API with recorded responses) are in
// stripetest.
package stripe

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/everywherecommerce/fulfilment/activities"
	stripego "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
)

// maxIdempotencyKeyLen is Stripe's limit; stripe-go refuses longer keys before sending.
const maxIdempotencyKeyLen = 255

// Config is everything the adapter needs. worker/main.go fills it from its
// configuration; the adapter itself never reads the environment.
type Config struct {
	// SecretKey is the secret or restricted API key (sk_live_…, rk_live_…, sk_test_…).
	// A restricted key needs write access to PaymentIntents and Refunds only.
	SecretKey string
	// BackendURL is the API's base URL; empty means Stripe's (https://api.stripe.com).
	// Tests point it at stripe-mock or at a stripetest server.
	BackendURL string
	// HTTPClient carries every request. It must have a Timeout: a hung connection
	// must fail the attempt (Temporal retries it with the same idempotency key)
	// rather than hold the activity until its StartToClose timeout. One client per
	// process, shared by all calls.
	HTTPClient *http.Client
}

// Payments captures, voids and refunds Stripe PaymentIntents. Each call is one
// HTTP request: stripe-go's own network retries are off (MaxNetworkRetries 0)
// because Temporal already retries the activity with the same idempotency key, and
// two retry loops would multiply the attempts and hide them from the workflow
// history. Safe for concurrent use.
type Payments struct {
	api *client.API
}

var _ activities.PaymentProvider = (*Payments)(nil)

// NewPayments builds the adapter from cfg. It fails on a missing key or an HTTP
// client without a timeout, so that a misconfigured worker stops at start-up
// instead of at the first order.
func NewPayments(cfg Config) (*Payments, error) {
	if cfg.SecretKey == "" {
		return nil, errors.New("stripe: secret key is empty")
	}
	if cfg.HTTPClient == nil || cfg.HTTPClient == http.DefaultClient {
		return nil, errors.New("stripe: an *http.Client of its own is required (never http.DefaultClient)")
	}
	if cfg.HTTPClient.Timeout <= 0 {
		return nil, errors.New("stripe: the HTTP client needs a Timeout")
	}
	backendCfg := &stripego.BackendConfig{
		HTTPClient:        cfg.HTTPClient,
		MaxNetworkRetries: stripego.Int64(0),
		// Errors are returned and logged once by whoever handles them; the SDK's
		// own logger would log each one a second time, to stderr.
		LeveledLogger: &stripego.LeveledLogger{Level: stripego.LevelNull},
		// No request metrics (previous request IDs and durations) sent to Stripe.
		EnableTelemetry: stripego.Bool(false),
	}
	if cfg.BackendURL != "" {
		backendCfg.URL = stripego.String(cfg.BackendURL)
	}
	api := client.New(cfg.SecretKey, &stripego.Backends{
		API: stripego.GetBackendWithConfig(stripego.APIBackend, backendCfg),
	})
	return &Payments{api: api}, nil
}

// Capture captures req.Amount of the PaymentIntent (all of it or part: Stripe
// releases the rest of the authorization). The returned ID is the Charge the
// capture settled (latest_charge), or the PaymentIntent's ID when the response
// does not name one; Amount is what Stripe reports as received.
func (p *Payments) Capture(ctx context.Context, req activities.CaptureRequest) (activities.Capture, error) {
	if err := checkRequest(req.PaymentID, req.IdempotencyKey, req.Amount); err != nil {
		return activities.Capture{}, fmt.Errorf("stripe capture %s: %w", req.PaymentID, err)
	}
	params := &stripego.PaymentIntentCaptureParams{AmountToCapture: stripego.Int64(req.Amount)}
	params.Context = ctx
	params.SetIdempotencyKey(req.IdempotencyKey)
	pi, err := p.api.PaymentIntents.Capture(req.PaymentID, params)
	if err != nil {
		return activities.Capture{}, mapError(opCapture, req.PaymentID, err)
	}
	id := pi.ID
	if pi.LatestCharge != nil && pi.LatestCharge.ID != "" {
		id = pi.LatestCharge.ID
	}
	return activities.Capture{ID: id, Amount: pi.AmountReceived}, nil
}

// RefundSourceKey and RefundSource are the metadata every refund of ours carries.
const (
	RefundSourceKey = "source"
	RefundSource    = "fulfilment"
)

// Refund refunds req.Amount of the PaymentIntent's captured amount. Our reason
// ("short-pick", "cancel", …) goes into the refund's metadata as
// fulfilment_reason: Stripe's own reason field only takes its fraud and
// duplicate vocabulary. Metadata source=fulfilment marks the refund as ours, so
// the webhook handler does not mistake it for a refund made outside the order.
func (p *Payments) Refund(ctx context.Context, req activities.RefundRequest) (activities.Refund, error) {
	if err := checkRequest(req.PaymentID, req.IdempotencyKey, req.Amount); err != nil {
		return activities.Refund{}, fmt.Errorf("stripe refund %s: %w", req.PaymentID, err)
	}
	params := &stripego.RefundParams{
		PaymentIntent: stripego.String(req.PaymentID),
		Amount:        stripego.Int64(req.Amount),
	}
	params.AddMetadata(RefundSourceKey, RefundSource)
	if req.Reason != "" {
		params.AddMetadata("fulfilment_reason", req.Reason)
	}
	params.Context = ctx
	params.SetIdempotencyKey(req.IdempotencyKey)
	r, err := p.api.Refunds.New(params)
	if err != nil {
		return activities.Refund{}, mapError(opRefund, req.PaymentID, err)
	}
	return activities.Refund{ID: r.ID, Amount: r.Amount}, nil
}

// Void cancels an uncaptured authorization. A PaymentIntent that is already
// canceled (voided before, or expired, which Stripe also records as canceled)
// counts as voided: the money is released either way, as in the sandbox.
// Voiding a captured payment is ErrInvalidRequest: the caller wanted a refund.
func (p *Payments) Void(ctx context.Context, req activities.VoidRequest) error {
	if err := checkRequest(req.PaymentID, req.IdempotencyKey, 1); err != nil {
		return fmt.Errorf("stripe void %s: %w", req.PaymentID, err)
	}
	params := &stripego.PaymentIntentCancelParams{}
	params.Context = ctx
	params.SetIdempotencyKey(req.IdempotencyKey)
	_, err := p.api.PaymentIntents.Cancel(req.PaymentID, params)
	if err == nil || intentStatus(err) == stripego.PaymentIntentStatusCanceled {
		return nil
	}
	return mapError(opVoid, req.PaymentID, err)
}

// checkRequest refuses, before anything is sent, what Stripe would misread: an
// amount of zero means "everything" to Stripe (amount_to_capture and a refund's
// amount are optional there), and a missing idempotency key would make stripe-go
// invent a new one per attempt, so a retry could capture or refund twice.
func checkRequest(paymentID, idempotencyKey string, amount int64) error {
	switch {
	case paymentID == "":
		return fmt.Errorf("no PaymentIntent ID: %w", activities.ErrInvalidRequest)
	case idempotencyKey == "" || len(idempotencyKey) > maxIdempotencyKeyLen:
		return fmt.Errorf("idempotency key of %d bytes (want 1-%d): %w", len(idempotencyKey), maxIdempotencyKeyLen, activities.ErrInvalidRequest)
	case amount <= 0:
		return fmt.Errorf("amount %d: %w", amount, activities.ErrInvalidRequest)
	}
	return nil
}
