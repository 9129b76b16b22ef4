package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

// shipToStore brings the goods to the pickup store (a transfer from the
// distribution centre unless the store picked them itself), makes the order ready
// with a pickup code and waits for the handover until the pickup deadline, with
// reminders before it.
func (f *fulfilment) shipToStore(ctx workflow.Context) error {
	o := f.in.Order
	if f.locationID != o.StoreID {
		if err := f.transfer(ctx); err != nil {
			return err
		}
	}
	ready := f.message(domain.TouchReadyForPickup, map[string]string{})
	if err := f.issuePickupCode(ctx, &ready); err != nil {
		return err
	}
	now := workflow.Now(ctx)
	f.pickup.deadline = now.Add(f.in.Policy.PickupWindow)
	f.pickup.reminders = nil
	for _, r := range f.in.Policy.PickupReminders {
		if r > 0 && r < f.in.Policy.PickupWindow {
			f.pickup.reminders = append(f.pickup.reminders, f.quietReminder(ctx, now.Add(r)))
		}
	}
	var notes []activities.NotifyRequest
	if f.promised != nil && absDuration(now.Sub(*f.promised)) >= 24*time.Hour {
		// Early is good news and the template says so; late apologises.
		change := "late"
		if now.Before(*f.promised) {
			change = "early"
		}
		changed := f.message(domain.TouchPickupChanged, map[string]string{"change": change})
		changed.Times = map[string]time.Time{"promised": *f.promised, "ready": now}
		notes = append(notes, changed)
	}
	ready.Deadline = f.pickup.deadline
	f.enter(ctx, domain.StageReadyForPickup, "", "", temporal.NewSearchAttributeKeyTime(AttrPickupDeadline).ValueSet(f.pickup.deadline))
	if _, err := f.advance(ctx, "ready for pickup: notice with code", activities.Progress{Notify: append(notes, ready)}); err != nil {
		return err
	}
	if err := f.awaitPickup(ctx); err != nil {
		return err
	}
	f.cancellation.closed = true // handed over: too late to cancel
	f.enter(ctx, domain.StagePickedUp, f.pickup.pickedUp, "")
	res, err := f.advance(ctx, "handover: stock sold, thank-you", activities.Progress{
		Consume: true, PlanAfter: f.in.Policy.ReviewDelay,
		Notify: []activities.NotifyRequest{f.message(domain.TouchPickedUp, nil)},
	})
	f.reviewAt = res.PlanAt
	return err
}

// awaitPickup waits for the handover. One timer runs at a time, for the next
// reminder or the deadline; an extension replaces it. At the deadline the order is
// cancelled and refunded.
func (f *fulfilment) awaitPickup(ctx workflow.Context) error {
	collected := func() bool { return f.pickup.pickedUp != "" }
	for !collected() {
		if f.cancellation.req != nil {
			return f.cancelRequested(ctx)
		}
		now := workflow.Now(ctx)
		if !now.Before(f.pickup.deadline) {
			return f.cancel(ctx, activities.NoteNotPickedUp, "", true)
		}
		next, summary := f.pickup.deadline, "pickup deadline"
		reminder := f.pickup.reminded < len(f.pickup.reminders)
		if reminder {
			next, summary = f.pickup.reminders[f.pickup.reminded], fmt.Sprintf("pickup reminder %d", f.pickup.reminded+1)
		}
		extended := f.pickup.extended
		fired, err := f.waitFor(ctx, next.Sub(now), summary, func() bool { return collected() || f.pickup.extended != extended })
		if err != nil {
			return err
		}
		if fired && reminder {
			if err := f.remind(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// versionQuietReminders: pickup reminders that would fall into the customer's quiet
// hours wait until they end (orders started before it remind at the raw time).
const versionQuietReminders = "quiet-hours-reminders"

// quietReminder moves a reminder out of the customer's quiet hours, but never past
// the pickup deadline; the reminder's timer is the durable deferral.
func (f *fulfilment) quietReminder(ctx workflow.Context, at time.Time) time.Time {
	if !f.v2 && workflow.GetVersion(ctx, versionQuietReminders, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return at
	}
	later := activities.OutsideQuietHours(at, f.in.Order.Customer.TimeZone, f.in.Policy.QuietHours)
	if later.Before(f.pickup.deadline) {
		return later
	}
	return at
}

// remind sends the next pickup reminder (its own key per reminder).
func (f *fulfilment) remind(ctx workflow.Context) error {
	f.pickup.reminded++
	msg := f.message(domain.TouchPickupReminder, nil)
	msg.Deadline, msg.Occurrence = f.pickup.deadline, f.pickup.reminded
	_, err := f.advance(ctx, fmt.Sprintf("pickup reminder %d", f.pickup.reminded), activities.Progress{Notify: []activities.NotifyRequest{msg}})
	return err
}

// transfer ships the goods from the distribution centre to the pickup store and
// waits for staff (or the carrier's delivered event) to confirm the arrival.
func (f *fulfilment) transfer(ctx workflow.Context) error {
	o := f.in.Order
	req := activities.BuyLabelRequest{
		OrderID: o.OrderID, Purpose: activities.PurposeStoreTransfer,
		FromLocationID: f.locationID, ToLocationID: o.StoreID, Items: o.Items(),
	}
	if f.v2 {
		if err := f.shipTransfer(ctx, req); err != nil {
			return err
		}
	} else {
		label, err := f.buyLabel(ctx, req)
		if err != nil {
			return err
		}
		f.track(ctx, label)
		f.enter(ctx, domain.StageInTransitToStore, "", "")
		if _, err := f.advance(ctx, "journey: in transit to store", activities.Progress{}); err != nil {
			return err
		}
	}
	arrived := func() bool { return f.shipping.arrived != "" }
	late, err := f.waitFor(ctx, f.in.Policy.TransferTimeout, "store transfer timeout", arrived)
	if err != nil {
		return err
	}
	if late {
		if err := f.flag(ctx, "store transfer overdue"); err != nil {
			return err
		}
		if _, err := f.waitFor(ctx, 0, "", arrived); err != nil {
			return err
		}
	}
	if f.cancellation.req != nil {
		return f.cancelRequested(ctx)
	}
	return nil
}

// shipTransfer buys the transfer's label and records the order in transit (with
// the pick carried over) in one Journey.Advance activity, one Action where a V1
// order spends two. The order enters in_transit_to_store (state, search attribute)
// only once the label is bought: a refused label leaves it picked, flagged, while
// support retries or cancels, as buyLabel does.
func (f *fulfilment) shipTransfer(ctx workflow.Context, req activities.BuyLabelRequest) error {
	now := workflow.Now(ctx)
	stage := f.stage
	f.stage = domain.StageInTransitToStore // the view the activity writes
	order := f.summary()
	f.stage = stage
	res, err := f.journeyAdvance(ctx, step{name: "buy " + req.Purpose + " label", also: []ResolveAction{ResolveCancel}, inFlight: &f.shipping.labelling},
		"buy label: "+req.Purpose+"; in transit", activities.Progress{
			Order: order, Label: &req, Stages: []activities.StageEntry{{Stage: domain.StageInTransitToStore, At: now}},
		})
	if err != nil {
		return fmt.Errorf("buy %s label: %w", req.Purpose, err)
	}
	if res.Label == nil {
		return fmt.Errorf("buy %s label: the journey activity returned no label", req.Purpose)
	}
	// In transit before the label's early events are applied: the carrier may
	// report the parcel delivered while the activity was still recording (a
	// worker restart in between makes that likely), and a delivered event only
	// counts as the arrival of an order in transit. Orders that met early events
	// before this fix applied them first (and so missed such an arrival); the
	// marker is asked only then, so the ordinary transfer costs nothing more.
	early := f.hasEarlyEvents(res.Label.TrackingCode)
	oldOrder := early && workflow.GetVersion(ctx, versionInTransitBeforeEarlyEvents, workflow.DefaultVersion, 1) == workflow.DefaultVersion
	if oldOrder {
		f.track(ctx, *res.Label)
	}
	f.enter(ctx, domain.StageInTransitToStore, "", "")
	f.shipping.labelling = false // an arrival waiting for the label goes ahead
	f.since, f.journey[len(f.journey)-1].At = now, now
	f.next.stages = nil // recorded by the activity
	if !oldOrder {
		f.track(ctx, *res.Label)
	}
	return f.upsertStage(ctx)
}

// versionInTransitBeforeEarlyEvents: a transfer enters in_transit_to_store before
// the carrier events that arrived for its label early are applied (V2 orders that
// met such events before applied them first). Asked only when there are some.
const versionInTransitBeforeEarlyEvents = "in-transit-before-early-events"

func (f *fulfilment) buyLabel(ctx workflow.Context, req activities.BuyLabelRequest) (activities.Label, error) {
	var sh *activities.Shipping
	var label activities.Label
	// Without a label nothing ships: support may retry (after fixing the address,
	// say) or cancel the order; there is no doing it by hand.
	_, err := f.attempt(ctx, step{name: "buy " + req.Purpose + " label", also: []ResolveAction{ResolveCancel}}, func(ctx workflow.Context) error {
		return workflow.ExecuteActivity(f.options(ctx, "buy label: "+req.Purpose), sh.BuyLabel, req).Get(ctx, &label)
	})
	if err != nil {
		return activities.Label{}, fmt.Errorf("buy %s label: %w", req.Purpose, err)
	}
	return label, nil
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func (f *fulfilment) validateConfirmArrival(req ConfirmArrivalRequest) error {
	switch {
	case req.StoreID != f.in.Order.StoreID:
		return errWrongStore()
	case f.cancellation.req != nil:
		return wrongStage(beingCancelled)
	case f.shipping.arrived != "":
		return wrongStage("The arrival was already confirmed.")
	case f.stage != domain.StageInTransitToStore && !f.shipping.labelling:
		return wrongStage("The order is not on its way to the store (stage %s).", f.stage)
	}
	return nil
}

// handleConfirmArrival records the arrival. A V2 transfer's journey activity
// shows the parcel on the staff's arriving list as soon as it has bought the
// label, a moment before the workflow takes its result and enters
// in_transit_to_store: an arrival scanned in between was accepted (labelling)
// and waits here until the activity's outcome is applied, then is checked again
// (a refused label leaves the order picked: refused as before).
func (f *fulfilment) handleConfirmArrival(ctx workflow.Context, req ConfirmArrivalRequest) (HandoverResult, error) {
	if f.stage != domain.StageInTransitToStore {
		if err := workflow.Await(ctx, func() bool { return !f.shipping.labelling }); err != nil {
			return HandoverResult{}, fmt.Errorf("wait for the transfer's label: %w", err)
		}
		if err := f.validateConfirmArrival(req); err != nil {
			return HandoverResult{}, err
		}
	}
	f.shipping.arrived = req.By
	f.wake()
	return HandoverResult{OrderID: f.in.Order.OrderID, At: workflow.Now(ctx)}, nil
}
