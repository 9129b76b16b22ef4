package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/everywherecommerce/fulfilment/adapters/postgres"
	"github.com/everywherecommerce/fulfilment/adapters/sandbox"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// Sandbox builds the sandbox providers for a system backed by PostgreSQL: emails
// land in the outbox table (shown by the starter at /dev/outbox) and the carrier
// simulator plays tracking events for sandbox labels into the order workflows.
func Sandbox(store *postgres.Store, c client.Client, trackingBaseURL string, step time.Duration, logger *slog.Logger) (Providers, *sandbox.CarrierSimulator) {
	email := &sandbox.Email{}
	email.Deliver = func(ctx context.Context, m sandbox.SentEmail) error {
		return store.PutOutbox(ctx, postgres.OutboxMessage{
			Channel: "email", Recipient: m.To, Subject: m.Subject, Body: m.Text, NotificationKey: m.NotificationKey,
		})
	}
	sim := &sandbox.CarrierSimulator{
		Step:   step,
		Logger: logger,
		Shipments: func(ctx context.Context) ([]sandbox.TrackedShipment, error) {
			rows, err := store.ActiveShipments(ctx, sandbox.CarrierName)
			if err != nil {
				return nil, err
			}
			out := make([]sandbox.TrackedShipment, len(rows))
			for i, r := range rows {
				out[i] = sandbox.TrackedShipment{OrderID: r.OrderID, Purpose: r.Purpose, TrackingCode: r.TrackingCode, CreatedAt: r.CreatedAt, LastEvent: r.LastEvent}
			}
			return out, nil
		},
		Mark: func(ctx context.Context, s sandbox.TrackedShipment, status string, at time.Time) error {
			return store.MarkTrackingEvent(ctx, s.OrderID, s.Purpose, status, at)
		},
		Deliver: func(ctx context.Context, orderID string, ev sandbox.TrackingEvent) error {
			if !workflows.CarrierEventMatters(ev.Status) {
				return nil // recorded with the shipment by Mark; the order need not wake up
			}
			return SignalCarrierEvent(ctx, c, orderID, workflows.CarrierEvent{
				EventID: ev.EventID, TrackingCode: ev.TrackingCode, Status: ev.Status, At: ev.At,
			})
		},
	}
	return Providers{Payments: sandbox.NewPayments(), Carrier: sandbox.NewCarrier(trackingBaseURL), Email: email}, sim
}

// SignalCarrierEvent hands a tracking event to the order's workflow. An order
// whose workflow no longer runs yields sandbox.ErrOrderGone.
func SignalCarrierEvent(ctx context.Context, c client.Client, orderID string, ev workflows.CarrierEvent) error {
	err := c.SignalWorkflow(ctx, workflows.WorkflowID(orderID), "", workflows.SignalCarrierEvent, ev)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return sandbox.ErrOrderGone
	}
	if err != nil {
		return fmt.Errorf("signal %s to order %s: %w", workflows.SignalCarrierEvent, orderID, err)
	}
	return nil
}
