package journeygen

import (
	"slices"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

// ord is one order being generated: its draws, its projection row, and the
// journey entries so far. Nothing at or after the month's end is written; the
// row then shows the order as it stood at the end.
type ord struct {
	g       *gen
	s       StoreSpec
	d       *draws
	row     OrderRow
	cust    *customer
	task    *PickTaskRow
	journey []JourneyRow
	cut     time.Time // the customer's cancellation (zero: none)
	done    bool      // cancelled: nothing more happens
	// lateForPromise is how being late for the promise was decided (store picks).
	lateForPromise *lateDecision
}

// order generates one order's whole journey from its placing time.
func (g *gen) order(s StoreSpec, id string, placed time.Time) {
	d := newDraws(stream(g.cfg.Seed, "order", id))
	rt := g.cfg.Rates
	o := &ord{g: g, s: s, d: d, cust: g.customerFor(s, d)}
	if o.cust.row.UpdatedAt.IsZero() {
		o.cust.row.UpdatedAt = placed
	}
	lines := g.lines(d)
	method := domain.MethodShipToStore
	if d.u(uMethod) < s.HomeDeliveryShare {
		method = domain.MethodHomeDelivery
	}
	var total int64
	for _, l := range lines {
		total += l.Total()
	}
	o.row = OrderRow{
		OrderID: id, CustomerID: o.cust.row.CustomerID, CustomerName: o.cust.name, Method: method,
		StoreID: s.ID, Total: total, Currency: "EUR", PlacedAt: placed, UpdatedAt: placed, Lines: lineViews(lines, nil),
	}
	defer o.finish()
	o.stage(domain.StageAccepted, placed, "checkout", "")

	payAt := placed.Add(seconds(d.u(uSeconds), 3))
	declined := g.happens(KindDeclines, s.ID, payAt, rt.Decline*g.dayRate(s.ID, KindDeclines, payAt), d.u(uDecline))
	if declined {
		o.stage(domain.StagePaymentFailed, payAt, "", "card declined")
		o.notify(domain.TouchPaymentFailed, 0, payAt, false)
		return
	}
	o.row.Captured = total
	transfer := method == domain.MethodShipToStore && d.u(uTransfer) < s.TransferShare
	o.row.LocationID = s.ID
	if method == domain.MethodHomeDelivery || transfer {
		o.row.LocationID = DistributionCentre
	}
	var promised time.Time
	if method == domain.MethodShipToStore {
		days := 0
		if transfer {
			days = rt.TransferDays
		}
		promised = g.promise(s.ID, placed, days)
		o.row.PromisedReadyAt = &promised
	}
	o.stage(domain.StagePaymentCaptured, payAt, "", "")
	created := payAt.Add(time.Second)
	o.stage(domain.StagePicking, created, "", "")
	o.notify(domain.TouchOrderConfirmed, 0, created, false)
	if d.u(uCancel) < rt.Cancel {
		o.cut = created.Add(exp(d.u(uCancelTime), 10*time.Hour))
	}
	picked, ok := o.pick(lines, created, promised, transfer)
	if !ok {
		return
	}
	if method == domain.MethodHomeDelivery {
		o.homeDelivery(picked)
		return
	}
	o.shipToStore(picked, promised, transfer)
}

// stage writes the stage's journey entry and moves the projection, if it
// happened before the end.
func (o *ord) stage(st domain.Stage, at time.Time, actor, detail string) {
	if !at.Before(o.g.end) {
		return
	}
	o.journey = append(o.journey, JourneyRow{
		OrderID: o.row.OrderID, Kind: activities.EntryStage, Key: "stage:" + string(st), Stage: st, Detail: detail, Actor: actor, At: at,
	})
	o.row.Stage, o.row.UpdatedAt = st, at
}

// entry writes another journey entry before the end.
func (o *ord) entry(kind, key, detail, actor string, at time.Time) {
	if at.Before(o.g.end) {
		o.journey = append(o.journey, JourneyRow{OrderID: o.row.OrderID, Kind: kind, Key: key, Detail: detail, Actor: actor, At: at})
	}
}

// cancelledBy ends the order at the customer's cancellation if it comes
// before t; it reports whether it did.
func (o *ord) cancelledBy(t time.Time) bool {
	if o.cut.IsZero() || t.Before(o.cut) {
		return false
	}
	o.cancel(o.cut, "support", "the customer asked to cancel")
	return true
}

// cancel ends the order: the rest of the money back, the customer told.
func (o *ord) cancel(at time.Time, actor, reason string) {
	o.stage(domain.StageCancelled, at, actor, reason)
	if at.Before(o.g.end) {
		o.row.Refunded = o.row.Captured
	}
	o.notify(domain.TouchCancelled, 0, at, false)
	o.done = true
}

// finish adds the order's rows to the month.
func (o *ord) finish() {
	m := o.g.m
	m.Orders = append(m.Orders, o.row)
	if o.task != nil && o.task.CreatedAt.Before(o.g.end) {
		m.PickTasks = append(m.PickTasks, *o.task)
	}
	slices.SortStableFunc(o.journey, func(a, b JourneyRow) int { return a.At.Compare(b.At) })
	m.Journey = append(m.Journey, o.journey...)
}

// pick creates the pick task and picks it: on time, late for the promise but
// within the SLA, or after the SLA. A short pick refunds the missing piece;
// nothing picked, or the customer's cancellation first, ends the order.
func (o *ord) pick(lines []domain.Line, created, promised time.Time, transfer bool) (time.Time, bool) {
	g, d, rt, loc := o.g, o.d, o.g.cfg.Rates, o.row.LocationID
	due := created.Add(rt.PickingSLA)
	o.task = &PickTaskRow{OrderID: o.row.OrderID, LocationID: loc, Lines: lines, DueAt: due, Status: "open", CreatedAt: created}
	fS := factor(g.cfg.Shifts, loc, KindSLAMiss, created)
	pMissBase := min(1, rt.SLAMiss*g.dayRate(loc, KindSLAMiss, created))
	pMiss := min(1, pMissBase*fS)
	u, v := d.u(uPick), d.u(uPickTime)
	var picked time.Time
	storePick := o.row.Method == domain.MethodShipToStore && !transfer
	var pLateBase, pLate float64
	if storePick {
		late := min(1, rt.LateReady*g.dayRate(o.s.ID, KindLateReady, promised))
		pLateBase = max(late, pMissBase)
		pLate = max(min(1, late*factor(g.cfg.Shifts, o.s.ID, KindLateReady, promised)), pMiss)
	}
	switch {
	case u < pMiss:
		picked = due.Add(exp(v, 4*time.Hour))
	case storePick && u < pLate && promised.Before(due.Add(-3*time.Minute)):
		// Late for the promise, within the SLA. (A promise after the SLA's end —
		// an order on Saturday evening, promised on Monday — leaves no such
		// time: the order is picked on time instead, so SLA misses keep their
		// rate.)
		picked = promised.Add(time.Minute + time.Duration(v*float64(due.Sub(promised)-2*time.Minute)))
	case storePick:
		lo, hi := created.Add(5*time.Minute), promised
		if hi.After(due.Add(-time.Minute)) {
			hi = due.Add(-time.Minute)
		}
		if hi.Sub(lo) > 6*time.Hour {
			lo = hi.Add(-rt.StoreReadyLead)
		}
		picked = lo
		if hi.After(lo) {
			picked = between(lo, hi, v)
		}
	default:
		hi := created.Add(10 * time.Hour)
		if hi.After(due.Add(-time.Minute)) {
			hi = due.Add(-time.Minute)
		}
		picked = between(created.Add(10*time.Minute), hi, v)
	}
	picked = picked.Truncate(time.Second)
	if o.cancelledBy(picked) {
		if o.cut.Before(g.end) {
			o.task.Status = "cancelled"
		}
		return time.Time{}, false
	}
	g.truth.decide(KindSLAMiss, loc, created, pMissBase, pMiss, picked.After(due))
	if storePick {
		o.lateForPromise = &lateDecision{kind: KindLateReady, base: pLateBase, shifted: pLate}
	}
	// What staff confirm: everything, or one piece less.
	got := make([]domain.PickedLine, len(lines))
	items := 0
	for i, l := range lines {
		got[i] = domain.PickedLine{SKU: l.SKU, Quantity: l.Quantity}
		items += l.Quantity
	}
	short := d.u(uShort) < rt.ShortPick
	var refund int64
	if short {
		i := int(d.u(uShortLine) * float64(len(lines)))
		got[i].Quantity--
		refund = lines[i].UnitPrice
	}
	by := staff(loc, d.u(uStaff))
	if picked.Before(g.end) {
		started := picked.Add(-time.Duration(2+int(v*13)) * time.Minute)
		if started.Before(created) {
			started = created
		}
		o.task.Status, o.task.Picked, o.task.PickedBy, o.task.PickedAt = "done", got, by, &picked
		o.task.StartedBy, o.task.StartedAt = by, &started
		o.row.Lines = lineViews(lines, got)
	}
	if short && items == 1 {
		o.cancel(picked, by, "nothing could be picked")
		return time.Time{}, false
	}
	if short {
		if picked.Before(g.end) {
			o.row.Refunded = refund
		}
		o.notify(domain.TouchPartialRefund, 0, picked, false)
	}
	o.stage(domain.StagePicked, picked, by, "")
	return picked, true
}

// lateDecision is how an order's lateness for its promise was decided, to be
// counted once the ready time is known.
type lateDecision struct {
	kind          Kind
	base, shifted float64
}

// lineViews are the lines as the order view shows them (picked once known).
func lineViews(lines []domain.Line, picked []domain.PickedLine) []activities.LineView {
	out := make([]activities.LineView, len(lines))
	for i, l := range lines {
		out[i] = activities.LineView{SKU: l.SKU, Name: l.Name, Ordered: l.Quantity, UnitPrice: l.UnitPrice}
		if picked != nil {
			q := picked[i].Quantity
			out[i].Picked = &q
		}
	}
	return out
}
