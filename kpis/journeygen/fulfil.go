package journeygen

import (
	"fmt"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

// shipToStore brings a picked order to the store (a transfer from the
// distribution centre, or straight from the store's own pick), makes it ready
// and ends with the handover, an expiry at the pickup deadline, or the
// customer's cancellation.
func (o *ord) shipToStore(picked, promised time.Time, transfer bool) {
	g, d, rt, s := o.g, o.d, o.g.cfg.Rates, o.s
	ready := picked.Add(seconds(d.u(uSeconds), 90))
	if transfer {
		label := picked.Add(15*time.Minute + exp(d.u(uLabel), time.Hour)).Truncate(time.Second)
		if o.cancelledBy(label) {
			return
		}
		o.stage(domain.StageInTransitToStore, label, "", "")
		pEarly := rt.EarlyTransfer
		fL := factor(g.cfg.Shifts, s.ID, KindLateTransfers, promised) * factor(g.cfg.Shifts, s.ID, KindLateReady, promised)
		lateBase := min(1-pEarly, rt.LateTransfer*g.dayRate(s.ID, KindLateTransfers, promised))
		pLate := min(1-pEarly, lateBase*fL)
		u, v := d.u(uReady), d.u(uReadyTime)
		switch {
		case u < pEarly:
			ready = promised.Add(-24*time.Hour - exp(v, 6*time.Hour))
		case u < pEarly+pLate:
			ready = promised.Add(10*time.Minute + exp(v, 12*time.Hour))
		default:
			ready = between(promised.Add(-24*time.Hour+time.Minute), promised, v)
		}
		if earliest := label.Add(4 * time.Hour); ready.Before(earliest) {
			ready = earliest.Add(exp(v, 2*time.Hour)) // the parcel needs its time
		}
		ready = ready.Truncate(time.Second)
		o.lateForPromise = &lateDecision{kind: KindLateTransfers, base: lateBase, shifted: pLate}
		o.shipment(activities.PurposeStoreTransfer, label, ready.Add(-time.Duration(2+int(v*20))*time.Minute))
	}
	if o.cancelledBy(ready) {
		return
	}
	if ld := o.lateForPromise; ld != nil {
		late := ready.After(promised)
		g.truth.decide(ld.kind, s.ID, promised, ld.base, ld.shifted, late)
		if ld.kind == KindLateTransfers {
			g.truth.decide(KindLateReady, s.ID, promised, ld.base, ld.shifted, late)
		}
	}
	o.stage(domain.StageReadyForPickup, ready, "", "")
	deadline := ready.Add(rt.PickupWindow)
	if ready.Before(g.end) {
		o.row.PickupDeadline, o.row.PickupCodeSent = &deadline, true
	}
	if off := ready.Sub(promised); off >= 24*time.Hour || off <= -24*time.Hour {
		o.notify(domain.TouchPickupChanged, 0, ready, false)
	}
	o.notify(domain.TouchReadyForPickup, 0, ready, false)

	pEBase := min(1, rt.Expiry*g.dayRate(s.ID, KindExpiry, deadline))
	pE := min(1, pEBase*factor(g.cfg.Shifts, s.ID, KindExpiry, deadline))
	expired := d.u(uExpiry) < pE
	base := logNormal(d.u(uPickupTime1), d.u(uPickupTime2), rt.PickupMedian, 1.0)
	wait := time.Duration(float64(base) * factor(g.cfg.Shifts, s.ID, KindSlowPickup, ready))
	wait = min(wait, rt.PickupWindow-10*time.Minute)
	end := ready.Add(wait).Truncate(time.Second)
	if expired {
		end = deadline
	}
	for i, after := range []time.Duration{2 * 24 * time.Hour, 5 * 24 * time.Hour} {
		at := ready.Add(after)
		if at.Before(end) && (o.cut.IsZero() || at.Before(o.cut)) && after < rt.PickupWindow {
			o.notify(domain.TouchPickupReminder, i+1, at, false)
		}
	}
	if o.cancelledBy(end) {
		return
	}
	g.truth.decide(KindExpiry, s.ID, deadline, pEBase, pE, expired)
	if expired {
		o.cancel(deadline, "", activities.NoteNotPickedUp)
		return
	}
	g.truth.duration(KindSlowPickup, s.ID, ready, min(base, rt.PickupWindow-10*time.Minute), wait)
	o.stage(domain.StagePickedUp, end, staff(s.ID, d.u(uStaff)), "")
	o.notify(domain.TouchPickedUp, 0, end, false)
	o.review(end)
}

// homeDelivery ships a picked order from the distribution centre and follows
// it to the doorstep.
func (o *ord) homeDelivery(picked time.Time) {
	g, d, rt, s := o.g, o.d, o.g.cfg.Rates, o.s
	label := picked.Add(20*time.Minute + exp(d.u(uLabel), 90*time.Minute)).Truncate(time.Second)
	if o.cancelledBy(label) {
		return
	}
	base := rt.DeliveryMin + time.Duration(d.u(uDelivery)*float64(rt.DeliveryMax-rt.DeliveryMin))
	took := time.Duration(float64(base) * factor(g.cfg.Shifts, s.ID, KindSlowDelivery, label))
	delivered := label.Add(took).Truncate(time.Second)
	o.stage(domain.StageShipped, label, "", "")
	sh := o.shipment(activities.PurposeHomeDelivery, label, delivered)
	if label.Before(g.end) {
		o.row.Carrier, o.row.Service, o.row.TrackingCode, o.row.TrackingURL = sh.Carrier, sh.Service, sh.TrackingCode, sh.TrackingURL
	}
	o.notify(domain.TouchShipped, 0, label, false)
	g.truth.duration(KindSlowDelivery, s.ID, label, base, took)
	o.stage(domain.StageDelivered, delivered, "carrier", "")
	if delivered.Before(g.end) {
		o.row.ShipmentStatus = "delivered"
	}
	o.notify(domain.TouchDelivered, 0, delivered, false)
	o.review(delivered)
}

// review asks for a review a review delay after the handover or delivery (if
// marketing consent holds) and completes the order.
func (o *ord) review(after time.Time) {
	at := after.Add(o.g.cfg.Rates.ReviewDelay + exp(o.d.u(uReviewDelay), time.Hour)).Truncate(time.Second)
	note := ""
	if o.cust.row.MarketingConsent {
		o.stage(domain.StageReviewRequested, at, "", "")
		o.notify(domain.TouchReviewRequest, 0, at, true)
	} else {
		note = "review request skipped: " + activities.SkipNoConsent
		key := notificationKey(o.row.OrderID, domain.TouchReviewRequest, 0, domain.ChannelEmail)
		o.entry(activities.EntryNotification, key+":skipped",
			fmt.Sprintf("%s via %s skipped: %s", domain.TouchReviewRequest, domain.ChannelEmail, activities.SkipNoConsent), "", at)
	}
	o.stage(domain.StageCompleted, at, "", note)
}

// shipment records a bought label: in transit from created, delivered at
// delivered if that is before the end.
func (o *ord) shipment(purpose string, created, delivered time.Time) ShipmentRow {
	r := stream(o.g.cfg.Seed, "label", o.row.OrderID, purpose)
	code := "JG" + hexID(r, 16)
	sh := ShipmentRow{
		OrderID: o.row.OrderID, Purpose: purpose, Provider: "sandbox", ShipmentID: "shp_" + hexID(r, 24),
		Carrier: "DHL", Service: "Paket", TrackingCode: code,
		TrackingURL: "https://track.example.com/" + code, LabelURL: "https://labels.example.com/" + code + ".pdf",
		CreatedAt: created,
	}
	if !created.Before(o.g.end) {
		return sh
	}
	switch {
	case delivered.Before(o.g.end):
		sh.LastEvent, sh.LastEventAt = "delivered", &delivered
	case created.Add(6 * time.Hour).Before(o.g.end):
		at := created.Add(6 * time.Hour)
		sh.LastEvent, sh.LastEventAt = "in_transit", &at
	}
	o.g.m.Shipments = append(o.g.m.Shipments, sh)
	return sh
}
