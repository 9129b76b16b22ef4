package sandbox

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/everywherecommerce/fulfilment/activities"
)

// CarrierName is stored with every sandbox shipment; the carrier simulator follows
// the shipments of this provider.
const CarrierName = "sandbox"

// Magic postal codes of the destination address. They make the fake fail the way a
// real carrier API does, so workflows and activities can be tested against those
// failures without a network; the EasyPost test server answers them the same way.
const (
	// PostalCodeUndeliverable is an address no carrier serves: every attempt is
	// rejected with an error wrapping activities.ErrInvalidRequest (EasyPost: 422).
	PostalCodeUndeliverable = "00000"
	// PostalCodeRateLimited answers the first attempt of each idempotency key with an
	// *activities.RetryAfterError of RateLimitRetryAfter, as the payments fake does
	// (EasyPost: 429 with Retry-After); the next attempt buys the label.
	PostalCodeRateLimited = "42900"
	// PostalCodeUnavailable answers the first attempt of each idempotency key with a
	// retryable error and no hint when to retry (EasyPost: 503); the next attempt
	// buys the label.
	PostalCodeUnavailable = "50300"
)

// Carrier is a fake carrier: labels are derived from the idempotency key, so a
// repeated purchase returns the label already bought.
type Carrier struct {
	// TrackingBaseURL is where tracking links point, followed by the tracking code.
	TrackingBaseURL string
	// Faults fail a share of purchases before anything is bought (see Faults).
	Faults Faults

	mu       sync.Mutex
	bought   map[string]activities.Label
	voided   map[string]bool
	attempts map[string]int
}

var _ activities.Carrier = (*Carrier)(nil)

// NewCarrier returns a fake carrier whose tracking links start with trackingBaseURL.
func NewCarrier(trackingBaseURL string) *Carrier {
	return &Carrier{TrackingBaseURL: trackingBaseURL, bought: map[string]activities.Label{},
		voided: map[string]bool{}, attempts: map[string]int{}}
}

// Name is "sandbox".
func (c *Carrier) Name() string { return CarrierName }

// BuyLabel returns the same label for the same idempotency key. The destination's
// postal code selects the failures of a real carrier: PostalCodeUndeliverable (or no
// country) is an invalid request, PostalCodeRateLimited and PostalCodeUnavailable
// fail the first attempt per key with a retryable error.
func (c *Carrier) BuyLabel(_ context.Context, req activities.LabelRequest) (activities.Label, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.Faults.inject("label", req.IdempotencyKey); err != nil {
		return activities.Label{}, err
	}
	if l, ok := c.bought[req.IdempotencyKey]; ok {
		return l, nil
	}
	postalCode := strings.TrimSpace(req.To.PostalCode)
	if postalCode == PostalCodeUndeliverable || req.To.Country == "" {
		return activities.Label{}, fmt.Errorf("sandbox label %s: undeliverable address: %w", req.IdempotencyKey, activities.ErrInvalidRequest)
	}
	c.attempts[req.IdempotencyKey]++
	first := c.attempts[req.IdempotencyKey] == 1
	switch {
	case first && postalCode == PostalCodeRateLimited:
		return activities.Label{}, &activities.RetryAfterError{After: RateLimitRetryAfter,
			Err: fmt.Errorf("sandbox label %s: rate limited (HTTP 429)", req.IdempotencyKey)}
	case first && postalCode == PostalCodeUnavailable:
		return activities.Label{}, fmt.Errorf("sandbox label %s: %w", req.IdempotencyKey, errUnavailable)
	}
	h := shortHash(req.IdempotencyKey)
	code := "SBX" + strings.ToUpper(h[:12])
	l := activities.Label{
		ShipmentID:   "shp_sbx_" + h,
		Carrier:      "SandboxPost",
		Service:      "Standard",
		TrackingCode: code,
		TrackingURL:  c.TrackingBaseURL + code,
		LabelURL:     "sandbox://labels/" + code + ".pdf",
	}
	c.bought[req.IdempotencyKey] = l
	return l, nil
}

// VoidLabel records the label as voided.
func (c *Carrier) VoidLabel(_ context.Context, shipmentID string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.voided[shipmentID] = true
	return nil
}

// Voided reports whether a label was voided, for tests.
func (c *Carrier) Voided(shipmentID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.voided[shipmentID]
}

// LabelsBought counts the labels bought so far (a repeat for a key buys none), so
// tests can prove that retries never pay twice.
func (c *Carrier) LabelsBought() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.bought)
}
