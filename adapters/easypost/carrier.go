// Package easypost is the carrier adapter for EasyPost (easypost-go v5): it buys
// shipping labels, creates their trackers and voids unused labels, and maps
// EasyPost's errors to the activities sentinels once, here.
//
// EasyPost has no idempotency keys, so a label is bought in steps (create the
// shipment, record it in a PurchaseLog, buy the recorded shipment, create its
// tracker) that a retry can resume; see Carrier.BuyLabel.
package easypost

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	ep "github.com/EasyPost/easypost-go/v5"

	"github.com/everywherecommerce/fulfilment/activities"
)

// ProviderName is stored with every shipment bought through this adapter, so that
// tracking webhooks and voids find their way back to EasyPost.
const ProviderName = "easypost"

// DefaultBaseURL is EasyPost's production API. The key decides test or live mode;
// tests point the adapter at a local fake instead.
const DefaultBaseURL = "https://api.easypost.com/v2/"

// RatePreference picks the carrier service to buy among the rates EasyPost offers
// for a shipment, e.g. {Carrier: "DHLExpress", Service: "ExpressWorldwide"}: the
// cheapest rate matching every non-empty field wins. When no rate matches (the
// service does not serve that route) or the preference is empty, the cheapest rate
// of all is bought: an order that ships slower beats one that does not ship.
type RatePreference struct {
	// Carrier is EasyPost's carrier name ("DHLExpress", "UPS", "USPS").
	Carrier string
	// Service is the carrier's service name as EasyPost spells it ("ExpressWorldwide").
	Service string
}

// Parcel is the box every label is bought for, in EasyPost's units (inches and
// ounces). Orders carry no weights or sizes yet, so the weight is estimated per
// item: WeightOzPerItem × the request's items (at least one).
type Parcel struct {
	LengthIn, WidthIn, HeightIn float64
	// WeightOzPerItem is the weight of one packed item, box share included.
	WeightOzPerItem float64
}

// Config is everything the adapter needs; worker/main.go fills it from the
// environment, the adapter never reads it.
type Config struct {
	// APIKey is the EasyPost API key, sent as the Basic auth user.
	APIKey string
	// BaseURL is the API root ending in /v2/; empty means DefaultBaseURL.
	BaseURL string
	// HTTPClient must have a Timeout: the SDK otherwise sets its own 60 s.
	HTTPClient *http.Client
	// Rate chooses the service to buy; empty means the cheapest.
	Rate RatePreference
	// Parcel is the default box.
	Parcel Parcel
	// Purchases records the shipment of each idempotency key before it is bought.
	Purchases PurchaseLog
}

// Carrier buys and voids labels through EasyPost. It is safe for concurrent use:
// every request runs on an SDK client of its own (the SDK writes to its
// http.Client on each request).
type Carrier struct {
	apiKey    string
	baseURL   *url.URL
	http      http.Client
	rate      RatePreference
	parcel    Parcel
	purchases PurchaseLog
}

var _ activities.Carrier = (*Carrier)(nil)

// NewCarrier checks cfg and returns the adapter. It fails on a missing key, a base
// URL that is not absolute, an HTTP client without a timeout, a parcel without a
// size or weight and a missing purchase log: each would only show at the first
// order otherwise.
func NewCarrier(cfg Config) (*Carrier, error) {
	var problems []error
	if cfg.APIKey == "" {
		problems = append(problems, errors.New("no API key"))
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	if !strings.HasSuffix(base, "/") {
		base += "/" // the SDK resolves "shipments" against it
	}
	u, err := url.Parse(base)
	if err != nil || !u.IsAbs() {
		problems = append(problems, fmt.Errorf("base URL %q is not an absolute URL", cfg.BaseURL))
	}
	if cfg.HTTPClient == nil || cfg.HTTPClient.Timeout <= 0 {
		problems = append(problems, errors.New("HTTP client without a timeout"))
	}
	p := cfg.Parcel
	if p.LengthIn <= 0 || p.WidthIn <= 0 || p.HeightIn <= 0 || p.WeightOzPerItem <= 0 {
		problems = append(problems, fmt.Errorf("parcel %+v needs positive dimensions and weight", p))
	}
	if cfg.Purchases == nil {
		problems = append(problems, errors.New("no purchase log"))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("easypost carrier: %w", errors.Join(problems...))
	}
	return &Carrier{apiKey: cfg.APIKey, baseURL: u, http: *cfg.HTTPClient, rate: cfg.Rate,
		parcel: p, purchases: cfg.Purchases}, nil
}

// Name is "easypost".
func (c *Carrier) Name() string { return ProviderName }

// VoidLabel asks EasyPost to refund an unused label. A retried void finds the
// refund already requested, which EasyPost refuses to request again: the shipment
// is then read back, and a refund already submitted or done counts as success.
func (c *Carrier) VoidLabel(ctx context.Context, shipmentID string) error {
	err := c.call(ctx, "refund shipment "+shipmentID, func(client *ep.Client) error {
		_, err := client.RefundShipmentWithContext(ctx, shipmentID)
		return err
	})
	if errors.Is(err, activities.ErrInvalidRequest) {
		shp, getErr := c.shipment(ctx, shipmentID)
		if getErr != nil {
			// Undecided until the shipment can be read: retryable, not the refusal.
			return fmt.Errorf("%v; reading it back: %w", err, getErr)
		}
		if s := shp.RefundStatus; s == "submitted" || s == "refunded" {
			return nil
		}
	}
	return err
}

// shipment reads a shipment back, with its rates, label and tracker.
func (c *Carrier) shipment(ctx context.Context, id string) (*ep.Shipment, error) {
	var shp *ep.Shipment
	err := c.call(ctx, "get shipment "+id, func(client *ep.Client) (err error) {
		shp, err = client.GetShipmentWithContext(ctx, id)
		return err
	})
	return shp, err
}

// call runs one EasyPost request on an SDK client of its own and maps its error.
// The SDK's errors carry the status but no headers, so a response hook keeps the
// Retry-After header of this request for mapError.
func (c *Carrier) call(ctx context.Context, op string, do func(*ep.Client) error) error {
	var retryAfter string
	hc := c.http // the SDK sets Timeout on its http.Client at every request: a copy per call keeps that write private
	client := &ep.Client{APIKey: c.apiKey, BaseURL: c.baseURL, Client: &hc, Timeout: int(c.http.Timeout / time.Millisecond)}
	client.Hooks.AddResponseEventSubscriber(ep.ResponseHookEventSubscriber{
		HookEventSubscriber: ep.HookEventSubscriber{ID: "retry-after"},
		Callback: func(_ context.Context, ev ep.ResponseHookEvent) error {
			retryAfter = http.Header(ev.Headers).Get("Retry-After")
			return nil
		},
	})
	if err := do(client); err != nil {
		return mapError("easypost "+op, err, retryAfter, time.Now())
	}
	return nil
}
