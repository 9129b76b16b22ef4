package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/internal/testbed"
	"github.com/everywherecommerce/fulfilment/messages"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// journey is everything that happens to one order from outside: the checkout,
// the pick at the fulfilling location, the transfer's arrival, the customer at the
// counter with their code, support's cancellations. Each wait ends when the
// order's workflow made no progress for the run's patience (waitOn); an answer
// the scenario did not expect is recorded as a problem.
func (d *driver) journey(ctx context.Context, o *orderRun) {
	p := o.plan
	if !d.checkout(ctx, o) || p.Expect.Checkout != http.StatusCreated {
		return
	}
	if !d.pick(ctx, o) {
		return
	}
	if p.Method == domain.MethodHomeDelivery {
		d.delivery(ctx, o)
		return
	}
	d.storeVisit(ctx, o)
}

// errWorkflowClosed ends a wait for an order whose workflow is no longer running:
// nothing it waits for can happen any more.
var errWorkflowClosed = errors.New("the order's workflow has closed")

// errNoProgress ends a wait for an order whose workflow did nothing for the
// run's patience: no event added, no activity attempt started or ended.
var errNoProgress = errors.New("the order's workflow made no progress")

// Bounds of waitOn: how often it looks at the workflow (first after a pause that
// waits of a healthy run do not reach), and how long a wait may last while the
// workflow keeps retrying, in patiences.
const (
	firstLook        = 20 * time.Second
	lookEvery        = 5 * time.Second
	maxPatiencesLong = 3
)

// waitOn runs a wait (for a list entry or a message) for as long as the order's
// workflow makes progress: it ends the wait with errNoProgress when the workflow
// did nothing for patience (no event, no activity attempt: a lost task or a stuck
// workflow), with errWorkflowClosed when the workflow closed, and after
// maxPatiencesLong patiences in any case. An activity that keeps failing and
// retrying (a provider's faults after a PostgreSQL restart push its backoff
// towards the one-minute maximum) is progress: the order is late, not stuck.
func (d *driver) waitOn(ctx context.Context, o *orderRun, patience time.Duration, wait func(ctx context.Context) error) error {
	wctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go d.watch(wctx, cancel, o.plan.ID, patience)
	return wait(wctx)
}

// watch looks at the order's workflow while a wait runs and ends the wait as
// waitOn says.
func (d *driver) watch(ctx context.Context, cancel context.CancelCauseFunc, orderID string, patience time.Duration) {
	began := time.Now()
	moved, last := began, ""            // the first look sets last: what changes after it is progress
	pause := min(firstLook, patience/3) // a look or two before the patience ends
	for range maxChecks {
		if testbed.Sleep(ctx, pause) != nil {
			return
		}
		pause = min(lookEvery, patience/3)
		dctx, dcancel := context.WithTimeout(ctx, 10*time.Second)
		resp, err := d.st.tc.DescribeWorkflowExecution(dctx, workflows.WorkflowID(orderID), "")
		dcancel()
		if err == nil {
			if status := resp.GetWorkflowExecutionInfo().GetStatus(); status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
				cancel(fmt.Errorf("%w (%s)", errWorkflowClosed, status))
				return
			}
			if now := progressOf(resp); last == "" {
				last = now
			} else if now != last {
				moved, last = time.Now(), now
			}
		}
		switch {
		case time.Since(moved) >= patience:
			cancel(fmt.Errorf("%w for %s", errNoProgress, patience))
			return
		case time.Since(began) >= maxPatiencesLong*patience:
			cancel(fmt.Errorf("still not there after %s, while the workflow kept retrying", time.Since(began).Round(time.Second)))
			return
		}
	}
}

// progressOf sums up what moves while a workflow makes progress: its history's
// length, and each pending activity's attempt and state, and the pending
// workflow task's attempt.
func progressOf(resp *workflowservice.DescribeWorkflowExecutionResponse) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d", resp.GetWorkflowExecutionInfo().GetHistoryLength())
	for _, a := range resp.GetPendingActivities() {
		fmt.Fprintf(&b, " %s:%d:%s", a.GetActivityId(), a.GetAttempt(), a.GetState())
	}
	if t := resp.GetPendingWorkflowTask(); t != nil {
		fmt.Fprintf(&b, " wft:%d:%s", t.GetAttempt(), t.GetState())
	}
	return b.String()
}

// checkout places the order as the checkout service does, retrying with the same
// body until it gets an answer.
func (d *driver) checkout(ctx context.Context, o *orderRun) bool {
	p := o.plan
	body := map[string]any{
		"order_id": p.ID, "customer": p.Customer, "marketing_consent": p.Consent, "method": p.Method,
		"currency": "EUR", "payment_intent_id": p.PaymentID, "lines": p.Lines, "channels": p.Channels,
	}
	if p.StoreID != "" {
		body["store_id"] = p.StoreID
	} else {
		body["address"] = p.Address
	}
	if p.PushToken != "" {
		body["push_token"] = p.PushToken
	}
	a, err := d.api.call(ctx, http.MethodPost, "/v1/orders", d.st.tokens["CHECKOUT_TOKEN"], body)
	if err != nil {
		o.problem("checkout: %v", err)
		return false
	}
	o.note("checkout %d (%s) after %d attempt(s)", a.status, problemType(a.body), a.attempts)
	if a.status != p.Expect.Checkout {
		o.problem("checkout answered %d %s, want %d: %s", a.status, problemType(a.body), p.Expect.Checkout, truncate(string(a.body), 300))
		return false
	}
	return true
}

// pick waits for the order on a pick list and has that location's staff confirm
// it (after starting it, for some), or support cancels it there. It reports
// whether the order goes on.
func (d *driver) pick(ctx context.Context, o *orderRun) bool {
	p := o.plan
	var loc string
	err := d.waitOn(ctx, o, d.cfg.patience, func(ctx context.Context) (err error) {
		_, loc, err = d.board.await(ctx, p.ID, listPicking)
		return err
	})
	if err != nil {
		o.problem("pick list: %v", err)
		return false
	}
	o.mu.Lock()
	o.pickLocation = loc
	o.mu.Unlock()
	o.note("on the pick list at %s", loc)
	if loc != p.Location {
		o.problem("picked at %s, but the stock allows only %s", loc, p.Location)
	}
	if p.Kind == kindCancelPicking {
		if d.cancel(ctx, o, "the customer changed their mind") == cancelRefused {
			o.problem("cancel while picking was refused")
		}
		return false
	}
	token := d.st.tokens[staffTokenKeys()[loc]]
	base := "/v1/stores/" + loc + "/orders/" + p.ID
	if p.StartPick {
		d.expectAnswer(ctx, o, "start pick", http.MethodPost, base+"/start-pick", token, nil, http.StatusOK)
	}
	d.expectAnswer(ctx, o, "pick", http.MethodPost, base+"/pick", token, map[string]any{"lines": p.Picked}, http.StatusOK)
	return p.Kind != kindNothingPicked
}

// expectAnswer sends a staff or support action and records a problem unless the
// answer is want. A 409 after an attempt that may have taken effect counts as
// want: the first attempt did it.
func (d *driver) expectAnswer(ctx context.Context, o *orderRun, what, method, path, token string, body any, want int) (answer, bool) {
	a, err := d.api.call(ctx, method, path, token, body)
	if err != nil {
		o.problem("%s: %v", what, err)
		return a, false
	}
	if a.status == want || (a.uncertain && a.status == http.StatusConflict) {
		o.note("%s %d after %d attempt(s)", what, a.status, a.attempts)
		return a, true
	}
	o.problem("%s answered %d %s, want %d: %s", what, a.status, problemType(a.body), want, truncate(string(a.body), 300))
	return a, false
}

// cancelOutcome is what support's cancellation did.
type cancelOutcome int

const (
	cancelDone    cancelOutcome = iota // the order is cancelled
	cancelRefused                      // 409: the order had moved on (or ended)
	cancelUnknown                      // no answer, or no way to tell
)

// cancel is support cancelling the order. A refusal is recorded in the journey,
// not as a problem: the caller decides what it means.
func (d *driver) cancel(ctx context.Context, o *orderRun, reason string) cancelOutcome {
	a, err := d.api.call(ctx, http.MethodPost, "/v1/orders/"+o.plan.ID+"/cancel", d.st.tokens["SUPPORT_TOKEN"], map[string]string{"reason": reason})
	if err != nil {
		o.problem("cancel: %v", err)
		return cancelUnknown
	}
	o.note("cancel %d %s after %d attempt(s)", a.status, problemType(a.body), a.attempts)
	switch {
	case a.status == http.StatusOK:
		return cancelDone
	case a.status == http.StatusConflict && a.uncertain:
		// An earlier attempt may have been the one that cancelled: look at the
		// order, as support would.
		return d.lookedCancelled(ctx, o, problemType(a.body) == "order-ended")
	case a.status == http.StatusConflict:
		return cancelRefused
	}
	o.problem("cancel answered %d: %s", a.status, truncate(string(a.body), 300))
	return cancelUnknown
}

// lookedCancelled reads the order (GET /v1/orders/{id}) until it is cancelled or
// past the point where it could be; an order that has ended is read once.
func (d *driver) lookedCancelled(ctx context.Context, o *orderRun, ended bool) cancelOutcome {
	deadline := time.Now().Add(d.cfg.patience)
	for i := 0; i < maxChecks && time.Now().Before(deadline); i++ {
		a, err := d.api.call(ctx, http.MethodGet, "/v1/orders/"+o.plan.ID, d.st.tokens["SUPPORT_TOKEN"], nil)
		var st workflows.Status
		if err == nil && a.status == http.StatusOK && json.Unmarshal(a.body, &st) == nil {
			switch st.Stage {
			case domain.StageCancelled:
				o.note("the order shows cancelled: an earlier attempt cancelled it")
				return cancelDone
			case domain.StagePickedUp, domain.StageShipped, domain.StageDelivered,
				domain.StageReviewRequested, domain.StageCompleted:
				return cancelRefused
			}
			if ended {
				o.problem("cancel: the order ended at stage %s without being cancelled", st.Stage)
				return cancelUnknown
			}
		}
		if testbed.Sleep(ctx, time.Second) != nil {
			break
		}
	}
	o.problem("cancel: could not tell whether the order was cancelled")
	return cancelUnknown
}

// delivery follows a home delivery; for one kind support tries to cancel it after
// it was shipped, which must be refused.
func (d *driver) delivery(ctx context.Context, o *orderRun) {
	p := o.plan
	if p.Kind != kindCancelShipped {
		return
	}
	err := d.waitOn(ctx, o, d.cfg.patience, func(ctx context.Context) error {
		_, err := d.mail.await(ctx, p.ID+":notify:shipped:email", func(outboxMessage) bool { return true })
		return err
	})
	if err != nil {
		o.problem("shipped email: %v", err)
		return
	}
	if d.cancel(ctx, o, "the customer wants to cancel after all") == cancelDone {
		o.problem("cancel after shipping was accepted")
		e := o.plan.Expect
		e.Stage, e.Sold, e.Refunds = domain.StageCancelled, false, map[string]int64{"cancel": p.total()}
		o.revise(e, "support cancelled a shipped order")
	}
}

// storeVisit is the ship-to-store order after the pick: the transfer's arrival,
// the customer's code, the counter. Depending on the kind, support cancels, the
// customer never comes, or enters wrong codes first.
func (d *driver) storeVisit(ctx context.Context, o *orderRun) {
	p := o.plan
	if p.Location != p.StoreID && !d.transfer(ctx, o) {
		return
	}
	code, ok := d.pickupCode(ctx, o)
	if !ok {
		return
	}
	switch p.Kind {
	case kindCancelReady:
		if d.cancel(ctx, o, "the customer no longer wants it") == cancelRefused {
			o.problem("cancel of a ready order was refused")
		}
		return
	case kindPickupExpires:
		o.note("the customer never comes")
		return
	}
	staff := d.st.tokens[staffTokenKeys()[p.StoreID]]
	path := "/v1/stores/" + p.StoreID + "/orders/" + p.ID
	if p.WrongCodes > 0 && !d.wrongCodes(ctx, o, path, code) {
		return
	}
	d.expectAnswer(ctx, o, "pickup", http.MethodPost, path+"/pickup", staff, map[string]string{"code": code}, http.StatusOK)
}

// transfer waits for the parcel on the store's list of arrivals and has staff
// scan it, or support cancel it on the way. It reports whether the order goes on.
func (d *driver) transfer(ctx context.Context, o *orderRun) bool {
	p := o.plan
	var list string
	err := d.waitOn(ctx, o, d.cfg.patience, func(ctx context.Context) (err error) {
		list, _, err = d.board.await(ctx, p.ID, listArriving, listReady)
		return err
	})
	if err != nil {
		o.problem("arrivals list: %v", err)
		return !errors.Is(err, errWorkflowClosed) // else the customer still waits for the code
	}
	o.note("on %s's %s list", p.StoreID, list)
	switch {
	case p.Kind == kindCancelTransit:
		switch d.cancel(ctx, o, "the customer found it elsewhere") {
		case cancelDone:
			return false
		case cancelUnknown:
			return false // recorded as a problem; nothing sensible follows
		}
		o.revise(p.completedInstead(), "the cancellation came too late")
	case p.StaffArrival && list == listArriving:
		if err := testbed.Sleep(ctx, 500*time.Millisecond); err != nil { // staff unpack the parcel
			return false
		}
		path := "/v1/stores/" + p.StoreID + "/orders/" + p.ID + "/arrival"
		a, err := d.api.call(ctx, http.MethodPost, path, d.st.tokens[staffTokenKeys()[p.StoreID]], nil)
		switch {
		case err != nil:
			o.problem("arrival: %v", err)
		case a.status == http.StatusOK:
			o.note("arrival scanned")
		case a.status == http.StatusConflict && strings.Contains(string(a.body), "already confirmed"):
			o.note("arrival %d: the carrier's delivered event was first", a.status)
		default:
			o.problem("arrival answered %d: %s", a.status, truncate(string(a.body), 300))
		}
	}
	return true
}

// pickupCode waits for the ready-for-pickup email and reads the code from it, as
// the customer does. A customer who got nothing asks support, who sends it again.
func (d *driver) pickupCode(ctx context.Context, o *orderRun) (string, bool) {
	p := o.plan
	hasCode := func(m outboxMessage) bool {
		return m.Channel == domain.ChannelEmail && messages.FindPickupCode(m.Body) != ""
	}
	prefix := p.ID + ":notify:" + string(domain.TouchReadyForPickup)
	var msg outboxMessage
	wait := func(ctx context.Context) (err error) {
		msg, err = d.mail.await(ctx, prefix, hasCode)
		return err
	}
	err := d.waitOn(ctx, o, d.cfg.patience/2, wait)
	if err != nil && ctx.Err() == nil && !errors.Is(err, errWorkflowClosed) {
		o.note("no pickup code yet; support resends the ready-for-pickup email")
		a, rerr := d.api.call(ctx, http.MethodPost, "/v1/orders/"+p.ID+"/resend-notification", d.st.tokens["SUPPORT_TOKEN"],
			map[string]string{"touchpoint": string(domain.TouchReadyForPickup), "channel": string(domain.ChannelEmail)})
		if rerr != nil || a.status != http.StatusOK {
			o.note("resend answered %d (%v); waiting on", a.status, rerr)
		}
		err = d.waitOn(ctx, o, d.cfg.patience/2, wait)
	}
	if err != nil {
		o.problem("pickup code: %v", err)
		return "", false
	}
	o.note("pickup code read from %s", msg.NotificationKey)
	return messages.FindPickupCode(msg.Body), true
}

// wrongCodes enters wrong codes at the counter first; the fifth locks the
// handover, and support unlocks it. It reports whether the handover may go on.
func (d *driver) wrongCodes(ctx context.Context, o *orderRun, path, code string) bool {
	p := o.plan
	locked := false
	for i := range p.WrongCodes {
		n, _ := strconv.Atoi(code) // six digits, read by messages.FindPickupCode
		wrong := fmt.Sprintf("%06d", (n+1+i)%1_000_000)
		a, err := d.api.call(ctx, http.MethodPost, path+"/pickup", d.st.tokens[p.CounterToken], map[string]string{"code": wrong})
		if err != nil {
			o.problem("wrong code %d: %v", i+1, err)
			return false
		}
		switch a.status {
		case http.StatusUnprocessableEntity:
		case http.StatusLocked:
			locked = true
		default:
			o.problem("wrong code %d answered %d: %s", i+1, a.status, truncate(string(a.body), 300))
			return false
		}
	}
	o.note("%d wrong code(s) refused (locked: %v)", p.WrongCodes, locked)
	if p.WrongCodes >= 5 && !locked {
		o.problem("five wrong codes did not lock the handover")
	}
	if locked {
		_, ok := d.expectAnswer(ctx, o, "unlock", http.MethodPost, "/v1/orders/"+p.ID+"/unlock-pickup", d.st.tokens["SUPPORT_TOKEN"], nil, http.StatusOK)
		return ok
	}
	return true
}
