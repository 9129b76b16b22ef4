package activities

import (
	"context"
	"fmt"

	"github.com/everywherecommerce/fulfilment/domain"
)

// Label purposes: part of the idempotency key and of the shipments row's key.
const (
	PurposeHomeDelivery  = "home-delivery"
	PurposeStoreTransfer = "store-transfer"
)

// LabelRequest asks the carrier for a label from a location to an address.
type LabelRequest struct {
	OrderID string         `json:"order_id"`
	Purpose string         `json:"purpose"`
	From    domain.Address `json:"from"`
	To      domain.Address `json:"to"`
	Items   int            `json:"items"`
	// IdempotencyKey is "<order_id>:label:<purpose>".
	IdempotencyKey string `json:"idempotency_key"`
}

// Label is a bought shipping label with its tracking details.
type Label struct {
	ShipmentID   string `json:"shipment_id"`
	Carrier      string `json:"carrier"`
	Service      string `json:"service"`
	TrackingCode string `json:"tracking_code"`
	TrackingURL  string `json:"tracking_url"`
	LabelURL     string `json:"label_url"`
}

// Carrier buys and voids shipping labels.
type Carrier interface {
	// Name is the carrier adapter's name as stored with each shipment ("sandbox", "easypost").
	Name() string
	// BuyLabel buys a label once per idempotency key: a repeated call returns the
	// label already bought.
	BuyLabel(ctx context.Context, req LabelRequest) (Label, error)
	// VoidLabel asks for a refund of an unused label.
	VoidLabel(ctx context.Context, shipmentID string) error
}

// Shipment is a bought label as recorded against its order.
type Shipment struct {
	OrderID  string `json:"order_id"`
	Purpose  string `json:"purpose"`
	Provider string `json:"provider"`
	Label    Label  `json:"label"`
}

// ShipmentStore records bought labels, so tracking events can be routed to orders.
type ShipmentStore interface {
	// SaveShipment is idempotent per (order, purpose).
	SaveShipment(ctx context.Context, s Shipment) error
}

// Shipping groups the carrier activities.
type Shipping struct {
	Carrier   Carrier
	Shipments ShipmentStore
	Locations LocationDirectory
	Metrics   Metrics // nil: NoMetrics
}

// BuyLabelRequest is the input of BuyLabel: from a location to an address, or to
// another location (a store transfer) when ToLocationID is set.
type BuyLabelRequest struct {
	OrderID        string         `json:"order_id"`
	Purpose        string         `json:"purpose"`
	FromLocationID string         `json:"from_location_id"`
	ToLocationID   string         `json:"to_location_id,omitempty"`
	To             domain.Address `json:"to"`
	Items          int            `json:"items"`
}

// BuyLabel buys the label for an order's shipment and records it. The idempotency
// key "<order_id>:label:<purpose>" keeps a retry from buying a second label.
func (a *Shipping) BuyLabel(ctx context.Context, req BuyLabelRequest) (Label, error) {
	from, err := a.Locations.Location(ctx, req.FromLocationID)
	if err != nil {
		return Label{}, classify(fmt.Errorf("buy label for order %s: %w", req.OrderID, err))
	}
	to := req.To
	if req.ToLocationID != "" {
		dest, err := a.Locations.Location(ctx, req.ToLocationID)
		if err != nil {
			return Label{}, classify(fmt.Errorf("buy label for order %s: %w", req.OrderID, err))
		}
		to = dest.Address
	}
	label, err := a.Carrier.BuyLabel(ctx, LabelRequest{
		OrderID:        req.OrderID,
		Purpose:        req.Purpose,
		From:           from.Address,
		To:             to,
		Items:          req.Items,
		IdempotencyKey: req.OrderID + ":label:" + req.Purpose,
	})
	if err != nil {
		return Label{}, classify(fmt.Errorf("buy label %s:label:%s: %w", req.OrderID, req.Purpose, err))
	}
	s := Shipment{OrderID: req.OrderID, Purpose: req.Purpose, Provider: a.Carrier.Name(), Label: label}
	if err := a.Shipments.SaveShipment(ctx, s); err != nil {
		return Label{}, classify(fmt.Errorf("save shipment for order %s: %w", req.OrderID, err))
	}
	metricsOr(a.Metrics).LabelBought(req.Purpose)
	return label, nil
}

// VoidLabel asks the carrier to refund a label that was never used (the order was
// cancelled before the parcel moved).
func (a *Shipping) VoidLabel(ctx context.Context, shipmentID string) error {
	if err := a.Carrier.VoidLabel(ctx, shipmentID); err != nil {
		return classify(fmt.Errorf("void label %s: %w", shipmentID, err))
	}
	return nil
}
