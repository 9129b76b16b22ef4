package stripe

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	stripego "github.com/stripe/stripe-go/v76"
)

// op names the Stripe call an error came from; the same Stripe answer can mean
// different things for a capture and for a void.
type op string

const (
	opCapture op = "capture"
	opRefund  op = "refund"
	opVoid    op = "void"
)

// mapError turns what stripe-go returned into an error that wraps an activities
// sentinel (permanent), an *activities.RetryAfterError (retryable, Stripe said
// when) or neither (retryable; the activity's RetryPolicy decides). The
// *stripego.Error stays reachable with errors.As.
//
//	HTTP  type / code                                   sentinel
//	402   card_error (card_declined, expired_card, …)   ErrCardDeclined
//	402   card_error processing_error                   retryable (Stripe: "try again")
//	400   charge_expired_for_capture,
//	      capture_charge_authorization_expired          ErrAuthorizationExpired
//	400   payment_intent_unexpected_state, PI canceled  ErrAuthorizationExpired (capture)
//	400   charge_already_captured                       ErrAlreadyCaptured
//	400   payment_intent_unexpected_state, PI succeeded ErrAlreadyCaptured (capture),
//	                                                    ErrInvalidRequest (void)
//	400/404 invalid_request_error, idempotency_error    ErrInvalidRequest
//	401, 403 (bad or restricted key)                    retryable: fixing the key heals
//	                                                    every waiting order; failing them
//	                                                    would not
//	409   (same idempotency key in flight)              retryable
//	429   rate_limit, lock_timeout                      retryable, Retry-After honoured
//	5xx   api_error                                     retryable, Retry-After honoured
//	no response (timeout, refused, reset), a body that is not Stripe's JSON
//	                                                    retryable
//
// Why "expired" and "already captured" are read this way: a PaymentIntent is
// captured through POST /v1/payment_intents/{id}/capture, which only accepts the
// status requires_capture. Stripe's "place a hold" guide says that when an
// authorization expires before capture "the funds are released and the payment
// status changes to canceled", so an expired authorization (like one we voided)
// answers 400 invalid_request_error with code payment_intent_unexpected_state and
// the PaymentIntent, status canceled, in error.payment_intent. A PaymentIntent that
// was already captured answers the same code with status succeeded. The code alone
// is not enough (it also covers requires_payment_method, processing, …: those stay
// ErrInvalidRequest), hence the status. charge_expired_for_capture,
// capture_charge_authorization_expired and charge_already_captured are the
// documented codes of the same situations on the Charges API; they are mapped too,
// should Stripe report the charge-level failure.
//
// Caveat for 5xx: Stripe's idempotency layer stores the first result of a key
// once the endpoint started executing, 500s included, and replays it to retries
// with the same key for about 24 hours (this is why stripe-go never retries a
// POST after a 500). A capture that got a 500 therefore keeps failing until the
// key expires or someone reconciles it; the retries are harmless but not useful.
func mapError(o op, paymentID string, err error) error {
	var se *stripego.Error
	if !errors.As(err, &se) {
		// No Stripe answer: a network error, the HTTP client's timeout, the
		// activity's context, or a body that is not Stripe's error JSON (a proxy's
		// 502 page). Retrying with the same idempotency key is safe.
		return fmt.Errorf("stripe %s %s: %w", o, paymentID, err)
	}
	cause := &apiError{err: se}
	permanent := func(sentinel error) error {
		return fmt.Errorf("stripe %s %s: %w: %w", o, paymentID, sentinel, cause)
	}
	if retryableStatus(se.HTTPStatusCode) || (se.Type == stripego.ErrorTypeCard && se.Code == stripego.ErrorCodeProcessingError) {
		wrapped := fmt.Errorf("stripe %s %s: %w", o, paymentID, cause)
		if d := retryAfter(se); d > 0 {
			return &activities.RetryAfterError{After: d, Err: wrapped}
		}
		return wrapped
	}
	switch se.Code {
	case stripego.ErrorCodeChargeExpiredForCapture, stripego.ErrorCodeCaptureChargeAuthorizationExpired:
		return permanent(activities.ErrAuthorizationExpired)
	case stripego.ErrorCodeChargeAlreadyCaptured:
		return permanent(activities.ErrAlreadyCaptured)
	case stripego.ErrorCodePaymentIntentUnexpectedState:
		switch status := intentStatus(se); {
		case o == opCapture && status == stripego.PaymentIntentStatusCanceled:
			return permanent(activities.ErrAuthorizationExpired)
		case o == opCapture && status == stripego.PaymentIntentStatusSucceeded:
			return permanent(activities.ErrAlreadyCaptured)
		}
	}
	switch se.Type {
	case stripego.ErrorTypeCard:
		return permanent(activities.ErrCardDeclined)
	case stripego.ErrorTypeInvalidRequest, stripego.ErrorTypeIdempotency:
		return permanent(activities.ErrInvalidRequest)
	}
	// api_error or a type this SDK does not know, on a status not listed above.
	return fmt.Errorf("stripe %s %s: %w", o, paymentID, cause)
}

// retryableStatus reports the HTTP statuses that a later attempt can get past.
func retryableStatus(status int) bool {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusConflict, http.StatusTooManyRequests:
		return true
	}
	return status >= http.StatusInternalServerError
}

// intentStatus is the status of the PaymentIntent that Stripe attached to a
// payment_intent_unexpected_state error, or "" for any other error.
func intentStatus(err error) stripego.PaymentIntentStatus {
	var se *stripego.Error
	if !errors.As(err, &se) || se.Code != stripego.ErrorCodePaymentIntentUnexpectedState || se.PaymentIntent == nil {
		return ""
	}
	return se.PaymentIntent.Status
}

// retryAfter reads the Retry-After header (seconds or an HTTP date) of the
// response behind se; 0 when there is none or it is not in the future.
func retryAfter(se *stripego.Error) time.Duration {
	if se.LastResponse == nil || se.LastResponse.Header == nil {
		return 0
	}
	v := strings.TrimSpace(se.LastResponse.Header.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		return time.Duration(max(secs, 0)) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(time.Until(at).Round(time.Second), 0)
	}
	return 0
}

// apiError is a Stripe error reduced to what is safe to log and to keep in
// workflow histories. stripego.Error's own Error() is the whole error object as
// JSON, which can carry the PaymentIntent (with its client_secret) and the
// payment method's details. Unwrap still gives callers the full *stripego.Error.
type apiError struct{ err *stripego.Error }

func (e *apiError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "stripe %d %s", e.err.HTTPStatusCode, e.err.Type)
	if e.err.Code != "" {
		fmt.Fprintf(&b, "/%s", e.err.Code)
	}
	if e.err.DeclineCode != "" {
		fmt.Fprintf(&b, " decline_code=%s", e.err.DeclineCode)
	}
	if e.err.Param != "" {
		fmt.Fprintf(&b, " param=%s", e.err.Param)
	}
	if status := intentStatus(e.err); status != "" {
		fmt.Fprintf(&b, " payment_intent_status=%s", status)
	}
	if e.err.RequestID != "" {
		fmt.Fprintf(&b, " request_id=%s", e.err.RequestID)
	}
	if e.err.Msg != "" {
		fmt.Fprintf(&b, ": %s", e.err.Msg)
	}
	return b.String()
}

func (e *apiError) Unwrap() error { return e.err }
