package easypost_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	ep "github.com/EasyPost/easypost-go/v5"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/adapters/easypost"
	"github.com/everywherecommerce/fulfilment/adapters/easypost/easyposttest"
)

// TestErrorMapping answers the first request (create shipment) with each status
// EasyPost can send and checks what the activity gets: a permanent
// ErrInvalidRequest, a RetryAfterError with the wait asked for, or a plain
// retryable error; a retry after a retryable error buys the label once.
func TestErrorMapping(t *testing.T) {
	t.Parallel()
	const (
		permanent  = "permanent"
		retryable  = "retryable"
		retryAfter = "retry-after"
	)
	inAMinute := time.Now().Add(time.Minute).UTC().Format(http.TimeFormat)
	plain := easyposttest.Body("error_parameter_required.json")
	cases := []struct {
		name   string
		status int // 0: the connection drops
		header http.Header
		body   string
		want   string
		after  time.Duration // for retry-after; tolerance 2 s for HTTP dates
	}{
		{"400 bad request", 400, nil, plain, permanent, 0},
		{"401 wrong key", 401, nil, `{"error":{"code":"APIKEY.INACTIVE","message":"This api key is no longer active.","errors":[]}}`, permanent, 0},
		{"402 no funds", 402, nil, `{"error":{"code":"PAYMENT_REQUIRED","message":"Insufficient funds.","errors":[]}}`, permanent, 0},
		{"403 forbidden", 403, nil, plain, permanent, 0},
		{"404 not found", 404, nil, `{"error":{"code":"NOT_FOUND","message":"The requested resource could not be found.","errors":[]}}`, permanent, 0},
		{"422 address", 422, nil, easyposttest.Body("error_address_verify.json"), permanent, 0},
		{"408 request timeout", 408, nil, plain, retryable, 0},
		{"429 with Retry-After seconds", 429, http.Header{"Retry-After": {"7"}}, plain, retryAfter, 7 * time.Second},
		{"429 with Retry-After date", 429, http.Header{"Retry-After": {inAMinute}}, plain, retryAfter, time.Minute},
		{"429 without Retry-After", 429, nil, plain, retryAfter, 0},
		{"500", 500, nil, `{"error":{"code":"INTERNAL_SERVER_ERROR","message":"Something went wrong.","errors":[]}}`, retryable, 0},
		{"502 text body", 502, nil, "Bad Gateway", retryable, 0},
		{"503 without Retry-After", 503, nil, "Service Unavailable", retryable, 0},
		{"503 with Retry-After", 503, http.Header{"Retry-After": {"30"}}, "Service Unavailable", retryAfter, 30 * time.Second},
		{"504", 504, nil, "Gateway Timeout", retryable, 0},
		{"connection dropped", 0, nil, "", retryable, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := easyposttest.NewServer(t, easyposttest.Options{})
			if tc.status == 0 {
				srv.FailOnce(easyposttest.StepCreate, easyposttest.Before)
			} else {
				srv.AnswerOnce(easyposttest.StepCreate, tc.status, tc.header, tc.body)
			}
			c := newCarrier(t, srv, &memoryLog{}, easypost.RatePreference{})
			_, err := c.BuyLabel(t.Context(), request("B-1"))
			var ra *activities.RetryAfterError
			isRA := errors.As(err, &ra)
			switch {
			case err == nil:
				t.Fatal("no error")
			case tc.want == permanent:
				var apiErr *ep.APIError
				if !errors.Is(err, activities.ErrInvalidRequest) || isRA || !errors.As(err, &apiErr) || apiErr.StatusCode != tc.status {
					t.Errorf("err = %v, want ErrInvalidRequest keeping the SDK's APIError %d", err, tc.status)
				}
			case errors.Is(err, activities.ErrInvalidRequest):
				t.Errorf("err = %v, want retryable", err)
			case tc.want == retryAfter && (!isRA || (ra.After-tc.after).Abs() > 2*time.Second):
				t.Errorf("err = %v (RetryAfterError %v), want one after %v", err, isRA, tc.after)
			case tc.want == retryable && isRA:
				t.Errorf("err = %v is a RetryAfterError %v without a Retry-After", err, ra.After)
			}
			if tc.want == permanent {
				return
			}
			if _, err := c.BuyLabel(t.Context(), request("B-1")); err != nil {
				t.Fatalf("retry: %v", err)
			}
			if n := srv.Purchases(); n != 1 {
				t.Errorf("%d labels bought, want 1", n)
			}
		})
	}
	t.Run("422 invalid request keeps the SDK error", func(t *testing.T) {
		t.Parallel()
		srv := easyposttest.NewServer(t, easyposttest.Options{})
		srv.AnswerOnce(easyposttest.StepCreate, 422, nil, easyposttest.Body("error_address_verify.json"))
		_, err := newCarrier(t, srv, &memoryLog{}, easypost.RatePreference{}).BuyLabel(t.Context(), request("B-2"))
		var invalid *ep.InvalidRequestError
		if !errors.As(err, &invalid) || invalid.Code != "ADDRESS.VERIFY.FAILURE" {
			t.Errorf("err = %v, want *easypost.InvalidRequestError ADDRESS.VERIFY.FAILURE", err)
		}
	})
}

// TestBuyErrorsAfterCreate: a permanent error at the buy is permanent, and the
// retry of a transient one buys the recorded shipment, not a new one.
func TestBuyErrorsAfterCreate(t *testing.T) {
	t.Parallel()
	srv := easyposttest.NewServer(t, easyposttest.Options{})
	c := newCarrier(t, srv, &memoryLog{}, easypost.RatePreference{})
	srv.AnswerOnce(easyposttest.StepBuy, 503, http.Header{"Retry-After": {"4"}}, "Service Unavailable")
	_, err := c.BuyLabel(t.Context(), request("B-3"))
	var ra *activities.RetryAfterError
	if !errors.As(err, &ra) || ra.After != 4*time.Second {
		t.Fatalf("err = %v, want RetryAfterError 4s", err)
	}
	if _, err := c.BuyLabel(t.Context(), request("B-3")); err != nil {
		t.Fatal(err)
	}
	if creates, buys := srv.Calls(easyposttest.StepCreate), srv.Calls(easyposttest.StepBuy); creates != 1 || buys != 2 || srv.Purchases() != 1 {
		t.Errorf("%d creates, %d buys, %d purchases; want 1, 2, 1", creates, buys, srv.Purchases())
	}

	srv.AnswerOnce(easyposttest.StepBuy, 422, nil, `{"error":{"code":"SHIPMENT.POSTAGE.FAILURE","message":"The carrier refused the shipment.","errors":[]}}`)
	if _, err := c.BuyLabel(t.Context(), request("B-4")); !errors.Is(err, activities.ErrInvalidRequest) {
		t.Errorf("refused purchase: err = %v, want ErrInvalidRequest", err)
	}
}
