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

// Carrier is a fake carrier: labels are derived from the idempotency key and kept
// in its LabelLedger (the worker's memory unless WithLabelLedger says otherwise),
// so a repeated purchase returns the label already bought.
type Carrier struct {
	// TrackingBaseURL is where tracking links point, followed by the tracking code.
	TrackingBaseURL string
	// Faults fail a share of purchases before anything is bought (see Faults).
	Faults Faults

	ledger LabelLedger

	mu       sync.Mutex
	attempts map[string]int // attempts per idempotency key, for the first-attempt magic values
}

var _ activities.Carrier = (*Carrier)(nil)

// CarrierOption configures NewCarrier; options keep NewCarrier(url) as it was for
// the callers that need none.
type CarrierOption func(*Carrier)

// WithLabelLedger keeps bought and voided labels in l instead of the worker's
// memory: with postgres.SandboxLedger a purchase repeated after a worker restart,
// or by another worker process, returns the label already bought. The
// first-attempt magic postal codes still count attempts in memory.
func WithLabelLedger(l LabelLedger) CarrierOption {
	return func(c *Carrier) { c.ledger = l }
}

// NewCarrier returns a fake carrier whose tracking links start with
// trackingBaseURL; without WithLabelLedger it starts empty and remembers in memory.
func NewCarrier(trackingBaseURL string, opts ...CarrierOption) *Carrier {
	c := &Carrier{TrackingBaseURL: trackingBaseURL, ledger: newMemoryLabelLedger(), attempts: map[string]int{}}
	for _, opt := range opts {
		opt(c)
	}
	return c
}

// Name is "sandbox".
func (c *Carrier) Name() string { return CarrierName }

// BuyLabel returns the same label for the same idempotency key. The destination's
// postal code selects the failures of a real carrier: PostalCodeUndeliverable (or no
// country) is an invalid request, PostalCodeRateLimited and PostalCodeUnavailable
// fail the first attempt per key with a retryable error.
func (c *Carrier) BuyLabel(ctx context.Context, req activities.LabelRequest) (activities.Label, error) {
	if err := c.Faults.inject(ctx, "label", req.IdempotencyKey); err != nil {
		return activities.Label{}, err
	}
	l, bought, err := c.ledger.Label(ctx, req.IdempotencyKey)
	if err != nil {
		return activities.Label{}, fmt.Errorf("sandbox label %s: %w", req.IdempotencyKey, err)
	}
	if bought {
		return l, nil
	}
	postalCode := strings.TrimSpace(req.To.PostalCode)
	if postalCode == PostalCodeUndeliverable || req.To.Country == "" {
		return activities.Label{}, fmt.Errorf("sandbox label %s: undeliverable address: %w", req.IdempotencyKey, activities.ErrInvalidRequest)
	}
	c.mu.Lock()
	c.attempts[req.IdempotencyKey]++
	first := c.attempts[req.IdempotencyKey] == 1
	c.mu.Unlock()
	switch {
	case first && postalCode == PostalCodeRateLimited:
		return activities.Label{}, &activities.RetryAfterError{After: RateLimitRetryAfter,
			Err: fmt.Errorf("sandbox label %s: rate limited (HTTP 429)", req.IdempotencyKey)}
	case first && postalCode == PostalCodeUnavailable:
		return activities.Label{}, fmt.Errorf("sandbox label %s: %w", req.IdempotencyKey, errUnavailable)
	}
	h := shortHash(req.IdempotencyKey)
	code := TrackingCode(req.IdempotencyKey)
	l, err = c.ledger.RecordLabel(ctx, req.IdempotencyKey, activities.Label{
		ShipmentID:   "shp_sbx_" + h,
		Carrier:      "SandboxPost",
		Service:      "Standard",
		TrackingCode: code,
		TrackingURL:  c.TrackingBaseURL + code,
		LabelURL:     "sandbox://labels/" + code + ".pdf",
	})
	if err != nil {
		return activities.Label{}, fmt.Errorf("sandbox label %s: %w", req.IdempotencyKey, err)
	}
	return l, nil
}

// VoidLabel records the label as voided.
func (c *Carrier) VoidLabel(ctx context.Context, shipmentID string) error {
	if err := c.ledger.VoidLabel(ctx, shipmentID); err != nil {
		return fmt.Errorf("sandbox void label %s: %w", shipmentID, err)
	}
	return nil
}

// Voided reports whether a label was voided, for tests. A ledger that cannot be
// read panics (see Payments.Captured).
func (c *Carrier) Voided(shipmentID string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), ledgerReadTimeout)
	defer cancel()
	v, err := c.ledger.LabelVoided(ctx, shipmentID)
	if err != nil {
		panic(fmt.Sprintf("sandbox: read label %s from the ledger: %v", shipmentID, err))
	}
	return v
}

// LabelsBought counts the labels bought so far (a repeat for a key buys none), so
// tests can prove that retries never pay twice. With a shared ledger it counts
// every label in the ledger, whichever Carrier bought it. A ledger that cannot be
// read panics (see Payments.Captured).
func (c *Carrier) LabelsBought() int {
	ctx, cancel := context.WithTimeout(context.Background(), ledgerReadTimeout)
	defer cancel()
	n, err := c.ledger.LabelsBought(ctx)
	if err != nil {
		panic(fmt.Sprintf("sandbox: count labels in the ledger: %v", err))
	}
	return n
}

// TrackingCode is the tracking code of the sandbox label bought with
// idempotencyKey: the same key, the same label.
func TrackingCode(idempotencyKey string) string {
	return "SBX" + strings.ToUpper(shortHash(idempotencyKey)[:12])
}
