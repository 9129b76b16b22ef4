package workflows

// Carrier events: the tracking updates the starter signals (carrier-event), matched
// against the order's label, and what they change.

import (
	"go.temporal.io/sdk/workflow"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

// maxEarlyEvents bounds the carrier events kept for a label the workflow has not
// recorded yet; more than a parcel's whole life would be noise.
const maxEarlyEvents = 20

// handleCarrierEvent applies a tracking update once per event ID. An event can
// arrive before the workflow has the label it belongs to (the label is saved inside
// the activity, so a webhook may be faster than the activity's completion): such
// events wait in early until track is called. Events for another tracking code (an
// old label) are ignored.
func (f *fulfilment) handleCarrierEvent(ctx workflow.Context, ev CarrierEvent) {
	if f.shipping.seen[ev.EventID] {
		return
	}
	if f.shipping.label == nil || ev.TrackingCode != f.shipping.label.TrackingCode {
		if len(f.shipping.early) < maxEarlyEvents {
			f.shipping.early = append(f.shipping.early, ev)
		}
		return
	}
	f.shipping.seen[ev.EventID] = true
	f.shipping.status = ev.Status
	f.wake()
	switch ev.Status {
	case CarrierFailure, CarrierReturnToSender:
		if err := f.flag(ctx, "carrier reports "+ev.Status); err != nil {
			workflow.GetLogger(ctx).Error("flag carrier exception", "order_id", f.in.Order.OrderID, "error", err)
		}
		if f.in.Order.Method == domain.MethodHomeDelivery &&
			(f.v2 || workflow.GetVersion(ctx, versionDeliveryProblemNotice, workflow.DefaultVersion, 1) >= 1) {
			f.tellDeliveryProblem(ctx, ev)
		}
	case CarrierDelivered:
		if f.stage == domain.StageInTransitToStore && f.shipping.arrived == "" {
			f.shipping.arrived = "carrier"
		}
	}
}

// track makes label the shipment carrier events are matched against and applies
// the events that arrived for it early.
func (f *fulfilment) track(ctx workflow.Context, label activities.Label) {
	f.shipping.label = &label
	f.shipping.status = ""
	early := f.shipping.early
	f.shipping.early = nil
	for _, ev := range early {
		if ev.TrackingCode == label.TrackingCode {
			f.handleCarrierEvent(ctx, ev)
		}
	}
	f.wake()
}

// hasEarlyEvents reports whether carrier events for trackingCode are waiting for
// track.
func (f *fulfilment) hasEarlyEvents(trackingCode string) bool {
	for _, ev := range f.shipping.early {
		if ev.TrackingCode == trackingCode {
			return true
		}
	}
	return false
}

// versionDeliveryProblemNotice: a carrier exception on a home delivery also tells
// the customer (orders started before it only flag the order for support).
const versionDeliveryProblemNotice = "delivery-problem-notice"

// tellDeliveryProblem tells the customer once per carrier event that their parcel
// has a problem; support already has the order flagged.
func (f *fulfilment) tellDeliveryProblem(ctx workflow.Context, ev CarrierEvent) {
	msg := f.message(domain.TouchDeliveryProblem, map[string]string{"tracking_url": ""})
	if f.shipping.label != nil {
		msg.Facts["tracking_url"] = f.shipping.label.TrackingURL
	}
	f.messages.problems++
	msg.Occurrence = f.messages.problems // a later problem with the same parcel is a message of its own
	entry := activities.JourneyEntry{OrderID: f.in.Order.OrderID, Kind: activities.EntryNotification,
		Key: "delivery-problem:" + ev.EventID, Detail: "carrier reports " + ev.Status + ": customer told", At: workflow.Now(ctx),
		Stage: f.stage, View: f.view()}
	var j *activities.Journey
	if err := workflow.ExecuteActivity(activityOptions(ctx, "delivery problem: customer told"), j.Tell, entry, msg).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Error("tell delivery problem", "order_id", f.in.Order.OrderID, "error", err)
	}
}
