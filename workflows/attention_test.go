package workflows_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// status queries the order's status now.
func (h *harness) status() workflows.Status {
	h.t.Helper()
	var st workflows.Status
	v, err := h.env.QueryWorkflow(workflows.QueryStatus)
	if err == nil {
		err = v.Get(&st)
	}
	if err != nil {
		h.t.Fatalf("status: %v", err)
	}
	return st
}

// statusAt records the status query's answer at a virtual time.
func (h *harness) statusAt(delay time.Duration) *workflows.Status {
	st := &workflows.Status{}
	h.env.RegisterDelayedCallback(func() { *st = h.status() }, delay)
	return st
}

// whenWaiting runs fn at the first check, from delay on and then every ten
// virtual minutes, at which the order waits for a decision: the test follows the
// order, not the clock, as support would.
func (h *harness) whenWaiting(delay time.Duration, fn func()) {
	tries := 0
	var check func()
	check = func() {
		st := h.status()
		if st.Problem != nil && st.Problem.Waiting {
			fn()
			return
		}
		if tries++; tries > 100 {
			h.t.Error("the order never waited for a decision")
			return
		}
		h.env.RegisterDelayedCallback(check, 10*time.Minute)
	}
	h.env.RegisterDelayedCallback(check, delay)
}

// resolveWhenWaiting sends a decision once the order waits for one.
func (h *harness) resolveWhenWaiting(delay time.Duration, req workflows.ResolveRequest, result any, then func()) *outcome {
	out := &outcome{}
	h.whenWaiting(delay, func() {
		h.send(out, workflows.UpdateResolve, req, result)
		if then != nil {
			then()
		}
	})
	return out
}

// journeyNotes lists the journey entries of a kind in the store (PostgreSQL's
// stand-in), as "detail by actor".
func (h *harness) journeyNotes(kind string) []string {
	var out []string
	for _, e := range h.store.Journey(h.in.Order.OrderID) {
		if e.Kind == kind {
			out = append(out, e.Detail+" by "+e.Actor)
		}
	}
	return out
}

// shortPick confirms the watch and one of the two straps: one strap is missing.
func (h *harness) shortPick(delay time.Duration) *outcome {
	return h.update(delay, workflows.UpdateCompletePick, workflows.CompletePickRequest{Lines: []domain.PickedLine{
		{SKU: "WATCH-001", Quantity: 1}, {SKU: "STRAP-LEA-20", Quantity: 1},
	}, By: "staff-1"}, nil)
}

// TestRefusedRefundWaitsForSupportAndIsSettledByHand: the payment provider refuses
// a short pick's refund for good. The order does not fail: it needs attention with
// the reason, waits (a retry meets the same refusal), and support records the
// refund as made by hand; the order then goes on to the end.
func TestRefusedRefundWaitsForSupportAndIsSettledByHand(t *testing.T) {
	h := newHarness(t, domain.MethodShipToStore)
	h.refuse["refund"] = true
	h.checkout()
	h.shortPick(time.Hour)
	waiting := &workflows.Status{}
	h.whenWaiting(2*time.Hour, func() { *waiting = h.status() })
	var resolved workflows.ResolveResult
	noNote, skip, after := &outcome{}, &outcome{}, &workflows.Status{}
	retry := h.resolveWhenWaiting(3*time.Hour, workflows.ResolveRequest{Action: workflows.ResolveRetry, By: "support-1"}, nil, func() {
		// The retry meets the same refusal: the order waits again.
		h.whenWaiting(time.Hour, func() {
			h.send(noNote, workflows.UpdateResolve, workflows.ResolveRequest{Action: workflows.ResolveSkip, By: "support-1"}, nil)
			h.send(skip, workflows.UpdateResolve, workflows.ResolveRequest{
				Action: workflows.ResolveSkip, Note: "refunded 39,00 EUR in the Stripe dashboard", By: "support-1"}, &resolved)
			h.env.RegisterDelayedCallback(func() { *after = h.status() }, time.Hour)
		})
	})
	h.collect(24 * time.Hour)

	final := h.run()

	if !waiting.NeedsAttention || waiting.Problem == nil || !waiting.Problem.Waiting {
		t.Fatalf("status while refused = %+v, want needs attention and a waiting problem", waiting)
	}
	equal(t, "problem step", waiting.Problem.Step, "refund (short-pick)")
	equal(t, "offered", waiting.Problem.Actions, []workflows.ResolveAction{workflows.ResolveRetry, workflows.ResolveSkip, workflows.ResolveCancel})
	if !strings.Contains(waiting.AttentionReason, "invalid request") {
		t.Errorf("attention reason = %q, want the provider's refusal", waiting.AttentionReason)
	}
	if retry.err != nil || retry.rejected != nil {
		t.Errorf("retry: %+v", retry)
	}
	if noNote.rejected == nil || !strings.Contains(noNote.rejected.Error(), "note") {
		t.Errorf("skip without a note: rejected = %v, want a note required", noNote.rejected)
	}
	if skip.err != nil || resolved.Step != "refund (short-pick)" {
		t.Errorf("skip: %+v %+v", skip, resolved)
	}
	if after.NeedsAttention || after.Problem != nil {
		t.Errorf("status after the decision = %+v, want the flag down", after)
	}
	equal(t, "final stage", final.Stage, domain.StageCompleted)
	equal(t, "refunded (by hand)", final.Refunded, int64(3900))
	equal(t, "refunded at the provider", h.pay.Refunded("pi_test_1"), int64(0))
	notes := strings.Join(append(h.journeyNotes(activities.EntryStaffAction), h.journeyNotes(activities.EntryAttentionResolved)...), "\n")
	for _, want := range []string{"retry of refund (short-pick) by support-1", "skip of refund (short-pick): refunded 39,00 EUR in the Stripe dashboard by support-1"} {
		if !strings.Contains(notes, want) {
			t.Errorf("journey lacks %q:\n%s", want, notes)
		}
	}
	if h.store.NeedsAttention(h.in.Order.OrderID) {
		t.Error("projection still needs attention")
	}
}

// TestRefusedCancelRefundIsRetriedOnce: a cancellation's refund is refused until
// support fixed the cause and retries: the money goes back exactly once, the pick
// task is closed and the stock returned.
func TestRefusedCancelRefundIsRetriedOnce(t *testing.T) {
	h := newHarness(t, domain.MethodShipToStore)
	h.refuse["refund"] = true
	h.checkout()
	var cancelled workflows.CancelResult
	c := h.update(time.Hour, workflows.UpdateCancel, workflows.CancelRequest{Reason: "customer asked", By: "support-1"}, &cancelled)
	waiting := &workflows.Status{}
	h.whenWaiting(2*time.Hour, func() {
		*waiting = h.status()
		h.refuse["refund"] = false // support fixed the cause
	})
	h.resolveWhenWaiting(4*time.Hour, workflows.ResolveRequest{Action: workflows.ResolveRetry, By: "support-2"}, nil, nil)

	final := h.run()

	if waiting.Problem == nil || waiting.Problem.Step != "refund (cancel)" {
		t.Fatalf("status while refused = %+v", waiting)
	}
	if slices.Contains(waiting.Problem.Actions, workflows.ResolveCancel) {
		t.Errorf("a cancellation's refund offers cancel: %v", waiting.Problem.Actions)
	}
	if c.err != nil {
		t.Fatalf("cancel: %v", c.err)
	}
	equal(t, "cancel answer", cancelled, workflows.CancelResult{OrderID: "A-10001", Stage: domain.StageCancelled, Refunded: total})
	equal(t, "final stage", final.Stage, domain.StageCancelled)
	equal(t, "refunded at the provider", h.pay.Refunded("pi_test_1"), int64(total))
	pt, _ := h.store.PickTask(h.in.Order.OrderID)
	equal(t, "pick task cancelled", pt.Cancelled, true)
	equal(t, "stock back", h.store.StockQuantity("berlin-mitte", "WATCH-001"), 10)
	equal(t, "needs attention at the end", h.store.NeedsAttention(h.in.Order.OrderID), false)
}

// TestUndeliverableAddressIsCancelledBySupport: no carrier takes the address, so
// the label step waits for support (there is no shipping it by hand); support
// cancels with a refund, and nothing is left open.
func TestUndeliverableAddressIsCancelledBySupport(t *testing.T) {
	h := newHarness(t, domain.MethodHomeDelivery)
	h.in.Order.Address.PostalCode = "00000" // the sandbox carrier's undeliverable address
	h.checkout()
	h.pickAll(time.Hour)
	waiting := &workflows.Status{}
	h.whenWaiting(2*time.Hour, func() { *waiting = h.status() })
	h.resolveWhenWaiting(3*time.Hour, workflows.ResolveRequest{
		Action: workflows.ResolveCancel, Refund: true, Note: "address does not exist; customer informed", By: "support-1"}, nil, nil)

	final := h.run()

	if waiting.Problem == nil || waiting.Problem.Step != "buy home-delivery label" {
		t.Fatalf("status = %+v, want the label step waiting", waiting)
	}
	equal(t, "offered", waiting.Problem.Actions, []workflows.ResolveAction{workflows.ResolveRetry, workflows.ResolveCancel})
	equal(t, "final stage", final.Stage, domain.StageCancelled)
	equal(t, "refunded", h.pay.Refunded("pi_test_1"), int64(total))
	equal(t, "stock back", h.store.StockQuantity("dc-erfurt", "WATCH-001"), 10)
	equal(t, "journey", h.stages(), []string{"accepted", "payment_captured", "picking", "picked", "cancelled"})
	if notes := h.journeyNotes(activities.EntryAttention); len(notes) != 1 || !strings.Contains(notes[0], "buy home-delivery label refused") {
		t.Errorf("attention entries = %v", notes)
	}
}

// TestCancelWithoutRefund: support cancels a waiting order and settles the money
// outside: nothing is refunded by the system, and the journey says so.
func TestCancelWithoutRefund(t *testing.T) {
	h := newHarness(t, domain.MethodHomeDelivery)
	h.in.Order.Address.PostalCode = "00000"
	h.checkout()
	h.pickAll(time.Hour)
	h.resolveWhenWaiting(3*time.Hour, workflows.ResolveRequest{
		Action: workflows.ResolveCancel, Note: "customer keeps store credit instead", By: "support-1"}, nil, nil)

	final := h.run()

	equal(t, "final stage", final.Stage, domain.StageCancelled)
	equal(t, "refunded", h.pay.Refunded("pi_test_1"), int64(0))
	notes := strings.Join(h.journeyNotes(activities.EntryAttentionResolved), "\n")
	if !strings.Contains(notes, "(no refund)") {
		t.Errorf("journey does not say the cancel refunded nothing:\n%s", notes)
	}
}

// TestOutageFlagsTheOrderWhileRetrying: the carrier is down for longer than the
// policy's StuckAfter. The order needs attention while the label step retries by
// itself, and the flag goes down when the carrier is back.
func TestOutageFlagsTheOrderWhileRetrying(t *testing.T) {
	h := newHarness(t, domain.MethodHomeDelivery)
	h.in.Policy.StuckAfter = 10 * time.Minute
	h.flaky["label"] = true
	h.checkout()
	h.pickAll(time.Hour)
	during := h.statusAt(time.Hour + 30*time.Minute)
	h.env.RegisterDelayedCallback(func() { h.flaky["label"] = false }, 2*time.Hour)
	h.env.RegisterDelayedCallback(func() { h.deliver() }, 3*time.Hour)

	final := h.run()

	if !during.NeedsAttention || during.Problem == nil || during.Problem.Waiting {
		t.Fatalf("status during the outage = %+v, want flagged and retrying", during)
	}
	if !strings.Contains(during.AttentionReason, "keeps failing") {
		t.Errorf("reason = %q", during.AttentionReason)
	}
	equal(t, "final stage", final.Stage, domain.StageCompleted)
	equal(t, "needs attention at the end", h.store.NeedsAttention(h.in.Order.OrderID), false)
	if notes := h.journeyNotes(activities.EntryAttentionResolved); len(notes) != 1 || !strings.Contains(notes[0], "succeeded") {
		t.Errorf("resolved entries = %v", notes)
	}
}

// TestResolveWithNothingToResolveIsRejected: a decision for an order that waits
// for none is refused and changes nothing.
func TestResolveWithNothingToResolveIsRejected(t *testing.T) {
	h := newHarness(t, domain.MethodShipToStore)
	h.checkout()
	r := h.update(time.Hour, workflows.UpdateResolve, workflows.ResolveRequest{Action: workflows.ResolveRetry, By: "support-1"}, nil)
	h.pickAll(2 * time.Hour)
	h.collect(3 * time.Hour)

	final := h.run()

	if !refusedAs(r.rejected, workflows.ErrTypeNothingToResolve) {
		t.Errorf("resolve without a problem: rejected = %v", r.rejected)
	}
	equal(t, "final stage", final.Stage, domain.StageCompleted)
}
