package workflows

import (
	"fmt"

	"go.temporal.io/sdk/temporal"
)

// Application error types of refused updates. A validator (or a handler that
// finds the order has moved on) returns a temporal.ApplicationError of one of
// these types; it crosses the Temporal boundary with its type, and the starter
// maps the type, once, to an HTTP answer. The message is a sentence for the API's
// caller (the problem's detail), so rewording it changes no status. Rejected
// updates leave no trace in history.
const (
	// ErrTypeWrongStage: the order is not at a stage where this is possible, and
	// the message says why ("The order has already been shipped."): 409.
	ErrTypeWrongStage = "WrongStage"
	// ErrTypeWrongStore: the order belongs to another store: 404, like an
	// unknown order, so that staff learn nothing about other stores' orders.
	ErrTypeWrongStore = "WrongStore"
	// ErrTypeWrongPickupCode: the customer's pickup code does not match: 422. The
	// workflow has counted it; the refusal's detail (WrongPickupCode) says how many
	// attempts are left, and 0 means this one locked the handover (423).
	ErrTypeWrongPickupCode = "WrongPickupCode"
	// ErrTypePickupLocked: the handover is locked after too many wrong codes
	// until support unlocks it: 423.
	ErrTypePickupLocked = "PickupLocked"
	// ErrTypeNothingToResend: the touchpoint's message was never sent to this
	// order's customer: 409.
	ErrTypeNothingToResend = "NothingToResend"
	// ErrTypeNothingToResolve: the order waits for no decision of support: 409.
	ErrTypeNothingToResolve = "NothingToResolve"
	// ErrTypeTryAgain: the workflow could not do it just now (a check's activity
	// did not answer in time): 503, the same request may well succeed later.
	ErrTypeTryAgain = "TryAgain"
	// ErrTypeFieldError: a field of the request is invalid (400). A FieldError
	// returned by a validator crosses with its Go type's name as its type, which
	// is this value.
	ErrTypeFieldError = "FieldError"
)

// refuse is a refused update of type typ; the message is for the API's caller.
func refuse(typ, format string, args ...any) error {
	return temporal.NewApplicationError(fmt.Sprintf(format, args...), typ)
}

// wrongStage refuses an update the order's stage does not allow, saying why.
func wrongStage(format string, args ...any) error {
	return refuse(ErrTypeWrongStage, format, args...)
}

// errWrongStore refuses a store's update of an order of another store.
func errWrongStore() error {
	return refuse(ErrTypeWrongStore, "The order belongs to another store.")
}

// beingCancelled is the reason every staff update gives once a cancellation
// was accepted.
const beingCancelled = "The order is being cancelled."
