package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/everywherecommerce/fulfilment/domain"
)

// CheckoutRequest reserves an order's stock and captures its payment.
type CheckoutRequest struct {
	Reserve ReserveRequest `json:"reserve"`
	Capture CaptureRequest `json:"capture"`
	// PickupStoreID, when set, is where a ship-to-store customer collects; the
	// promised ready time follows its opening hours.
	PickupStoreID string    `json:"pickup_store_id,omitempty"`
	PlacedAt      time.Time `json:"placed_at"`
	// StoreReadyLead is the time from checkout (or from a transfer's arrival) to
	// ready; TransferDays the store's opening days a transfer takes.
	StoreReadyLead time.Duration `json:"store_ready_lead"`
	TransferDays   int           `json:"transfer_days"`
	// Captured are the stages recorded in the projection once the payment is
	// captured (accepted, payment_captured; with the reserving location, the
	// promised time and the amount captured filled in), so that the order is
	// known to staff and support from the checkout's answer on.
	Captured []StageChange `json:"captured,omitempty"`
}

// CheckoutOutcome is what happened: short lines, a payment failure (its error
// type; PaymentFailureOf says how the order ends) or a capture with the promised
// ready time.
type CheckoutOutcome struct {
	Reservation     Reservation `json:"reservation"`
	Capture         *Capture    `json:"capture,omitempty"`
	PaymentFailure  string      `json:"payment_failure,omitempty"`
	PromisedReadyAt *time.Time  `json:"promised_ready_at,omitempty"`
}

// Checkout is the checkout activity: stock and payment in one step, so that a
// checkout costs one Temporal Action, not three.
type Checkout struct {
	Stock     StockStore
	Payments  PaymentProvider
	Locations LocationDirectory
	Journey   JourneyStore
	Metrics   Metrics // nil: NoMetrics
}

// CheckOut reserves the order's stock, then captures the payment. A shortage or a
// declined payment is an outcome, not an error; on a payment failure the stock is
// released again. Every step is idempotent (reservation per order, capture per
// idempotency key "<order_id>:capture"), so a retry after a crash between any two
// steps ends in the same state.
func (a *Checkout) CheckOut(ctx context.Context, req CheckoutRequest) (CheckoutOutcome, error) {
	orderID := req.Reserve.OrderID
	res, err := a.Stock.Reserve(ctx, req.Reserve)
	if err != nil {
		return CheckoutOutcome{}, classify(fmt.Errorf("reserve stock for order %s: %w", orderID, err))
	}
	out := CheckoutOutcome{Reservation: res}
	if len(res.Short) > 0 {
		return out, nil
	}
	capture, err := a.Payments.Capture(ctx, req.Capture)
	if failed, ok := paymentFailure(err); ok {
		if rerr := a.Stock.Release(ctx, orderID, nil); rerr != nil {
			return CheckoutOutcome{}, classify(fmt.Errorf("release stock of order %s after %s: %w", orderID, failed.Type, rerr))
		}
		out.PaymentFailure = failed.Type
		return out, nil
	}
	if err != nil {
		return CheckoutOutcome{}, classify(fmt.Errorf("capture %s: %w", req.Capture.IdempotencyKey, err))
	}
	out.Capture = &capture
	if req.PickupStoreID != "" {
		store, err := a.Locations.Location(ctx, req.PickupStoreID)
		if err != nil {
			return CheckoutOutcome{}, classify(fmt.Errorf("promise ready time of order %s: %w", orderID, err))
		}
		days := 0
		if res.LocationID != req.PickupStoreID {
			days = req.TransferDays
		}
		promised := PromiseReady(store, req.PlacedAt, req.StoreReadyLead, days)
		out.PromisedReadyAt = &promised
	}
	for _, c := range req.Captured {
		c.Order.LocationID, c.Order.PromisedReadyAt = res.LocationID, out.PromisedReadyAt
		if c.Order.View != nil {
			v := *c.Order.View // the workflow's snapshot was taken before the capture
			v.Captured = capture.Amount
			c.Order.View = &v
		}
		fresh, err := recordStage(ctx, a.Journey, c)
		if err != nil {
			return CheckoutOutcome{}, classify(fmt.Errorf("record stage %s of order %s: %w", c.Stage, orderID, err))
		}
		if fresh {
			m := metricsOr(a.Metrics)
			m.StageEntered(c.Order.Method, c.Stage)
			if c.Stage == domain.StagePaymentCaptured {
				m.PaymentCaptured(req.Capture.Currency, capture.Amount)
			}
		}
	}
	return out, nil
}
