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
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// SandboxConfig configures the sandbox providers.
type SandboxConfig struct {
	// TrackingBaseURL is where the sandbox carrier's tracking links point.
	TrackingBaseURL string
	// CarrierStep is the time between two simulated tracking events.
	CarrierStep time.Duration
	// FaultRate (0 to 1) fails that share of provider calls with a retryable error
	// before they do anything, for chaos tests; 0 never.
	FaultRate float64
	// FaultSeed, when not 0, makes the faults of each fake the same on every run.
	FaultSeed uint64
	// MessageDelay is how long each email, text message and push takes to send
	// (a slow provider); 0 none.
	MessageDelay time.Duration
	Logger       *slog.Logger
}

// Sandbox builds the sandbox providers for a system backed by PostgreSQL: the
// payment provider's captures, refunds and voids and the carrier's labels are kept
// in the sandbox ledger tables (postgres.SandboxLedger), emails, text messages and
// pushes land in the outbox table (shown by the starter at /dev/outbox) and the
// carrier simulator plays tracking events for sandbox labels into the order
// workflows.
func Sandbox(store *postgres.Store, c client.Client, cfg SandboxConfig) (Providers, *sandbox.CarrierSimulator) {
	email, sms, push := &sandbox.Email{}, &sandbox.SMS{}, &sandbox.Push{}
	email.Deliver = func(ctx context.Context, m sandbox.SentEmail) error {
		return store.PutOutbox(ctx, postgres.OutboxMessage{
			Channel: string(domain.ChannelEmail), Recipient: m.To, Subject: m.Subject, Body: m.Text, NotificationKey: m.NotificationKey,
		})
	}
	sms.Deliver = func(ctx context.Context, m sandbox.SentSMS) error {
		return store.PutOutbox(ctx, postgres.OutboxMessage{
			Channel: string(domain.ChannelSMS), Recipient: m.To, Body: m.Body, NotificationKey: m.NotificationKey,
		})
	}
	push.Deliver = func(ctx context.Context, m sandbox.SentPush) error {
		return store.PutOutbox(ctx, postgres.OutboxMessage{
			Channel: string(domain.ChannelPush), Recipient: "app " + maskToken(m.Token), Subject: m.Title, Body: m.Body, NotificationKey: m.NotificationKey,
		})
	}
	// Captures, refunds and labels live in PostgreSQL, so the fakes remember them
	// across worker restarts and between workers, as Stripe and EasyPost do.
	ledger := store.SandboxLedger()
	payments := sandbox.NewPayments(sandbox.WithPaymentLedger(ledger))
	carrier := sandbox.NewCarrier(cfg.TrackingBaseURL, sandbox.WithLabelLedger(ledger))
	payments.FaultRate = cfg.FaultRate
	for _, f := range []*sandbox.Faults{&carrier.Faults, &email.Faults, &sms.Faults, &push.Faults} {
		f.Rate, f.Seed = cfg.FaultRate, cfg.FaultSeed
	}
	for _, f := range []*sandbox.Faults{&email.Faults, &sms.Faults, &push.Faults} {
		f.Delay = cfg.MessageDelay
	}
	sim := &sandbox.CarrierSimulator{
		Step:   cfg.CarrierStep,
		Logger: cfg.Logger,
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
	return Providers{Payments: payments, Carrier: carrier, Email: email, SMS: sms, Push: push}, sim
}

// maskToken shows the end of a push token only: it is a credential of the device.
func maskToken(token string) string {
	if len(token) <= 4 {
		return "…"
	}
	return "…" + token[len(token)-4:]
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
