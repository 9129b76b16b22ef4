package easypost

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	ep "github.com/EasyPost/easypost-go/v5"

	"github.com/everywherecommerce/fulfilment/activities"
)

// mapError turns an SDK error into what the activities classify, keeping the SDK
// error as cause (errors.As finds *easypost.InvalidRequestError and friends):
//
//   - 429, and a 5xx that says when to come back (Retry-After): an
//     *activities.RetryAfterError, whose next retry waits that long (After is 0
//     when EasyPost gave no Retry-After: the retry policy decides);
//   - 408 and any other 5xx, no status at all (network, timeout, a body that did
//     not decode): retryable, wrapped as it is. Every step is safe to repeat;
//   - any other 4xx (422 *InvalidRequestError: undeliverable address, rate not on
//     the shipment; 401/403: a wrong key; 402: no funds; 404): wraps
//     activities.ErrInvalidRequest, permanent: repeating the request cannot help.
func mapError(op string, err error, retryAfter string, now time.Time) error {
	var apiErr *ep.APIError
	if !errors.As(err, &apiErr) {
		return fmt.Errorf("%s: %w", op, err)
	}
	status := apiErr.StatusCode
	after, hinted := parseRetryAfter(retryAfter, now)
	switch {
	case status == http.StatusTooManyRequests, status >= 500 && hinted:
		return &activities.RetryAfterError{After: after, Err: fmt.Errorf("%s: HTTP %d: %w", op, status, err)}
	case status == http.StatusRequestTimeout, status >= 500:
		return fmt.Errorf("%s: HTTP %d: %w", op, status, err)
	case status >= 400:
		return fmt.Errorf("%s: HTTP %d: %w: %w", op, status, activities.ErrInvalidRequest, err)
	}
	return fmt.Errorf("%s: HTTP %d: %w", op, status, err) // 1xx/3xx/0: a broken exchange, retryable
}

// parseRetryAfter reads a Retry-After header, in seconds or as an HTTP date.
// hinted is false when there is no usable header; a date in the past is no wait.
func parseRetryAfter(v string, now time.Time) (after time.Duration, hinted bool) {
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(v); err == nil {
		return time.Duration(max(secs, 0)) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0), true
	}
	return 0, false
}
