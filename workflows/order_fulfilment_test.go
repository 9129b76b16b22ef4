package workflows_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/workflows"
)

const total = 24900 + 2*3900

func TestShipToStoreFromStoreStock(t *testing.T) {
	h := newHarness(t, domain.MethodShipToStore)
	res, co := h.checkout()
	pick := h.pickAll(time.Hour)
	handover := h.collect(26 * time.Hour)

	final := h.run()

	if !co.accepted || co.err != nil {
		t.Fatalf("checkout: accepted=%v err=%v", co.accepted, co.err)
	}
	equal(t, "checkout outcome", res.Outcome, workflows.OutcomeCaptured)
	equal(t, "captured at checkout", res.CapturedAmount, int64(total))
	// Placed at 09:00 before the store opens at 10:00: ready two hours after opening.
	if want := time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC); res.PromisedReadyAt == nil || !res.PromisedReadyAt.Equal(want) {
		t.Errorf("promised ready at %v, want %v (12:00 in Berlin)", res.PromisedReadyAt, want)
	}
	if pick.err != nil || handover.err != nil || !handover.done {
		t.Fatalf("pick err=%v, handover done=%v err=%v rejected=%v", pick.err, handover.done, handover.err, handover.rejected)
	}
	equal(t, "final stage", final.Stage, domain.StageCompleted)
	equal(t, "captured", h.pay.Captured("pi_test_1"), int64(total))
	equal(t, "refunded", final.Refunded, int64(0))
	equal(t, "store watch stock", h.store.StockQuantity("berlin-mitte", "WATCH-001"), 9)
	equal(t, "store strap stock", h.store.StockQuantity("berlin-mitte", "STRAP-LEA-20"), 8)
	equal(t, "DC watch stock", h.store.StockQuantity("dc-erfurt", "WATCH-001"), 10)
	equal(t, "journey", h.stages(), []string{"accepted", "payment_captured", "picking", "picked",
		"ready_for_pickup", "picked_up", "review_requested", "completed"})
	equal(t, "emails", h.sentTouchpoints(), []string{"order-confirmed", "ready-for-pickup", "picked-up", "review-request"})
}

func TestHomeDelivery(t *testing.T) {
	h := newHarness(t, domain.MethodHomeDelivery)
	res, _ := h.checkout()
	h.pickAll(time.Hour)
	h.env.RegisterDelayedCallback(func() {
		code := h.trackingCode()
		for _, status := range []string{"in_transit", "out_for_delivery", "in_transit", "delivered", "delivered"} {
			h.env.SignalWorkflow(workflows.SignalCarrierEvent, workflows.CarrierEvent{
				EventID: code + ":" + status, TrackingCode: code, Status: status, At: h.env.Now(),
			})
		}
	}, 30*time.Hour)

	final := h.run()

	equal(t, "checkout outcome", res.Outcome, workflows.OutcomeCaptured)
	if res.PromisedReadyAt != nil {
		t.Errorf("home delivery has a promised pickup date %v", res.PromisedReadyAt)
	}
	equal(t, "final stage", final.Stage, domain.StageCompleted)
	equal(t, "captured", h.pay.Captured("pi_test_1"), int64(total))
	equal(t, "DC watch stock", h.store.StockQuantity("dc-erfurt", "WATCH-001"), 9)
	equal(t, "store watch stock", h.store.StockQuantity("berlin-mitte", "WATCH-001"), 10)
	equal(t, "journey", h.stages(), []string{"accepted", "payment_captured", "picking", "picked",
		"shipped", "delivered", "review_requested", "completed"})
	equal(t, "emails", h.sentTouchpoints(), []string{"order-confirmed", "shipped", "delivered", "review-request"})
}

func TestDeclinedCardEndsAsPaymentFailed(t *testing.T) {
	h := newHarness(t, domain.MethodShipToStore)
	h.in.Order.PaymentIntentID = "pi_decline_1"
	res, _ := h.checkout()

	final := h.run()

	equal(t, "checkout outcome", res.Outcome, workflows.OutcomePaymentFailed)
	equal(t, "reason", res.Reason, "the card was declined")
	equal(t, "final stage", final.Stage, domain.StagePaymentFailed)
	equal(t, "stock released", h.store.StockQuantity("berlin-mitte", "WATCH-001"), 10)
	equal(t, "journey", h.stages(), []string{"accepted", "payment_failed"})
	equal(t, "emails", h.sentTouchpoints(), []string{"payment-failed"})
}

func TestStockShortRejectsAtCheckout(t *testing.T) {
	h := newHarness(t, domain.MethodShipToStore)
	h.in.Order.Lines[1].Quantity = 11 // neither the store nor the DC has 11 straps
	res, _ := h.checkout()

	final := h.run()

	equal(t, "checkout outcome", res.Outcome, workflows.OutcomeRejected)
	equal(t, "short", res.Short, []activities.ShortLine{{SKU: "STRAP-LEA-20", Requested: 11, Available: 10}})
	equal(t, "final stage", final.Stage, domain.StageRejected)
	equal(t, "nothing captured", h.pay.Captured("pi_test_1"), int64(0))
	equal(t, "stock untouched", h.store.StockQuantity("berlin-mitte", "WATCH-001"), 10)
}

func TestMalformedOrderIsRejectedByTheValidator(t *testing.T) {
	h := newHarness(t, domain.MethodShipToStore)
	h.in.Order.Lines[0].Quantity = 0
	_, co := h.checkout()

	final := h.run()

	if co.rejected == nil || !strings.Contains(co.rejected.Error(), "lines[0].quantity") {
		t.Fatalf("checkout rejection = %v, want one naming lines[0].quantity", co.rejected)
	}
	equal(t, "final stage", final.Stage, domain.StageRejected)
	equal(t, "nothing captured", h.pay.Captured("pi_test_1"), int64(0))
	equal(t, "no journey", len(h.stages()), 0)
}

func TestWrongPickupCodeAndWrongStoreAreRejected(t *testing.T) {
	h := newHarness(t, domain.MethodShipToStore)
	h.checkout()
	h.pickAll(time.Hour)
	wrongCode := h.update(2*time.Hour, workflows.UpdateCompletePickup, h.presented("berlin-mitte", "not-the-code", "staff-1"), nil)
	wrongStore := &outcome{}
	h.env.RegisterDelayedCallback(func() {
		h.send(wrongStore, workflows.UpdateCompletePickup, h.presented("hamburg-altona", h.pickupCode(), "staff-2"), nil)
	}, 3*time.Hour)
	h.collect(4 * time.Hour)

	final := h.run()

	if !refusedAs(wrongCode.err, workflows.ErrTypeWrongPickupCode) {
		t.Errorf("wrong code: %+v, want the update to fail as a counted wrong code", wrongCode)
	}
	if !refusedAs(wrongStore.rejected, workflows.ErrTypeWrongStore) {
		t.Errorf("right code at the wrong store: rejected = %v", wrongStore.rejected)
	}
	equal(t, "final stage", final.Stage, domain.StageCompleted)
}

func TestPickupWindowExpiryCancelsAndRefunds(t *testing.T) {
	h := newHarness(t, domain.MethodShipToStore)
	h.checkout()
	h.pickAll(time.Hour)

	final := h.run()

	equal(t, "final stage", final.Stage, domain.StageCancelled)
	equal(t, "refunded", h.pay.Refunded("pi_test_1"), int64(total))
	equal(t, "result refunded", final.Refunded, int64(total))
	equal(t, "stock returned", h.store.StockQuantity("berlin-mitte", "STRAP-LEA-20"), 10)
	equal(t, "emails", h.sentTouchpoints(), []string{"order-confirmed", "ready-for-pickup", "pickup-reminder-1", "pickup-reminder-2", "cancelled"})
}

func TestShortPickRefundsExactlyTheMissingLines(t *testing.T) {
	h := newHarness(t, domain.MethodShipToStore)
	h.checkout()
	var result workflows.CompletePickResult
	pick := h.update(time.Hour, workflows.UpdateCompletePick, workflows.CompletePickRequest{By: "staff-1", Lines: []domain.PickedLine{
		{SKU: "WATCH-001", Quantity: 1}, {SKU: "STRAP-LEA-20", Quantity: 1},
	}}, &result)
	h.collect(3 * time.Hour)

	final := h.run()

	if pick.err != nil {
		t.Fatal(pick.err)
	}
	equal(t, "refund announced to staff", result.RefundPending, int64(3900))
	equal(t, "final stage", final.Stage, domain.StageCompleted)
	equal(t, "refunded", h.pay.Refunded("pi_test_1"), int64(3900))
	equal(t, "missing strap back in stock", h.store.StockQuantity("berlin-mitte", "STRAP-LEA-20"), 9)
	equal(t, "emails", h.sentTouchpoints(), []string{"order-confirmed", "partial-refund", "ready-for-pickup", "picked-up", "review-request"})
}

func TestNothingPickedCancels(t *testing.T) {
	h := newHarness(t, domain.MethodShipToStore)
	h.checkout()
	h.update(time.Hour, workflows.UpdateCompletePick, workflows.CompletePickRequest{By: "staff-1", Lines: []domain.PickedLine{
		{SKU: "WATCH-001", Quantity: 0}, {SKU: "STRAP-LEA-20", Quantity: 0},
	}}, nil)

	final := h.run()

	equal(t, "final stage", final.Stage, domain.StageCancelled)
	equal(t, "refunded", h.pay.Refunded("pi_test_1"), int64(total))
	equal(t, "stock returned", h.store.StockQuantity("berlin-mitte", "WATCH-001"), 10)
}

func TestPickValidatorNamesTheBadLine(t *testing.T) {
	h := newHarness(t, domain.MethodShipToStore)
	h.checkout()
	bad := h.update(time.Hour, workflows.UpdateCompletePick, workflows.CompletePickRequest{By: "staff-1", Lines: []domain.PickedLine{
		{SKU: "WATCH-001", Quantity: 2}, {SKU: "STRAP-LEA-20", Quantity: 2},
	}}, nil)
	h.pickAll(2 * time.Hour)
	h.collect(3 * time.Hour)

	h.run()

	if bad.rejected == nil || !strings.Contains(bad.rejected.Error(), "lines[0].quantity: must be between 0 and 1") {
		t.Errorf("over-pick rejected with %v", bad.rejected)
	}
}

func TestPickingSLAMarksNeedsAttention(t *testing.T) {
	h := newHarness(t, domain.MethodShipToStore)
	h.checkout()
	h.pickAll(h.in.Policy.PickingSLA + time.Hour)
	h.collect(h.in.Policy.PickingSLA + 2*time.Hour)

	final := h.run()

	equal(t, "final stage", final.Stage, domain.StageCompleted)
	var attention []string
	for _, e := range h.store.Journey(h.in.Order.OrderID) {
		if e.Kind == activities.EntryAttention {
			attention = append(attention, e.Detail)
		}
	}
	equal(t, "attention entries", attention, []string{"picking SLA passed"})
}

func TestTransferFromDistributionCentre(t *testing.T) {
	h := newHarness(t, domain.MethodShipToStore)
	h.setStock("berlin-mitte", "WATCH-001", 0)
	res, _ := h.checkout()
	h.pickAll(time.Hour)
	arrival := h.update(30*time.Hour, workflows.UpdateConfirmArrival, workflows.ConfirmArrivalRequest{StoreID: "berlin-mitte", By: "staff-1"}, nil)
	h.collect(40 * time.Hour)

	final := h.run()

	// A transfer takes two opening days: Wednesday, two hours after opening.
	if want := time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC); res.PromisedReadyAt == nil || !res.PromisedReadyAt.Equal(want) {
		t.Errorf("promised ready at %v, want %v (Wednesday 12:00 in Berlin)", res.PromisedReadyAt, want)
	}
	if arrival.err != nil || !arrival.done {
		t.Fatalf("arrival: %+v", arrival)
	}
	equal(t, "final stage", final.Stage, domain.StageCompleted)
	equal(t, "DC stock taken", h.store.StockQuantity("dc-erfurt", "WATCH-001"), 9)
	equal(t, "journey", h.stages(), []string{"accepted", "payment_captured", "picking", "picked",
		"in_transit_to_store", "ready_for_pickup", "picked_up", "review_requested", "completed"})
}

// arriveDuringLabel has staff confirm the transfer's arrival from inside the
// carrier call of the activity that buys its label and records the order in
// transit: the staff's list shows the parcel arriving once that activity has
// written the projection, before the workflow has taken the activity's result.
// The carrier call goes on once the workflow accepted or refused the update.
func (h *harness) arriveDuringLabel() *outcome {
	out := &outcome{}
	h.duringLabel = func() {
		answered := make(chan struct{}, 1)
		h.env.UpdateWorkflow(workflows.UpdateConfirmArrival, "", &testsuite.TestUpdateCallback{
			OnAccept:   func() { out.accepted = true; answered <- struct{}{} },
			OnReject:   func(err error) { out.rejected = err; answered <- struct{}{} },
			OnComplete: func(_ any, err error) { out.done, out.err = true, err },
		}, workflows.ConfirmArrivalRequest{StoreID: "berlin-mitte", By: "staff-1"})
		select {
		case <-answered:
		case <-time.After(10 * time.Second):
			h.t.Error("the arrival was neither accepted nor refused within 10 s")
		}
	}
	return out
}

// TestArrivalWhileTheLabelIsRecordedWaitsForIt: staff scan the parcel while the
// label's journey activity is still running (CI met this on a loaded machine:
// the list said in transit, the workflow still picked, and the arrival was
// refused). The arrival is accepted, applied once the order is in transit, and
// the order becomes ready with no second scan.
func TestArrivalWhileTheLabelIsRecordedWaitsForIt(t *testing.T) {
	h := newHarness(t, domain.MethodShipToStore)
	h.setStock("berlin-mitte", "WATCH-001", 0)
	h.checkout()
	arrival := h.arriveDuringLabel()
	h.pickAll(time.Hour)
	h.collect(40 * time.Hour)

	final := h.run()

	if !arrival.accepted || !arrival.done || arrival.err != nil {
		t.Fatalf("arrival during the label: %+v", arrival)
	}
	equal(t, "final stage", final.Stage, domain.StageCompleted)
	equal(t, "journey", h.stages(), []string{"accepted", "payment_captured", "picking", "picked",
		"in_transit_to_store", "ready_for_pickup", "picked_up", "review_requested", "completed"})
	var readyAfter time.Duration
	for _, e := range h.store.Journey(h.in.Order.OrderID) {
		if e.Kind == activities.EntryStage && e.Key == "stage:ready_for_pickup" {
			readyAfter = e.At.Sub(mondayMorning)
		}
	}
	if readyAfter > 2*time.Hour {
		t.Errorf("ready for pickup %s after checkout: the arrival was not applied when the order entered transit", readyAfter)
	}
}

// TestArrivalDuringARefusedLabelIsRefused: an arrival sent while the label's
// activity runs, whose label the carrier then refuses, is refused as before the
// label: the order stays picked, waiting for support, who cancel it.
func TestArrivalDuringARefusedLabelIsRefused(t *testing.T) {
	h := newHarness(t, domain.MethodShipToStore)
	h.setStock("berlin-mitte", "WATCH-001", 0)
	h.refuse["label"] = true
	h.checkout()
	arrival := h.arriveDuringLabel()
	h.pickAll(time.Hour)
	waiting := &workflows.Status{}
	h.whenWaiting(2*time.Hour, func() { *waiting = h.status() })
	h.resolveWhenWaiting(3*time.Hour, workflows.ResolveRequest{
		Action: workflows.ResolveCancel, Refund: true, Note: "no label for the transfer", By: "support-1"}, nil, nil)

	final := h.run()

	// Refused once the label is: accepted while it could still be bought, then
	// refused with the same words as a scan before the pick.
	if refused := arrival.err; !arrival.done || !refusedAs(refused, workflows.ErrTypeWrongStage) ||
		!strings.Contains(refused.Error(), "not on its way to the store (stage picked)") {
		t.Fatalf("arrival during a refused label: %+v", arrival)
	}
	if waiting.Stage != domain.StagePicked || waiting.Problem == nil || waiting.Problem.Step != "buy store-transfer label" {
		t.Errorf("status while waiting = %+v, want picked and the label step waiting", waiting)
	}
	equal(t, "final stage", final.Stage, domain.StageCancelled)
	equal(t, "journey", h.stages(), []string{"accepted", "payment_captured", "picking", "picked", "cancelled"})
}

// TestTransferDeliveredBeforeTheLabelIsTracked: the carrier reports the transfer
// delivered before the workflow has taken in its label (the label was bought and
// the event sent while the activity was still recording, or its worker died):
// the early event still counts as the arrival once the order is in transit, and
// the order becomes ready without staff confirming it.
func TestTransferDeliveredBeforeTheLabelIsTracked(t *testing.T) {
	h := newHarness(t, domain.MethodShipToStore)
	h.setStock("berlin-mitte", "WATCH-001", 0)
	// The sandbox carrier gives the same label for the same idempotency key: learn
	// the tracking code the transfer will have.
	label, err := h.carrier.BuyLabel(context.Background(), activities.LabelRequest{
		OrderID: "A-10001", Purpose: activities.PurposeStoreTransfer, Items: 3,
		From:           domain.Address{Line1: "Am Logistikpark 1", PostalCode: "99091", City: "Erfurt", Country: "DE"},
		To:             domain.Address{Line1: "Rosenthaler Str. 40", PostalCode: "10178", City: "Berlin", Country: "DE"},
		IdempotencyKey: "A-10001:label:" + activities.PurposeStoreTransfer,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.checkout()
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflow(workflows.SignalCarrierEvent, workflows.CarrierEvent{
			EventID: label.TrackingCode + ":delivered", TrackingCode: label.TrackingCode, Status: workflows.CarrierDelivered, At: h.env.Now(),
		})
	}, 30*time.Minute)
	h.pickAll(time.Hour)
	h.collect(3 * time.Hour)

	final := h.run()

	equal(t, "final stage", final.Stage, domain.StageCompleted)
	equal(t, "journey", h.stages(), []string{"accepted", "payment_captured", "picking", "picked",
		"in_transit_to_store", "ready_for_pickup", "picked_up", "review_requested", "completed"})
}

func TestReviewRequestNeedsConsentAtSendTime(t *testing.T) {
	h := newHarness(t, domain.MethodShipToStore)
	h.checkout()
	h.pickAll(time.Hour)
	h.collect(2 * time.Hour)
	h.env.RegisterDelayedCallback(func() { h.store.SetMarketingConsent("C-1", false) }, 3*24*time.Hour)

	final := h.run()

	equal(t, "final stage", final.Stage, domain.StageCompleted)
	equal(t, "journey", h.stages(), []string{"accepted", "payment_captured", "picking", "picked",
		"ready_for_pickup", "picked_up", "completed"})
	equal(t, "emails", h.sentTouchpoints(), []string{"order-confirmed", "ready-for-pickup", "picked-up"})
}

func TestStatusQueryMasksThePickupCode(t *testing.T) {
	h := newHarness(t, domain.MethodShipToStore)
	h.checkout()
	h.pickAll(time.Hour)
	var st workflows.Status
	h.env.RegisterDelayedCallback(func() {
		v, err := h.env.QueryWorkflow(workflows.QueryStatus)
		if err != nil {
			t.Error(err)
			return
		}
		if err := v.Get(&st); err != nil {
			t.Error(err)
		}
	}, 2*time.Hour)
	h.collect(3 * time.Hour)

	h.run()

	equal(t, "stage at query", st.Stage, domain.StageReadyForPickup)
	if code := h.pickupCode(); st.PickupCode == code || st.PickupCode == "" {
		t.Errorf("status shows pickup code %q", st.PickupCode)
	}
	if st.PickupDeadline == nil || st.Captured != total || len(st.Journey) != 5 {
		t.Errorf("status = %+v", st)
	}
}

func TestCarrierEventBeforeTheLabelIsRecordedIsNotLost(t *testing.T) {
	h := newHarness(t, domain.MethodHomeDelivery)
	// The sandbox label is a function of its idempotency key: learn its tracking code
	// as the carrier's webhook would know it before the workflow does.
	label, err := h.carrier.BuyLabel(t.Context(), activities.LabelRequest{
		IdempotencyKey: h.in.Order.OrderID + ":label:" + activities.PurposeHomeDelivery, To: *h.in.Order.Address,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.checkout()
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflow(workflows.SignalCarrierEvent, workflows.CarrierEvent{
			EventID: "ev-1", TrackingCode: label.TrackingCode, Status: workflows.CarrierDelivered, At: h.env.Now(),
		})
	}, 30*time.Minute)
	h.pickAll(time.Hour)

	final := h.run()

	equal(t, "final stage", final.Stage, domain.StageCompleted)
	equal(t, "journey", h.stages(), []string{"accepted", "payment_captured", "picking", "picked",
		"shipped", "delivered", "review_requested", "completed"})
}

func TestPaymentCapturedElsewhereNeedsAttention(t *testing.T) {
	h := newHarness(t, domain.MethodShipToStore)
	h.in.Order.PaymentIntentID = "pi_captured_1"
	res, _ := h.checkout()

	final := h.run()

	equal(t, "checkout outcome", res.Outcome, workflows.OutcomePaymentFailed)
	equal(t, "final stage", final.Stage, domain.StagePaymentFailed)
	equal(t, "needs attention", h.store.NeedsAttention(h.in.Order.OrderID), true)
	equal(t, "stock released", h.store.StockQuantity("berlin-mitte", "WATCH-001"), 10)
}

// sentAt returns when each email was sent, by touchpoint (virtual time).
func (h *harness) sentAt() map[string]time.Time {
	out := map[string]time.Time{}
	for _, m := range h.email.Sent() {
		out[strings.Split(m.NotificationKey, ":")[2]] = m.At.UTC()
	}
	return out
}

func TestCancelWhilePickingRefundsAndReleases(t *testing.T) {
	h := newHarness(t, domain.MethodShipToStore)
	h.checkout()
	var res workflows.CancelResult
	c := h.update(time.Hour, workflows.UpdateCancel, workflows.CancelRequest{Reason: "customer changed their mind", By: "support-1"}, &res)

	final := h.run()

	if c.err != nil || !c.done {
		t.Fatalf("cancel: %+v", c)
	}
	equal(t, "cancel answer", res, workflows.CancelResult{OrderID: "A-10001", Stage: domain.StageCancelled, Refunded: total})
	equal(t, "final stage", final.Stage, domain.StageCancelled)
	equal(t, "refunded", h.pay.Refunded("pi_test_1"), int64(total))
	equal(t, "stock back", h.store.StockQuantity("berlin-mitte", "STRAP-LEA-20"), 10)
	equal(t, "journey", h.stages(), []string{"accepted", "payment_captured", "picking", "cancelled"})
	equal(t, "emails", h.sentTouchpoints(), []string{"order-confirmed", "cancelled"})
}

func TestCancelAfterHandoverIsRejected(t *testing.T) {
	h := newHarness(t, domain.MethodShipToStore)
	h.checkout()
	h.pickAll(time.Hour)
	h.collect(2 * time.Hour)
	late := h.update(3*time.Hour, workflows.UpdateCancel, workflows.CancelRequest{Reason: "too late", By: "support-1"}, nil)

	final := h.run()

	if !refusedAs(late.rejected, workflows.ErrTypeWrongStage) || !strings.Contains(late.rejected.Error(), "already been handed over") {
		t.Errorf("cancel after handover: rejected = %v", late.rejected)
	}
	equal(t, "final stage", final.Stage, domain.StageCompleted)
	equal(t, "nothing refunded", h.pay.Refunded("pi_test_1"), int64(0))
}

func TestCancelHomeDeliveryBeforeShippingIsPossibleAfterwardsNot(t *testing.T) {
	h := newHarness(t, domain.MethodHomeDelivery)
	h.checkout()
	h.pickAll(time.Hour)
	late := h.update(2*time.Hour, workflows.UpdateCancel, workflows.CancelRequest{Reason: "too late", By: "support-1"}, nil)
	h.env.RegisterDelayedCallback(func() { h.deliver() }, 3*time.Hour)

	final := h.run()

	if late.rejected == nil {
		t.Error("cancel after shipping was accepted")
	}
	equal(t, "final stage", final.Stage, domain.StageCompleted)
}

func TestExtendPickupMovesDeadlineAndReminders(t *testing.T) {
	h := newHarness(t, domain.MethodShipToStore)
	h.checkout()
	h.pickAll(time.Hour)
	// Ready at +1h; deadline +7d+1h. After the first reminder (+2d+1h), support
	// extends by three days: the second reminder moves from +5d+1h to +8d+1h.
	readyAt := mondayMorning.Add(time.Hour)
	var ext workflows.PickupResult
	e := h.update(3*24*time.Hour, workflows.UpdateExtendPickup, workflows.ExtendPickupRequest{
		Until: readyAt.Add(10 * 24 * time.Hour), By: "support-1"}, &ext)
	tooFar := h.update(3*24*time.Hour+time.Minute, workflows.UpdateExtendPickup, workflows.ExtendPickupRequest{
		Until: readyAt.Add(60 * 24 * time.Hour), By: "support-1"}, nil)
	h.collect(9 * 24 * time.Hour)

	final := h.run()

	if e.err != nil || !ext.Deadline.Equal(readyAt.Add(10*24*time.Hour)) {
		t.Fatalf("extend: %+v %+v", e, ext)
	}
	if tooFar.rejected == nil || !strings.Contains(tooFar.rejected.Error(), "until") {
		t.Errorf("extension beyond 30 days: rejected = %v", tooFar.rejected)
	}
	equal(t, "final stage", final.Stage, domain.StageCompleted)
	at := h.sentAt()
	equal(t, "first reminder", at["pickup-reminder-1"], readyAt.Add(2*24*time.Hour))
	equal(t, "second reminder moved", at["pickup-reminder-2"], readyAt.Add(8*24*time.Hour))
}

// TestLockedPickupNeedsSupportToUnlock: the workflow counts wrong codes itself;
// the last allowed one locks the handover (even the right code is refused), and
// support's unlock starts the count afresh.
func TestLockedPickupNeedsSupportToUnlock(t *testing.T) {
	h := newHarness(t, domain.MethodShipToStore)
	h.checkout()
	h.pickAll(time.Hour)
	var wrong []*outcome
	for i := range workflows.MaxWrongPickupCodes {
		wrong = append(wrong, h.update(2*time.Hour+time.Duration(i)*time.Minute, workflows.UpdateCompletePickup,
			h.presented("berlin-mitte", "000000", "staff-1"), nil))
	}
	whileLocked := h.collect(3 * time.Hour)
	h.env.RegisterDelayedCallback(func() {
		equal(t, "needs attention while locked", h.store.NeedsAttention("A-10001"), true)
		equal(t, "wrong codes while locked", h.status().WrongPickupCodes, workflows.MaxWrongPickupCodes)
	}, 3*time.Hour+time.Minute)
	unlock := h.update(4*time.Hour, workflows.UpdateUnlockPickup, workflows.UnlockPickupRequest{By: "support-1"}, nil)
	afterUnlock := h.update(4*time.Hour+time.Minute, workflows.UpdateCompletePickup, h.presented("berlin-mitte", "000000", "staff-1"), nil)
	after := h.collect(5 * time.Hour)

	final := h.run()

	if unlock.err != nil {
		t.Fatalf("unlock %+v", unlock)
	}
	for i, w := range wrong {
		left, ok := attemptsLeft(w.err)
		if !ok {
			t.Fatalf("wrong code %d: %+v, want a counted wrong code", i+1, w)
		}
		equal(t, fmt.Sprintf("attempts left after wrong code %d", i+1), left, workflows.MaxWrongPickupCodes-1-i)
	}
	if left, ok := attemptsLeft(afterUnlock.err); !ok || left != workflows.MaxWrongPickupCodes-1 {
		t.Errorf("first wrong code after unlock: %+v (%d left), want the count started afresh", afterUnlock, left)
	}
	if !refusedAs(whileLocked.rejected, workflows.ErrTypePickupLocked) {
		t.Errorf("right code while locked: rejected = %v", whileLocked.rejected)
	}
	if !after.done || after.err != nil {
		t.Errorf("handover after unlock: %+v", after)
	}
	equal(t, "needs attention after unlock", h.store.NeedsAttention("A-10001"), false)
	equal(t, "final stage", final.Stage, domain.StageCompleted)
}

func TestLateTransferSendsPickupDateChanged(t *testing.T) {
	h := newHarness(t, domain.MethodShipToStore)
	h.setStock("berlin-mitte", "WATCH-001", 0)
	h.checkout()
	h.pickAll(time.Hour)
	// Promised Wednesday noon; the parcel arrives on Thursday afternoon.
	h.update(3*24*time.Hour+6*time.Hour, workflows.UpdateConfirmArrival, workflows.ConfirmArrivalRequest{StoreID: "berlin-mitte", By: "staff-1"}, nil)
	h.collect(4 * 24 * time.Hour)

	final := h.run()

	equal(t, "final stage", final.Stage, domain.StageCompleted)
	equal(t, "emails", h.sentTouchpoints(), []string{"order-confirmed", "pickup-date-changed", "ready-for-pickup", "picked-up", "review-request"})
}

func TestReviewRequestIsDeferredOutOfQuietHours(t *testing.T) {
	h := newHarness(t, domain.MethodShipToStore)
	h.checkout()
	h.pickAll(time.Hour)
	// Handover at 22:30 in Berlin: a week later is quiet time, so the request waits
	// until 08:00 the next morning.
	handover := time.Date(2026, 11, 24, 21, 30, 0, 0, time.UTC)
	h.collect(handover.Sub(mondayMorning))

	h.run()

	want := time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC) // 08:00 in Berlin
	equal(t, "review request sent at", h.sentAt()["review-request"], want)
}

func TestCarrierExceptionMarksNeedsAttention(t *testing.T) {
	h := newHarness(t, domain.MethodHomeDelivery)
	h.checkout()
	h.pickAll(time.Hour)
	h.env.RegisterDelayedCallback(func() {
		code := h.trackingCode()
		h.env.SignalWorkflow(workflows.SignalCarrierEvent, workflows.CarrierEvent{EventID: "x1", TrackingCode: code, Status: workflows.CarrierFailure, At: h.env.Now()})
	}, 2*time.Hour)
	h.env.RegisterDelayedCallback(func() {
		equal(t, "needs attention after the failed attempt", h.store.NeedsAttention("A-10001"), true)
		h.deliver()
	}, 30*time.Hour)

	final := h.run()

	equal(t, "final stage", final.Stage, domain.StageCompleted)
	equal(t, "emails", h.sentTouchpoints(), []string{"order-confirmed", "shipped", "delivery-problem-1", "delivered", "review-request"})
}

func TestExpiredAuthorizationEndsAsPaymentFailed(t *testing.T) {
	h := newHarness(t, domain.MethodHomeDelivery)
	h.in.Order.PaymentIntentID = "pi_expired_1"
	res, _ := h.checkout()

	final := h.run()

	equal(t, "checkout outcome", res.Outcome, workflows.OutcomePaymentFailed)
	equal(t, "reason", res.Reason, "the payment authorization has expired")
	equal(t, "final stage", final.Stage, domain.StagePaymentFailed)
	equal(t, "stock released", h.store.StockQuantity("dc-erfurt", "WATCH-001"), 10)
	equal(t, "needs no attention", h.store.NeedsAttention("A-10001"), false)
	equal(t, "emails", h.sentTouchpoints(), []string{"payment-failed"})
}

func TestDisputeMarksNeedsAttentionOnce(t *testing.T) {
	h := newHarness(t, domain.MethodShipToStore)
	h.checkout()
	h.pickAll(time.Hour)
	h.env.RegisterDelayedCallback(func() {
		for range 2 { // a webhook delivered twice
			h.env.SignalWorkflow(workflows.SignalPaymentEvent, workflows.PaymentEvent{EventID: "evt_1", Kind: "dispute", Amount: total, At: h.env.Now()})
		}
	}, 2*time.Hour)
	h.collect(3 * time.Hour)

	final := h.run()

	equal(t, "final stage", final.Stage, domain.StageCompleted)
	equal(t, "needs attention", h.store.NeedsAttention("A-10001"), true)
	var attention []string
	for _, e := range h.store.Journey("A-10001") {
		if e.Kind == activities.EntryAttention {
			attention = append(attention, e.Detail)
		}
	}
	equal(t, "attention entries", attention, []string{"payment provider reports a dispute of 327,00 EUR outside this order's flow"})
}

// The payment loop starts with the order's first signal (register.go): a payment
// event first, then a carrier event arriving together with a second payment event,
// are all applied.
func TestPaymentAndCarrierEventsAreEachApplied(t *testing.T) {
	h := newHarness(t, domain.MethodHomeDelivery)
	h.checkout()
	h.pickAll(time.Hour)
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflow(workflows.SignalPaymentEvent, workflows.PaymentEvent{EventID: "evt_1", Kind: "dispute", Amount: total, At: h.env.Now()})
	}, 2*time.Hour)
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflow(workflows.SignalCarrierEvent, workflows.CarrierEvent{EventID: "x1", TrackingCode: h.trackingCode(), Status: workflows.CarrierFailure, At: h.env.Now()})
		h.env.SignalWorkflow(workflows.SignalPaymentEvent, workflows.PaymentEvent{EventID: "evt_2", Kind: "refund", Amount: 100, At: h.env.Now()})
	}, 3*time.Hour)
	h.env.RegisterDelayedCallback(h.deliver, 30*time.Hour)

	final := h.run()

	equal(t, "final stage", final.Stage, domain.StageCompleted)
	attention := map[string]bool{}
	for _, e := range h.store.Journey("A-10001") {
		if e.Kind == activities.EntryAttention {
			attention[e.Detail] = true
		}
	}
	equal(t, "attention entries", attention, map[string]bool{
		"payment provider reports a dispute of 327,00 EUR outside this order's flow": true,
		"carrier reports failure": true,
		"payment provider reports a refund of 1,00 EUR outside this order's flow": true,
	})
	equal(t, "emails", h.sentTouchpoints(), []string{"order-confirmed", "shipped", "delivery-problem-1", "delivered", "review-request"})
}

func TestPickupReminderIsDeferredOutOfQuietHours(t *testing.T) {
	h := newHarness(t, domain.MethodShipToStore)
	h.checkout()
	// Picked (and ready) at 21:30 in Berlin: the first reminder, two days later,
	// would fall into the quiet hours and waits (a durable timer) until 08:00.
	readyAt := time.Date(2026, 11, 23, 20, 30, 0, 0, time.UTC)
	h.pickAll(readyAt.Sub(mondayMorning))
	h.collect(6 * 24 * time.Hour)

	h.run()

	at := h.sentAt()
	equal(t, "first reminder", at["pickup-reminder-1"], time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC))
	equal(t, "second reminder", at["pickup-reminder-2"], time.Date(2026, 11, 29, 7, 0, 0, 0, time.UTC))
}

func TestStartPickTellsTheCustomerOnce(t *testing.T) {
	h := newHarness(t, domain.MethodShipToStore)
	h.checkout()
	var started workflows.StartPickResult
	first := h.update(30*time.Minute, workflows.UpdateStartPick, workflows.StartPickRequest{By: "staff-berlin"}, &started)
	again := h.update(40*time.Minute, workflows.UpdateStartPick, workflows.StartPickRequest{By: "staff-other"}, nil)
	h.pickAll(time.Hour)
	late := h.update(2*time.Hour, workflows.UpdateStartPick, workflows.StartPickRequest{By: "staff-berlin"}, nil)
	h.collect(3 * time.Hour)

	h.run()

	if first.err != nil || started.StartedBy != "staff-berlin" {
		t.Fatalf("start pick: %+v %+v", first, started)
	}
	if again.rejected == nil || late.rejected == nil {
		t.Errorf("second start rejected = %v, start after the pick rejected = %v; want both rejected", again.rejected, late.rejected)
	}
	equal(t, "emails", h.sentTouchpoints(), []string{"order-confirmed", "in-picking", "ready-for-pickup", "picked-up", "review-request"})
	pt, _ := h.store.PickTask("A-10001")
	equal(t, "pick started by", pt.StartedBy, "staff-berlin")
}
