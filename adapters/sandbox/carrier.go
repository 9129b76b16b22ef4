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

// Carrier is a fake carrier: labels are derived from the idempotency key, so a
// repeated purchase returns the label already bought.
type Carrier struct {
	// TrackingBaseURL is where tracking links point, followed by the tracking code.
	TrackingBaseURL string

	mu     sync.Mutex
	bought map[string]activities.Label
	voided map[string]bool
}

var _ activities.Carrier = (*Carrier)(nil)

// NewCarrier returns a fake carrier whose tracking links start with trackingBaseURL.
func NewCarrier(trackingBaseURL string) *Carrier {
	return &Carrier{TrackingBaseURL: trackingBaseURL, bought: map[string]activities.Label{}, voided: map[string]bool{}}
}

// Name is "sandbox".
func (c *Carrier) Name() string { return CarrierName }

// BuyLabel returns the same label for the same idempotency key. An address whose
// postal code is "00000" is undeliverable and rejected as an invalid request.
func (c *Carrier) BuyLabel(_ context.Context, req activities.LabelRequest) (activities.Label, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if l, ok := c.bought[req.IdempotencyKey]; ok {
		return l, nil
	}
	if strings.TrimSpace(req.To.PostalCode) == "00000" || req.To.Country == "" {
		return activities.Label{}, fmt.Errorf("sandbox label %s: undeliverable address: %w", req.IdempotencyKey, activities.ErrInvalidRequest)
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
