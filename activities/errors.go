package activities

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
)

// Sentinel errors that adapters wrap (with %w) so that activities can classify
// provider failures without knowing the provider.
var (
	// ErrCardDeclined: the issuer declined; retrying with the same card cannot help.
	ErrCardDeclined = errors.New("card declined")
	// ErrAuthorizationExpired: the authorization to capture is gone (expired or voided).
	ErrAuthorizationExpired = errors.New("authorization expired")
	// ErrAlreadyCaptured: the payment was captured outside this order's flow.
	ErrAlreadyCaptured = errors.New("payment already captured")
	// ErrInvalidRequest: the provider rejected the request as malformed; a bug or bad data.
	ErrInvalidRequest = errors.New("invalid request")
	// ErrUnknownLocation: the order names a store or location we do not have.
	ErrUnknownLocation = errors.New("unknown location")
	// ErrNotFound: the record an activity needs does not exist.
	ErrNotFound = errors.New("not found")
)

// Application error types carried by non-retryable errors; the workflow branches on them.
const (
	ErrTypeCardDeclined         = "CardDeclined"
	ErrTypeAuthorizationExpired = "AuthorizationExpired"
	ErrTypeAlreadyCaptured      = "AlreadyCaptured"
	ErrTypeInvalidRequest       = "InvalidRequest"
	ErrTypeUnknownLocation      = "UnknownLocation"
	ErrTypeNotFound             = "NotFound"
)

// RetryAfterError is returned by adapters when the provider asked us to slow down
// (HTTP 429 or 503 with Retry-After). The activity turns it into a retryable error
// whose next retry waits at least that long.
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string { return e.Err.Error() }
func (e *RetryAfterError) Unwrap() error { return e.Err }

// PaymentFailure is how a capture the provider refused for good ends an order:
// payment_failed, the stock released, the customer told Reason. The checkout
// activity reports it by Type, and the workflow reads the rest with
// PaymentFailureOf, so that this table is the only place that knows them.
type PaymentFailure struct {
	// Type is the application error type of the refusal (ErrTypeCardDeclined, ...).
	Type string
	// Reason is what the customer is told, and the payment_failed stage's note.
	Reason string
	// Attention, when set, flags the order for support with this reason: the
	// customer may have paid after all, or our request was wrong.
	Attention string
}

// refusal is a provider error that no retry can change: classify turns it into a
// non-retryable application error of type typ. payment, when set, means that a
// capture refused this way ends the order as payment_failed.
type refusal struct {
	sentinel error
	typ      string
	payment  *PaymentFailure
}

// refusals is the one table of permanent provider errors: their sentinel, their
// application error type and, for captures, how the order ends.
var refusals = []refusal{
	{ErrCardDeclined, ErrTypeCardDeclined, &PaymentFailure{Reason: "the card was declined"}},
	{ErrAuthorizationExpired, ErrTypeAuthorizationExpired, &PaymentFailure{Reason: "the payment authorization has expired"}},
	{ErrAlreadyCaptured, ErrTypeAlreadyCaptured, &PaymentFailure{Reason: "the payment was already captured outside this order",
		Attention: "payment captured outside this order: reconcile with the payment provider"}},
	// The provider refused the capture as malformed (e.g. more than was
	// authorized): nothing was charged, and no retry can change that.
	{ErrInvalidRequest, ErrTypeInvalidRequest, &PaymentFailure{Reason: "the payment provider refused the capture",
		Attention: "the payment provider refused the capture as invalid (amount or authorization): check the payment"}},
	{ErrUnknownLocation, ErrTypeUnknownLocation, nil},
	{ErrNotFound, ErrTypeNotFound, nil},
	{ErrUndeliverable, ErrTypeUndeliverable, nil},
	{ErrUnregistered, ErrTypeUnregistered, nil},
}

// paymentFailure reports whether a capture error ends the order as
// payment_failed, and how.
func paymentFailure(err error) (PaymentFailure, bool) {
	for _, r := range refusals {
		if r.payment != nil && errors.Is(err, r.sentinel) {
			f := *r.payment
			f.Type = r.typ
			return f, true
		}
	}
	return PaymentFailure{}, false
}

// PaymentFailureOf is the payment failure of type typ (a CheckoutOutcome's
// PaymentFailure). An unknown type, which only a newer worker could report, ends
// the order with a generic reason and flags it for support.
func PaymentFailureOf(typ string) PaymentFailure {
	for _, r := range refusals {
		if r.payment != nil && r.typ == typ {
			f := *r.payment
			f.Type = r.typ
			return f
		}
	}
	return PaymentFailure{Type: typ, Reason: "the payment could not be captured",
		Attention: "the capture failed as " + typ + ": check the payment"}
}

// classify maps a provider error to what Temporal should do with it. It is the only
// place that decides retryable versus permanent.
func classify(err error) error {
	if err == nil {
		return nil
	}
	for _, r := range refusals {
		if errors.Is(err, r.sentinel) {
			return temporal.NewNonRetryableApplicationError(err.Error(), r.typ, err)
		}
	}
	var ra *RetryAfterError
	if errors.As(err, &ra) && ra.After > 0 {
		return temporal.NewApplicationErrorWithOptions(err.Error(), "RetryAfter", temporal.ApplicationErrorOptions{
			NextRetryDelay: ra.After,
			Cause:          err,
		})
	}
	return err // retryable; the workflow's RetryPolicy decides how often
}
