package sandbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// TrackedShipment is a sandbox shipment whose tracking the simulator advances.
type TrackedShipment struct {
	OrderID      string
	Purpose      string
	TrackingCode string
	CreatedAt    time.Time
	LastEvent    string
}

// TrackingEvent is one carrier status update, as a webhook would deliver it.
type TrackingEvent struct {
	EventID      string
	TrackingCode string
	Status       string
	At           time.Time
}

// trackingSteps is the sandbox parcel's life: one status per Step after the label.
var trackingSteps = [...]string{"pre_transit", "in_transit", "out_for_delivery", "delivered"}

// CarrierSimulator plays the carrier's tracking webhooks for sandbox shipments:
// each Step after a label was bought, the parcel moves one status on, until
// delivered. Progress is kept with the shipment (in PostgreSQL under make run), so
// a restarted worker carries on where it stopped; event IDs are stable, so an event
// sent twice is ignored by the workflow.
type CarrierSimulator struct {
	Step time.Duration
	// Shipments lists the sandbox shipments not yet delivered.
	Shipments func(ctx context.Context) ([]TrackedShipment, error)
	// Mark records the last status delivered for a shipment.
	Mark func(ctx context.Context, s TrackedShipment, status string, at time.Time) error
	// Deliver hands an event to the order (the worker signals the workflow). It
	// returns ErrOrderGone when the order no longer listens.
	Deliver func(ctx context.Context, orderID string, ev TrackingEvent) error
	Logger  *slog.Logger
}

// ErrOrderGone tells the simulator that an order's workflow has ended.
var ErrOrderGone = errors.New("order no longer running")

// Run advances shipments every tick until ctx ends.
func (s *CarrierSimulator) Run(ctx context.Context) error {
	tick := s.Step / 4
	if tick < 100*time.Millisecond {
		tick = 100 * time.Millisecond
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		if err := s.advance(ctx, time.Now()); err != nil && ctx.Err() == nil {
			s.Logger.Warn("sandbox carrier simulator", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// advance sends every status that is due for every open shipment.
func (s *CarrierSimulator) advance(ctx context.Context, now time.Time) error {
	open, err := s.Shipments(ctx)
	if err != nil {
		return fmt.Errorf("list sandbox shipments: %w", err)
	}
	for _, sh := range open {
		if err := s.advanceOne(ctx, sh, now); err != nil {
			return err
		}
	}
	return nil
}

func (s *CarrierSimulator) advanceOne(ctx context.Context, sh TrackedShipment, now time.Time) error {
	next := 0
	for i, st := range trackingSteps {
		if st == sh.LastEvent {
			next = i + 1
		}
	}
	for i := next; i < len(trackingSteps); i++ {
		at := sh.CreatedAt.Add(time.Duration(i) * s.Step)
		if at.After(now) {
			return nil
		}
		status := trackingSteps[i]
		ev := TrackingEvent{EventID: sh.TrackingCode + ":" + status, TrackingCode: sh.TrackingCode, Status: status, At: at}
		err := s.Deliver(ctx, sh.OrderID, ev)
		switch {
		case errors.Is(err, ErrOrderGone):
			// Nobody listens any more: stop following this parcel.
			return s.Mark(ctx, sh, trackingSteps[len(trackingSteps)-1], at)
		case err != nil:
			return fmt.Errorf("deliver %s to order %s: %w", ev.EventID, sh.OrderID, err)
		}
		if err := s.Mark(ctx, sh, status, at); err != nil {
			return fmt.Errorf("mark %s: %w", ev.EventID, err)
		}
	}
	return nil
}
