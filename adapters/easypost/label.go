package easypost

import (
	"context"
	"errors"
	"fmt"
	"strings"

	ep "github.com/EasyPost/easypost-go/v5"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

// BuyLabel buys one label per idempotency key, although EasyPost has no
// idempotency key, in steps that a retry resumes:
//
//  1. the purchase log is read: a recorded shipment is fetched, and returned if it
//     already has a postage label;
//  2. otherwise a shipment is created (reference = the idempotency key) and
//     recorded before anything is bought; the log keeps the first shipment of a
//     key, and the one it returns is the one bought;
//  3. the recorded shipment is bought at the preferred (else cheapest) rate;
//     EasyPost buys a shipment at most once, and a buy it refuses is checked
//     against the shipment, which another attempt may have bought meanwhile;
//  4. a tracker is created unless the bought shipment has one: its public_url is
//     the label's tracking link.
//
// A crash between any two steps therefore leads to exactly one purchase: before
// step 2 records, the retry creates another shipment and never buys the first;
// after it, every retry works on the recorded shipment, which a retry finds bought.
func (c *Carrier) BuyLabel(ctx context.Context, req activities.LabelRequest) (activities.Label, error) {
	key := req.IdempotencyKey
	if key == "" {
		return activities.Label{}, fmt.Errorf("easypost label for order %s: no idempotency key: %w", req.OrderID, activities.ErrInvalidRequest)
	}
	shp, err := c.recordedShipment(ctx, req)
	if err != nil {
		return activities.Label{}, err
	}
	if !purchased(shp) {
		if shp, err = c.buy(ctx, key, shp); err != nil {
			return activities.Label{}, err
		}
	}
	if shp.PostageLabel == nil {
		// Bought, but the label is not ready yet: a retry reads it back, it never buys again.
		return activities.Label{}, fmt.Errorf("easypost label %s: shipment %s bought, label not ready yet", key, shp.ID)
	}
	trackingURL, err := c.trackingURL(ctx, key, shp)
	if err != nil {
		return activities.Label{}, err
	}
	l := activities.Label{
		ShipmentID:   shp.ID,
		TrackingCode: shp.TrackingCode,
		TrackingURL:  trackingURL,
		LabelURL:     shp.PostageLabel.LabelURL,
	}
	if l.LabelURL == "" {
		l.LabelURL = shp.PostageLabel.LabelPDFURL
	}
	if r := shp.SelectedRate; r != nil {
		l.Carrier, l.Service = r.Carrier, r.Service
	}
	return l, nil
}

// recordedShipment returns the one shipment of the key: the one recorded, or a new
// one once it is recorded. When a racing attempt recorded first, its shipment is
// used and the one created here is left unbought.
func (c *Carrier) recordedShipment(ctx context.Context, req activities.LabelRequest) (*ep.Shipment, error) {
	key := req.IdempotencyKey
	id, found, err := c.purchases.Purchase(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("easypost label %s: read purchase log: %w", key, err)
	}
	if found {
		return c.shipment(ctx, id)
	}
	var created *ep.Shipment
	err = c.call(ctx, "create shipment for "+key, func(client *ep.Client) (err error) {
		created, err = client.CreateShipmentWithContext(ctx, c.newShipment(req))
		return err
	})
	if err != nil {
		return nil, err
	}
	if created == nil || created.ID == "" {
		return nil, fmt.Errorf("easypost label %s: created shipment has no ID", key) // retryable: nothing to buy yet
	}
	if err := c.purchases.RecordPurchase(ctx, key, created.ID); err != nil {
		return nil, fmt.Errorf("easypost label %s: record shipment %s: %w", key, created.ID, err)
	}
	if id, found, err = c.purchases.Purchase(ctx, key); err != nil {
		return nil, fmt.Errorf("easypost label %s: read back shipment %s: %w", key, created.ID, err)
	}
	if !found {
		return nil, fmt.Errorf("easypost label %s: read back shipment %s: %w", key, created.ID, errNotRecorded)
	}
	if id == created.ID {
		return created, nil
	}
	return c.shipment(ctx, id)
}

// errNotRecorded: the purchase log lost a record it just accepted. Retryable: the
// next attempt starts from the log again.
var errNotRecorded = errors.New("purchase log has no record")

// newShipment is the shipment to create for a request: both addresses, the default
// parcel weighed by items, and the idempotency key as reference so the shipment
// can be found in EasyPost's dashboard.
func (c *Carrier) newShipment(req activities.LabelRequest) *ep.Shipment {
	items := max(req.Items, 1)
	return &ep.Shipment{
		Reference:   req.IdempotencyKey,
		ToAddress:   address(req.To),
		FromAddress: address(req.From),
		Parcel: &ep.Parcel{Length: c.parcel.LengthIn, Width: c.parcel.WidthIn, Height: c.parcel.HeightIn,
			Weight: c.parcel.WeightOzPerItem * float64(items)},
	}
}

// address maps an order address to EasyPost's.
func address(a domain.Address) *ep.Address {
	return &ep.Address{Name: a.Name, Street1: a.Line1, Street2: a.Line2, Zip: a.PostalCode, City: a.City, Country: a.Country}
}

// purchased reports whether a shipment was bought: EasyPost sets the selected rate
// and the postage label only then.
func purchased(shp *ep.Shipment) bool { return shp.SelectedRate != nil || shp.PostageLabel != nil }

// buy buys the recorded shipment at the chosen rate. EasyPost refuses to buy a
// shipment twice; when it refuses, the shipment is read back, and if a racing
// attempt bought it, that purchase is the answer.
func (c *Carrier) buy(ctx context.Context, key string, shp *ep.Shipment) (*ep.Shipment, error) {
	rate, err := c.chooseRate(shp)
	if err != nil {
		return nil, fmt.Errorf("easypost label %s: shipment %s: %w", key, shp.ID, err)
	}
	var bought *ep.Shipment
	err = c.call(ctx, "buy shipment "+shp.ID+" for "+key, func(client *ep.Client) (err error) {
		bought, err = client.BuyShipmentWithContext(ctx, shp.ID, &rate, "")
		return err
	})
	if errors.Is(err, activities.ErrInvalidRequest) {
		again, getErr := c.shipment(ctx, shp.ID)
		if getErr != nil {
			// Undecided until the shipment can be read: retryable, not the refusal.
			return nil, fmt.Errorf("%v; reading it back: %w", err, getErr)
		}
		if purchased(again) {
			return again, nil
		}
	}
	return bought, err
}

// chooseRate picks the preferred rate, else the cheapest. A shipment without rates
// cannot be bought, and retrying will not add any (the recorded shipment is kept):
// that is an invalid request, with the carriers' message types as the reason
// (their text may quote the address).
func (c *Carrier) chooseRate(shp *ep.Shipment) (ep.Rate, error) {
	var client ep.Client // choosing is local: no request, no key
	if len(shp.Rates) == 0 {
		reasons := make([]string, 0, len(shp.Messages))
		for _, m := range shp.Messages {
			reasons = append(reasons, m.Carrier+" "+m.Type)
		}
		return ep.Rate{}, fmt.Errorf("no rates offered (%s): %w", strings.Join(reasons, ", "), activities.ErrInvalidRequest)
	}
	if p := c.rate; p.Carrier != "" || p.Service != "" {
		if r, err := client.LowestShipmentRateWithCarrierAndService(shp, nonEmpty(p.Carrier), nonEmpty(p.Service)); err == nil {
			return r, nil
		}
	}
	r, err := client.LowestShipmentRate(shp)
	if err != nil {
		return ep.Rate{}, fmt.Errorf("no usable rate: %w: %w", activities.ErrInvalidRequest, err)
	}
	return r, nil
}

// nonEmpty is s as a one-element filter, or no filter when s is empty.
func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// trackingURL is the public tracking page of a bought shipment: from its tracker,
// or from a tracker created now (EasyPost returns the existing tracker for a
// tracking code it already follows, so a retry creates no second one).
func (c *Carrier) trackingURL(ctx context.Context, key string, shp *ep.Shipment) (string, error) {
	if shp.Tracker != nil && shp.Tracker.PublicURL != "" {
		return shp.Tracker.PublicURL, nil
	}
	opts := &ep.CreateTrackerOptions{TrackingCode: shp.TrackingCode}
	if shp.SelectedRate != nil {
		opts.Carrier = shp.SelectedRate.Carrier
	}
	var trk *ep.Tracker
	err := c.call(ctx, "create tracker for "+key, func(client *ep.Client) (err error) {
		trk, err = client.CreateTrackerWithContext(ctx, opts)
		return err
	})
	if err != nil {
		return "", err
	}
	return trk.PublicURL, nil
}
