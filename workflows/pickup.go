package workflows

import (
	"crypto/subtle"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/pickupcode"
)

// The handover at the counter and everything about it: the pickup code, the wrong
// codes and the lock they lead to, support's extension and unlock. The workflow is
// the one owner of these facts; it records them in the journey and the
// projection (PostgreSQL) through its own activities, and the starter only reads
// them there.

// MaxWrongPickupCodes is how many wrong codes an order takes before the handover
// is locked until support unlocks it: enough for typos, too few to guess six digits
// (each token is throttled as well, by the starter).
const MaxWrongPickupCodes = 5

// issuePickupCode fixes the nonce the order's code is derived from: the order's
// first run ID. The ready-for-pickup message carries the nonce; the notification
// activity renders the code.
//
// V1 orders (WorkflowTypeV1) draw a random nonce in a side effect (recorded once,
// so replay never draws again). Orders that reached the store before codes were derived drew the code itself in
// the same side effect: replay returns what was recorded, and such an order keeps
// its code (in its history and in the ready notice's facts), checked by the same
// proofs. The recorded value decides the branch, so the change issues the same
// command as before and needs no GetVersion marker (which would cost every order
// a marker and a search-attribute upsert).
func (f *fulfilment) issuePickupCode(ctx workflow.Context, ready *activities.NotifyRequest) error {
	if f.v2 {
		// The nonce need not be secret or drawn (the key is the secret), only the
		// order's own and fixed: its first run ID, kept through resets, costs no
		// side-effect marker.
		info := workflow.GetInfo(ctx)
		f.pickup.codeNonce = info.FirstRunID
		if f.pickup.codeNonce == "" {
			f.pickup.codeNonce = info.WorkflowExecution.RunID
		}
		ready.PickupNonce = f.pickup.codeNonce
		return nil
	}
	var code activities.PickupCode
	//workflowcheck:ignore the side effect's result is recorded, so replay never draws again
	enc := workflow.SideEffect(ctx, func(workflow.Context) any {
		n, err := pickupcode.NewNonce()
		if err != nil {
			return activities.PickupCode{Hash: "error: " + err.Error()}
		}
		return activities.PickupCode{Nonce: n}
	})
	if err := enc.Get(&code); err != nil {
		return fmt.Errorf("pickup code: %w", err)
	}
	switch {
	case len(code.Nonce) == 32:
		f.pickup.codeNonce = code.Nonce
		ready.PickupNonce = code.Nonce
	case code.Code != "": // drawn before codes were derived
		f.pickup.codeSalt, f.pickup.codeHash = code.Salt, code.Hash
		ready.Facts["pickup_code"] = code.Code
	default:
		return fmt.Errorf("draw pickup code: %s", code.Hash)
	}
	return nil
}

// pickupRefusal is why the order cannot be handed over now at storeID, or nil.
func (f *fulfilment) pickupRefusal(storeID string) error {
	switch {
	case storeID != f.in.Order.StoreID:
		return errWrongStore()
	case f.cancellation.req != nil:
		return wrongStage(beingCancelled)
	case f.pickup.pickedUp != "":
		return wrongStage("The order was already handed over.")
	case f.stage != domain.StageReadyForPickup:
		return wrongStage("The order is not ready for pickup (stage %s).", f.stage)
	case f.pickup.locked:
		return refuse(ErrTypePickupLocked, "Too many wrong pickup codes: support must unlock this order.")
	}
	return nil
}

func (f *fulfilment) validateCompletePickup(req CompletePickupRequest) error {
	if err := f.pickupRefusal(req.StoreID); err != nil {
		return err
	}
	switch {
	case req.Proof == "" && req.Code == "":
		return domain.FieldError{Field: "proof", Message: "is required"}
	case req.Proof == "" && f.pickup.codeHash == "":
		// A derived code is checked by its proof only: the code itself must not
		// enter history.
		return domain.FieldError{Field: "proof", Message: "send the code's proof (pickupcode.Proof), not the code"}
	}
	return nil
}

// handleCompletePickup checks the code and hands the order over. A wrong code is
// counted (the update fails with ErrTypeWrongPickupCode and the attempts left);
// the MaxWrongPickupCodes-th locks the handover and flags the order for support.
func (f *fulfilment) handleCompletePickup(ctx workflow.Context, req CompletePickupRequest) (HandoverResult, error) {
	ok, err := f.codeMatches(ctx, req)
	if err != nil {
		return HandoverResult{}, err
	}
	if err := f.pickupRefusal(req.StoreID); err != nil {
		return HandoverResult{}, err // the order moved on while the code was checked
	}
	if !ok {
		return HandoverResult{}, f.wrongCode(ctx, req.By)
	}
	f.pickup.pickedUp = req.By
	f.wake()
	return HandoverResult{OrderID: f.in.Order.OrderID, At: workflow.Now(ctx)}, nil
}

// codeMatches checks the presented code. A proof is checked by the
// VerifyPickupCode activity, which holds the key; a code in the clear (only in
// histories from before proofs) against the legacy salted hash.
func (f *fulfilment) codeMatches(ctx workflow.Context, req CompletePickupRequest) (bool, error) {
	if req.Proof == "" {
		got := activities.HashPickupCode(f.pickup.codeSalt, req.Code)
		return f.pickup.codeHash != "" && subtle.ConstantTimeCompare([]byte(got), []byte(f.pickup.codeHash)) == 1, nil
	}
	check := activities.VerifyPickupCodeRequest{OrderID: f.in.Order.OrderID, Nonce: f.pickup.codeNonce, Proof: req.Proof}
	if f.pickup.codeNonce == "" {
		check.LegacyCode = f.messages.notices[domain.TouchReadyForPickup].Facts["pickup_code"]
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		// Staff wait at the counter: a few quick tries, then they are told to try
		// again (the starter waits at most its update timeout).
		StartToCloseTimeout:    5 * time.Second,
		ScheduleToCloseTimeout: 15 * time.Second,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, MaximumInterval: 2 * time.Second},
		Summary:                "check pickup code",
	})
	var p *activities.Pickups
	var ok bool
	if err := workflow.ExecuteActivity(ctx, p.VerifyPickupCode, check).Get(ctx, &ok); err != nil {
		workflow.GetLogger(ctx).Error("check pickup code", "order_id", f.in.Order.OrderID, "error", err)
		return false, refuse(ErrTypeTryAgain, "The code could not be checked just now; try again.")
	}
	return ok, nil
}

// wrongCode counts a wrong code, records it in the journey and the projection,
// and locks the handover at MaxWrongPickupCodes. The refusal carries the attempts
// left (0 when this one locked it).
func (f *fulfilment) wrongCode(ctx workflow.Context, by string) error {
	f.pickup.wrongCodes++
	left := max(MaxWrongPickupCodes-f.pickup.wrongCodes, 0)
	if err := f.note(ctx, fmt.Sprintf("wrong pickup code (%d of %d)", f.pickup.wrongCodes, MaxWrongPickupCodes), by); err != nil {
		// The count stands in the workflow; the projection catches up with the next record.
		workflow.GetLogger(ctx).Error("record wrong pickup code", "order_id", f.in.Order.OrderID, "error", err)
	}
	if left == 0 {
		f.pickup.locked = true
		if err := f.flag(ctx, fmt.Sprintf("handover locked after %d wrong pickup codes", f.pickup.wrongCodes)); err != nil {
			workflow.GetLogger(ctx).Error("flag pickup lock", "order_id", f.in.Order.OrderID, "error", err)
		}
	}
	return temporal.NewApplicationErrorWithOptions("The code does not match this order.", ErrTypeWrongPickupCode,
		temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{WrongPickupCode{AttemptsLeft: left}}})
}

// WrongPickupCode is the detail of an ErrTypeWrongPickupCode refusal.
type WrongPickupCode struct {
	// AttemptsLeft is how many more wrong codes lock the handover; 0: this one did.
	AttemptsLeft int `json:"attempts_left"`
}

// pickupFacts are the handover's facts the projection shows staff, recorded with
// every journey entry while the order waits in the store.
func (f *fulfilment) pickupFacts() *activities.PickupFacts {
	if f.stage != domain.StageReadyForPickup {
		return nil
	}
	return &activities.PickupFacts{Deadline: f.pickup.deadline, WrongCodes: f.pickup.wrongCodes}
}

// notWaitingForPickup refuses support's change to the pickup of an order that is
// not waiting in the store (any more).
func (f *fulfilment) notWaitingForPickup() error {
	switch {
	case f.pickup.pickedUp != "":
		return wrongStage("The order was already handed over.")
	case f.stage != domain.StageReadyForPickup:
		return wrongStage("The order is not waiting for pickup (stage %s).", f.stage)
	}
	return nil
}

func (f *fulfilment) validateExtendPickup(req ExtendPickupRequest) error {
	if f.cancellation.req != nil {
		return wrongStage(beingCancelled)
	}
	if err := f.notWaitingForPickup(); err != nil {
		return err
	}
	switch {
	case !req.Until.After(f.pickup.deadline):
		return domain.FieldError{Field: "until", Message: "must be after the current deadline " + f.pickup.deadline.UTC().Format(time.RFC3339)}
	case req.Until.Sub(f.pickup.deadline) > MaxPickupExtension:
		return domain.FieldError{Field: "until", Message: fmt.Sprintf("may be at most %d days after the current deadline", int(MaxPickupExtension.Hours()/24))}
	}
	return nil
}

// handleExtendPickup moves the deadline and the reminders not yet sent by the same
// amount; the waiting timer is replaced. The journey entry carries the new
// deadline into the projection.
func (f *fulfilment) handleExtendPickup(ctx workflow.Context, req ExtendPickupRequest) (PickupResult, error) {
	shift := req.Until.Sub(f.pickup.deadline)
	f.pickup.deadline = req.Until
	for i := f.pickup.reminded; i < len(f.pickup.reminders); i++ {
		f.pickup.reminders[i] = f.quietReminder(ctx, f.pickup.reminders[i].Add(shift))
	}
	f.pickup.extended++
	f.wake()
	err := workflow.UpsertTypedSearchAttributes(ctx, temporal.NewSearchAttributeKeyTime(AttrPickupDeadline).ValueSet(f.pickup.deadline))
	if err == nil {
		f.describe(ctx, "")
		err = f.note(ctx, "pickup extended to "+f.pickup.deadline.UTC().Format(time.RFC3339), req.By)
	}
	return PickupResult{OrderID: f.in.Order.OrderID, Deadline: f.pickup.deadline, Locked: f.pickup.locked}, err
}

func (f *fulfilment) validateLockPickup(LockPickupRequest) error {
	if f.pickup.locked {
		return wrongStage("The handover is already locked.")
	}
	return f.notWaitingForPickup()
}

// handleLockPickup locks the handover by hand. Before the workflow counted wrong
// codes itself the starter sent it at its own count; histories hold such updates,
// so it stays registered, and support may still use it.
func (f *fulfilment) handleLockPickup(ctx workflow.Context, req LockPickupRequest) (PickupResult, error) {
	f.pickup.locked = true
	f.pickup.wrongCodes = max(f.pickup.wrongCodes, MaxWrongPickupCodes) // the projection shows it locked
	err := f.flag(ctx, fmt.Sprintf("handover locked after %d wrong pickup codes", req.Attempts))
	return PickupResult{OrderID: f.in.Order.OrderID, Deadline: f.pickup.deadline, Locked: true}, err
}

func (f *fulfilment) validateUnlockPickup(UnlockPickupRequest) error {
	if !f.pickup.locked {
		return wrongStage("The handover is not locked.")
	}
	return nil
}

// handleUnlockPickup lifts the lock and starts the count of wrong codes afresh,
// in the workflow and (with the journey entry) in the projection, in one step:
// there is no second count that could disagree.
func (f *fulfilment) handleUnlockPickup(ctx workflow.Context, req UnlockPickupRequest) (PickupResult, error) {
	f.pickup.locked, f.attention.flaggedOther, f.pickup.wrongCodes = false, false, 0 // support has looked at the order
	err := f.lowerFlag(ctx, "handover unlocked", req.By)
	return PickupResult{OrderID: f.in.Order.OrderID, Deadline: f.pickup.deadline, Locked: false}, err
}
