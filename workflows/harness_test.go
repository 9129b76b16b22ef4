package workflows_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/adapters/sandbox"
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/messages"
	"github.com/everywherecommerce/fulfilment/pickupcode"
	"github.com/everywherecommerce/fulfilment/worker/registry"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// harness runs OrderFulfilment in the time-skipping test environment with the real
// activity structs wired to the sandbox fakes, as the worker wires them.
type harness struct {
	t       *testing.T
	codes   *pickupcode.Codes // the worker's and the starter's pickup-code key
	env     *testsuite.TestWorkflowEnvironment
	store   *sandbox.Store
	pay     *sandbox.Payments
	carrier *sandbox.Carrier
	email   *sandbox.Email
	sms     *sandbox.SMS
	push    *sandbox.Push
	in      workflows.Input
	// refuse, when set, makes the provider refuse calls of that kind ("refund",
	// "label") as it would for good; flaky fails them with a retryable error.
	refuse, flaky map[string]bool
	// duringLabel, when set, runs once inside the first carrier call for a
	// label, while the activity buying it is still running.
	duringLabel func()
}

// faultyPayments is the sandbox payment provider with the harness's faults.
type faultyPayments struct {
	*sandbox.Payments
	h *harness
}

func (p faultyPayments) Refund(ctx context.Context, req activities.RefundRequest) (activities.Refund, error) {
	if err := p.h.fault("refund"); err != nil {
		return activities.Refund{}, err
	}
	return p.Payments.Refund(ctx, req)
}

// faultyCarrier is the sandbox carrier with the harness's faults.
type faultyCarrier struct {
	*sandbox.Carrier
	h *harness
}

func (c faultyCarrier) BuyLabel(ctx context.Context, req activities.LabelRequest) (activities.Label, error) {
	if during := c.h.duringLabel; during != nil {
		c.h.duringLabel = nil
		during()
	}
	if err := c.h.fault("label"); err != nil {
		return activities.Label{}, err
	}
	return c.Carrier.BuyLabel(ctx, req)
}

func (h *harness) fault(kind string) error {
	switch {
	case h.refuse[kind]:
		return fmt.Errorf("harness %s: %w", kind, activities.ErrInvalidRequest)
	case h.flaky[kind]:
		return errors.New("harness " + kind + ": provider unavailable")
	}
	return nil
}

func newHarness(t *testing.T, method domain.Method) *harness {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	h := &harness{
		t:       t,
		env:     suite.NewTestWorkflowEnvironment(),
		store:   sandbox.NewStore(),
		pay:     sandbox.NewPayments(),
		carrier: sandbox.NewCarrier("https://track.example/"),
		email:   &sandbox.Email{},
		sms:     &sandbox.SMS{},
		push:    &sandbox.Push{},
		refuse:  map[string]bool{},
		flaky:   map[string]bool{},
	}
	for _, l := range []activities.Location{
		{ID: "berlin-mitte", Kind: activities.KindStore, Name: "Berlin Mitte", TimeZone: "Europe/Berlin", Hours: openMonToSat(),
			Address: domain.Address{Name: "Berlin Mitte", Line1: "Rosenthaler Str. 40", PostalCode: "10178", City: "Berlin", Country: "DE"}},
		{ID: "dc-erfurt", Kind: activities.KindDistributionCentre, Name: "DC Erfurt", TimeZone: "Europe/Berlin",
			Address: domain.Address{Name: "DC Erfurt", Line1: "Am Logistikpark 1", PostalCode: "99091", City: "Erfurt", Country: "DE"}},
	} {
		if err := h.store.AddLocation(l); err != nil {
			t.Fatal(err)
		}
	}
	for _, loc := range []string{"berlin-mitte", "dc-erfurt"} {
		h.setStock(loc, "WATCH-001", 10)
		h.setStock(loc, "STRAP-LEA-20", 10)
	}
	h.env.SetStartTime(mondayMorning)
	h.email.Now, h.sms.Now, h.push.Now = h.env.Now, h.env.Now, h.env.Now
	codes, err := pickupcode.New([]byte("workflow tests' pickup code key, 32+ bytes"))
	if err != nil {
		t.Fatal(err)
	}
	h.codes = codes
	err = registry.Register(h.env, h.store, registry.Providers{Payments: faultyPayments{h.pay, h}, Carrier: faultyCarrier{h.carrier, h},
		Email: h.email, SMS: h.sms, Push: h.push, PickupCodes: codes})
	if err != nil {
		t.Fatal(err)
	}
	order := domain.Order{
		OrderID: "A-10001",
		Customer: domain.Customer{ID: "C-1", Name: "Mia Schmidt", Email: "mia@example.com",
			Locale: "de-DE", TimeZone: "Europe/Berlin"},
		Method:          method,
		Currency:        "EUR",
		PaymentIntentID: "pi_test_1",
		Lines: []domain.Line{
			{SKU: "WATCH-001", Name: "Automatic watch", Quantity: 1, UnitPrice: 24900},
			{SKU: "STRAP-LEA-20", Name: "Leather strap", Quantity: 2, UnitPrice: 3900},
		},
		PlacedAt: h.env.Now(),
	}
	if method == domain.MethodShipToStore {
		order.StoreID = "berlin-mitte"
	} else {
		order.Address = &domain.Address{Name: "Mia Schmidt", Line1: "Torstraße 1", PostalCode: "10119", City: "Berlin", Country: "DE"}
	}
	h.store.SetMarketingConsent(order.Customer.ID, true)
	h.in = workflows.Input{Order: order, Policy: workflows.DefaultPolicy(), RequestHash: "hash-1"}
	return h
}

func (h *harness) setStock(loc, sku string, qty int) {
	h.t.Helper()
	if err := h.store.SetStock(loc, sku, qty); err != nil {
		h.t.Fatal(err)
	}
}

// mondayMorning is Monday 23 November 2026, 09:00 in Berlin: before the store opens.
var mondayMorning = time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)

func openMonToSat() map[string]string {
	h := map[string]string{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat"} {
		h[d] = "10:00-20:00"
	}
	return h
}

// outcome records what happened to one update.
type outcome struct {
	accepted bool
	rejected error
	err      error
	done     bool
}

// update sends an update after delay (virtual time) and records its outcome.
func (h *harness) update(delay time.Duration, name string, arg any, result any) *outcome {
	out := &outcome{}
	h.env.RegisterDelayedCallback(func() { h.send(out, name, arg, result) }, delay)
	return out
}

// send sends an update now; its result (any JSON-shaped value) is copied to result.
func (h *harness) send(out *outcome, name string, arg any, result any) {
	h.env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
		OnAccept: func() { out.accepted = true },
		OnReject: func(err error) { out.rejected = err },
		OnComplete: func(v any, err error) {
			out.done, out.err = true, err
			if err != nil || result == nil {
				return
			}
			b, merr := json.Marshal(v)
			if merr == nil {
				merr = json.Unmarshal(b, result)
			}
			if merr != nil {
				out.err = merr
			}
		},
	}, arg)
}

// checkout sends the checkout update at the start, as Update-with-Start does.
func (h *harness) checkout() (*workflows.CheckoutResult, *outcome) {
	res := &workflows.CheckoutResult{}
	out := &outcome{}
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(workflows.UpdateCheckout, workflows.CheckoutUpdateID(h.in.Order.OrderID), &testsuite.TestUpdateCallback{
			OnAccept: func() { out.accepted = true },
			OnReject: func(err error) { out.rejected = err },
			OnComplete: func(v any, err error) {
				out.done, out.err = true, err
				if r, ok := v.(workflows.CheckoutResult); ok {
					*res = r
				}
			},
		}, workflows.CheckoutRequest{OrderID: h.in.Order.OrderID})
	}, 0)
	return res, out
}

// pickAll confirms every line in full after delay.
func (h *harness) pickAll(delay time.Duration) *outcome {
	var lines []domain.PickedLine
	for _, l := range h.in.Order.Lines {
		lines = append(lines, domain.PickedLine{SKU: l.SKU, Quantity: l.Quantity})
	}
	return h.update(delay, workflows.UpdateCompletePick, workflows.CompletePickRequest{Lines: lines, By: "staff-1"}, nil)
}

// pickupCode reads the code from the ready-for-pickup email, as the customer does.
func (h *harness) pickupCode() string {
	for _, m := range h.email.Sent() {
		if strings.Contains(m.NotificationKey, ":ready-for-pickup:") {
			return messages.FindPickupCode(m.Text)
		}
	}
	h.t.Fatal("no ready-for-pickup email was sent")
	return ""
}

// collect presents the right pickup code after delay.
func (h *harness) collect(delay time.Duration) *outcome {
	out := &outcome{}
	h.env.RegisterDelayedCallback(func() {
		h.send(out, workflows.UpdateCompletePickup, h.presented(h.in.Order.StoreID, h.pickupCode(), "staff-1"), nil)
	}, delay)
	return out
}

// presented is the handover request for a code staff typed in, as the starter
// sends it: the code's proof, never the code.
func (h *harness) presented(storeID, code, by string) workflows.CompletePickupRequest {
	return workflows.CompletePickupRequest{StoreID: storeID, Proof: h.codes.Proof(h.in.Order.OrderID, code), By: by}
}

func (h *harness) run() workflows.Result {
	h.t.Helper()
	h.env.ExecuteWorkflow(workflows.WorkflowType, h.in)
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("workflow did not complete")
	}
	if err := h.env.GetWorkflowError(); err != nil {
		h.t.Fatalf("workflow failed: %v", err)
	}
	var res workflows.Result
	if err := h.env.GetWorkflowResult(&res); err != nil {
		h.t.Fatal(err)
	}
	return res
}

// stages returns the stages recorded in the journey store, in order.
func (h *harness) stages() []string {
	var out []string
	for _, e := range h.store.Journey(h.in.Order.OrderID) {
		if e.Kind == activities.EntryStage {
			out = append(out, strings.TrimPrefix(e.Key, "stage:"))
		}
	}
	return out
}

// sentTouchpoints lists the touchpoints emailed, in order.
func (h *harness) sentTouchpoints() []string {
	var out []string
	for _, m := range h.email.Sent() {
		parts := strings.Split(m.NotificationKey, ":")
		out = append(out, parts[2])
	}
	return out
}

func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// trackingCode reads the current shipment's tracking code from the status query.
func (h *harness) trackingCode() string {
	var st workflows.Status
	v, err := h.env.QueryWorkflow(workflows.QueryStatus)
	if err != nil || v.Get(&st) != nil || st.Shipment == nil {
		h.t.Errorf("no shipment in status: %v %+v", err, st)
		return ""
	}
	return st.Shipment.TrackingCode
}

// deliver signals the carrier's delivered event for the current shipment.
func (h *harness) deliver() {
	code := h.trackingCode()
	h.env.SignalWorkflow(workflows.SignalCarrierEvent, workflows.CarrierEvent{
		EventID: code + ":delivered", TrackingCode: code, Status: workflows.CarrierDelivered, At: h.env.Now(),
	})
}
