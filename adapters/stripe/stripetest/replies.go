package stripetest

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Reply is one HTTP answer of the Stripe API, as the fake sends it: stripe-go
// reads the status, the headers (Request-Id, Retry-After) and the JSON body.
type Reply struct {
	Status int         // HTTP status
	Header http.Header // response headers; the fake adds Idempotency-Key
	Body   string      // JSON, as Stripe sends it
}

// The replies below have the shapes of Stripe's API version 2023-10-16 (the one
// stripe-go v76 pins): the error object of https://docs.stripe.com/api/errors with
// Stripe's documented codes and messages, and the PaymentIntent and Refund objects
// as Stripe's OpenAPI spec (and stripe-mock, which serves it) defines them. IDs and
// amounts are parameters; everything else is kept as Stripe sends it, including the
// fields we do not read, so that a decoding change in stripe-go shows up here.

// CardDeclined is the 402 of an issuer decline, with the PaymentIntent attached.
func CardDeclined(intentID string) Reply {
	return errorReply(http.StatusPaymentRequired, map[string]any{
		"charge":          "ch_3OdeclinedJN5vQBdWEx0",
		"code":            "card_declined",
		"decline_code":    "generic_decline",
		"doc_url":         "https://stripe.com/docs/error-codes/card-declined",
		"message":         "Your card was declined.",
		"payment_intent":  intent(intentID, "requires_payment_method", 0, 0, "", ""),
		"request_log_url": requestLogURL,
		"type":            "card_error",
	})
}

// ProcessingError is the 402 Stripe answers when the card could not be processed
// for a transient reason; Stripe's advice is to try again.
func ProcessingError(intentID string) Reply {
	return errorReply(http.StatusPaymentRequired, map[string]any{
		"code":           "processing_error",
		"doc_url":        "https://stripe.com/docs/error-codes/processing-error",
		"message":        "An error occurred while processing your card. Try again in a little bit.",
		"payment_intent": intent(intentID, "requires_capture", AuthorizedAmount, 0, "", ""),
		"type":           "card_error",
	})
}

// UnexpectedState is the 400 of an action (capture or cancel) on a PaymentIntent
// whose status does not allow it, for example capturing an expired authorization
// (status canceled) or one captured before (status succeeded).
func UnexpectedState(intentID, action, status string) Reply {
	allowed := "requires_capture"
	if action == "cancel" {
		allowed = "requires_payment_method, requires_capture, requires_confirmation, requires_action, processing"
	}
	message := fmt.Sprintf("This PaymentIntent could not be captured because it has a status of %s. "+
		"Only a PaymentIntent with one of the following statuses may be acted upon: %s.", status, allowed)
	if action == "cancel" {
		message = fmt.Sprintf("You cannot cancel this PaymentIntent because it has a status of %s. "+
			"Only a PaymentIntent with one of the following statuses may be canceled: %s.", status, allowed)
	}
	received, reason := int64(0), ""
	switch status {
	case "succeeded":
		received = AuthorizedAmount
	case "canceled":
		reason = "automatic"
	}
	return errorReply(http.StatusBadRequest, map[string]any{
		"code":            "payment_intent_unexpected_state",
		"doc_url":         "https://stripe.com/docs/error-codes/payment-intent-unexpected-state",
		"message":         message,
		"payment_intent":  intent(intentID, status, 0, received, "", reason),
		"request_log_url": requestLogURL,
		"type":            "invalid_request_error",
	})
}

// ChargeExpiredForCapture is the Charges API's 400 for capturing an authorization
// that expired.
func ChargeExpiredForCapture(chargeID string) Reply {
	return errorReply(http.StatusBadRequest, map[string]any{
		"charge":  chargeID,
		"code":    "charge_expired_for_capture",
		"doc_url": "https://stripe.com/docs/error-codes/charge-expired-for-capture",
		"message": "The charge cannot be captured as the authorization has expired. Auth and capture charges must be captured within a set number of days (7 by default).",
		"type":    "invalid_request_error",
	})
}

// ChargeAlreadyCaptured is the Charges API's 400 for capturing a charge twice.
func ChargeAlreadyCaptured(chargeID string) Reply {
	return errorReply(http.StatusBadRequest, map[string]any{
		"charge":  chargeID,
		"code":    "charge_already_captured",
		"doc_url": "https://stripe.com/docs/error-codes/charge-already-captured",
		"message": fmt.Sprintf("Charge %s has already been captured.", chargeID),
		"type":    "invalid_request_error",
	})
}

// ResourceMissing is the 404 for an unknown PaymentIntent.
func ResourceMissing(intentID string) Reply {
	return errorReply(http.StatusNotFound, map[string]any{
		"code":    "resource_missing",
		"doc_url": "https://stripe.com/docs/error-codes/resource-missing",
		"message": fmt.Sprintf("No such payment_intent: '%s'", intentID),
		"param":   "intent",
		"type":    "invalid_request_error",
	})
}

// InvalidParameter is the 400 for a parameter Stripe refuses, such as a refund
// larger than what is left to refund.
func InvalidParameter(param, message string) Reply {
	return errorReply(http.StatusBadRequest, map[string]any{
		"message": message,
		"param":   param,
		"type":    "invalid_request_error",
	})
}

// IdempotencyMismatch is the 400 for reusing an idempotency key with other
// parameters (a bug on our side, never a retry case).
func IdempotencyMismatch(key string) Reply {
	return errorReply(http.StatusBadRequest, map[string]any{
		"message": fmt.Sprintf("Keys for idempotent requests can only be used with the same parameters they were first used with. "+
			"Try using a key other than '%s' if you meant to execute a different request.", key),
		"type": "idempotency_error",
	})
}

// IdempotencyKeyInUse is the 409 for a request whose key another request is
// still using.
func IdempotencyKeyInUse() Reply {
	return errorReply(http.StatusConflict, map[string]any{
		"code":    "idempotency_key_in_use",
		"doc_url": "https://stripe.com/docs/error-codes/idempotency-key-in-use",
		"message": "There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): 'A-10001:capture'. Please try again later.",
		"type":    "idempotency_error",
	})
}

// InvalidAPIKey is the 401 for a wrong or revoked key.
func InvalidAPIKey() Reply {
	return errorReply(http.StatusUnauthorized, map[string]any{
		"message": "Invalid API Key provided: sk_test_********************1234",
		"type":    "invalid_request_error",
	})
}

// RateLimited is the 429 of Stripe's rate limiter; retryAfter ("" for none) is
// the Retry-After header.
func RateLimited(retryAfter string) Reply {
	r := errorReply(http.StatusTooManyRequests, map[string]any{
		"code":    "rate_limit",
		"doc_url": "https://stripe.com/docs/error-codes/rate-limit",
		"message": "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
		"type":    "invalid_request_error",
	})
	if retryAfter != "" {
		r.Header.Set("Retry-After", retryAfter)
	}
	return r
}

// LockTimeout is the 429 for an object another request or Stripe process holds.
func LockTimeout() Reply {
	r := errorReply(http.StatusTooManyRequests, map[string]any{
		"code":    "lock_timeout",
		"doc_url": "https://stripe.com/docs/error-codes/lock-timeout",
		"message": "This object cannot be accessed right now because another API request or Stripe process is currently accessing it. If you see this error intermittently, retry the request.",
		"type":    "invalid_request_error",
	})
	r.Header.Set("Stripe-Should-Retry", "true")
	return r
}

// APIError is the 500 of an internal Stripe failure.
func APIError() Reply {
	return errorReply(http.StatusInternalServerError, map[string]any{
		"message": "Sorry, something went wrong. We've already been notified of the problem, but if you need any help, you can reach out to support: https://support.stripe.com/contact",
		"type":    "api_error",
	})
}

// Unavailable is a 503 with Stripe's error body; retryAfter ("" for none) is the
// Retry-After header.
func Unavailable(retryAfter string) Reply {
	r := errorReply(http.StatusServiceUnavailable, map[string]any{
		"message": "Stripe is temporarily unavailable. Please try again later.",
		"type":    "api_error",
	})
	r.Header.Set("Stripe-Should-Retry", "true")
	if retryAfter != "" {
		r.Header.Set("Retry-After", retryAfter)
	}
	return r
}

// BadGateway is a 502 from something in front of Stripe: HTML, not Stripe's JSON.
func BadGateway() Reply {
	return Reply{
		Status: http.StatusBadGateway,
		Header: http.Header{"Content-Type": {"text/html"}},
		Body:   "<html><body><h1>502 Bad Gateway</h1></body></html>",
	}
}

// CapturedIntent is the 200 of a capture: the PaymentIntent, status succeeded,
// with amount_received = received and latest_charge = chargeID.
func CapturedIntent(intentID string, received int64, chargeID string) Reply {
	return objectReply(intent(intentID, "succeeded", 0, received, chargeID, ""))
}

// CanceledIntent is the 200 of a cancel: the PaymentIntent, status canceled.
func CanceledIntent(intentID string) Reply {
	return objectReply(intent(intentID, "canceled", 0, 0, "", "requested_by_customer"))
}

// RefundObject is the 200 of a refund.
func RefundObject(refundID, intentID, chargeID string, amount int64, metadata map[string]string) Reply {
	if metadata == nil {
		metadata = map[string]string{}
	}
	return objectReply(map[string]any{
		"id":                       refundID,
		"object":                   "refund",
		"amount":                   amount,
		"balance_transaction":      "txn_3OPoueJN5vQBdWEx0Fo3aV7d",
		"charge":                   chargeID,
		"created":                  1703500000,
		"currency":                 "eur",
		"destination_details":      map[string]any{"card": map[string]any{"reference_status": "pending", "reference_type": "acquirer_reference_number", "type": "refund"}, "type": "card"},
		"metadata":                 metadata,
		"payment_intent":           intentID,
		"reason":                   nil,
		"receipt_number":           nil,
		"source_transfer_reversal": nil,
		"status":                   "succeeded",
		"transfer_reversal":        nil,
	})
}

const requestLogURL = "https://dashboard.stripe.com/test/logs/req_8Hq1bE3RtQ9xYz?t=1703500000"

// intent is a PaymentIntent object as the API returns it (card, manual capture).
func intent(id, status string, capturable, received int64, latestCharge, cancellationReason string) map[string]any {
	var charge, reason, canceledAt any
	if latestCharge != "" {
		charge = latestCharge
	}
	if cancellationReason != "" {
		reason, canceledAt = cancellationReason, 1703500000
	}
	return map[string]any{
		"id":                                   id,
		"object":                               "payment_intent",
		"amount":                               AuthorizedAmount,
		"amount_capturable":                    capturable,
		"amount_details":                       map[string]any{"tip": map[string]any{}},
		"amount_received":                      received,
		"application":                          nil,
		"application_fee_amount":               nil,
		"automatic_payment_methods":            nil,
		"canceled_at":                          canceledAt,
		"cancellation_reason":                  reason,
		"capture_method":                       "manual",
		"client_secret":                        id + "_secret_XeXo8Ee1ITOJzjVWEtPoWG5ha",
		"confirmation_method":                  "automatic",
		"created":                              1703400000,
		"currency":                             "eur",
		"customer":                             nil,
		"description":                          nil,
		"invoice":                              nil,
		"last_payment_error":                   nil,
		"latest_charge":                        charge,
		"livemode":                             false,
		"metadata":                             map[string]string{},
		"next_action":                          nil,
		"on_behalf_of":                         nil,
		"payment_method":                       "pm_1OPoueJN5vQBdWExq7uO1sNn",
		"payment_method_configuration_details": nil,
		"payment_method_options": map[string]any{"card": map[string]any{
			"installments": nil, "mandate_options": nil, "network": nil, "request_three_d_secure": "automatic",
		}},
		"payment_method_types":        []string{"card"},
		"processing":                  nil,
		"receipt_email":               nil,
		"review":                      nil,
		"setup_future_usage":          nil,
		"shipping":                    nil,
		"statement_descriptor":        nil,
		"statement_descriptor_suffix": nil,
		"status":                      status,
		"transfer_data":               nil,
		"transfer_group":              nil,
	}
}

func errorReply(status int, errObj map[string]any) Reply {
	return Reply{Status: status, Header: jsonHeader(), Body: mustJSON(map[string]any{"error": errObj})}
}

func objectReply(obj map[string]any) Reply {
	return Reply{Status: http.StatusOK, Header: jsonHeader(), Body: mustJSON(obj)}
}

func jsonHeader() http.Header {
	return http.Header{
		"Content-Type":   {"application/json"},
		"Request-Id":     {"req_8Hq1bE3RtQ9xYz"},
		"Stripe-Version": {APIVersion},
	}
}

// mustJSON encodes the literal replies above; they always encode.
func mustJSON(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("stripetest: encoding a reply: %v", err))
	}
	return string(b)
}
