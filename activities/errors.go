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

// classify maps a provider error to what Temporal should do with it. It is the only
// place that decides retryable versus permanent.
func classify(err error) error {
	if err == nil {
		return nil
	}
	permanent := []struct {
		sentinel error
		typ      string
	}{
		{ErrCardDeclined, ErrTypeCardDeclined},
		{ErrAuthorizationExpired, ErrTypeAuthorizationExpired},
		{ErrAlreadyCaptured, ErrTypeAlreadyCaptured},
		{ErrInvalidRequest, ErrTypeInvalidRequest},
		{ErrUnknownLocation, ErrTypeUnknownLocation},
		{ErrNotFound, ErrTypeNotFound},
		{ErrUndeliverable, ErrTypeUndeliverable},
		{ErrUnregistered, ErrTypeUnregistered},
	}
	for _, p := range permanent {
		if errors.Is(err, p.sentinel) {
			return temporal.NewNonRetryableApplicationError(err.Error(), p.typ, err)
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
