package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// outageStore is a PostgreSQL that cannot be reached.
type outageStore struct {
	Store // nil: other methods are not expected
}

func (outageStore) OrderRow(context.Context, string) (records.OrderRow, error) {
	return records.OrderRow{}, errors.New("dial tcp: connection refused")
}

func (outageStore) OrderDetail(context.Context, string) (records.OrderDetail, error) {
	return records.OrderDetail{}, errors.New("dial tcp: connection refused")
}

// TestOrderStatusInAnOutage: anyone asking for an order while PostgreSQL is down
// is told to retry (503), not that the order does not exist; staff even when
// asking the workflow, as their store is checked in the projection.
func TestOrderStatusInAnOutage(t *testing.T) {
	t.Parallel()
	s := New(Config{}, nil, outageStore{}, nil, slog.New(slog.DiscardHandler))
	for _, tc := range []struct {
		path string
		who  records.Principal
	}{
		{"/v1/orders/A-1", records.Principal{Subject: "s", Role: records.RoleStaff, StoreID: "berlin-mitte"}},
		{"/v1/orders/A-1?consistent=true", records.Principal{Subject: "s", Role: records.RoleStaff, StoreID: "berlin-mitte"}},
		{"/v1/orders/A-1", records.Principal{Subject: "a", Role: records.RoleSupport}},
	} {
		req := httptest.NewRequest(http.MethodGet, tc.path, nil)
		req.SetPathValue("id", "A-1")
		req = req.WithContext(context.WithValue(req.Context(), principalKey{}, tc.who))
		rec := httptest.NewRecorder()
		s.getOrder(rec, req)
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
			t.Errorf("GET %s as %s with PostgreSQL down: %d %s, want 503 with Retry-After", tc.path, tc.who.Role, rec.Code, rec.Body)
		}
	}
}

// queryFailingTemporal answers every query with err.
type queryFailingTemporal struct {
	TemporalClient // nil: no other call is expected
	err            error
}

func (f queryFailingTemporal) QueryWorkflow(context.Context, string, string, string, ...any) (converter.EncodedValue, error) {
	return nil, f.err
}

// TestTemporalFaultsAre503: every way Temporal says "not now" (down,
// restarting, overloaded, slower than the handler's timeout, the request's own
// deadline) is a 503 with Retry-After, never a 500.
func TestTemporalFaultsAre503(t *testing.T) {
	t.Parallel()
	for name, err := range map[string]error{
		"unavailable":             serviceerror.NewUnavailable("connection refused"),
		"unavailable, wrapped":    fmt.Errorf("failed reaching server: %w", serviceerror.NewUnavailable("connection refused")),
		"deadline exceeded":       serviceerror.NewDeadlineExceeded("context deadline exceeded"),
		"resource exhausted":      serviceerror.NewResourceExhausted(enumspb.RESOURCE_EXHAUSTED_CAUSE_RPS_LIMIT, "namespace rate limit exceeded"),
		"canceled":                serviceerror.NewCanceled("canceled"),
		"namespace unavailable":   serviceerror.NewNamespaceUnavailable("default"),
		"workflow not ready":      serviceerror.NewWorkflowNotReady("workflow task not completed"),
		"context deadline":        fmt.Errorf("query: %w", context.DeadlineExceeded),
		"context canceled":        context.Canceled,
		"update timed out":        client.NewWorkflowUpdateServiceTimeoutOrCanceledError(context.DeadlineExceeded),
		"update timed out, gRPC":  client.NewWorkflowUpdateServiceTimeoutOrCanceledError(serviceerror.NewDeadlineExceeded("deadline")),
		"lazy client, no server":  fmt.Errorf("failed reaching server: %w", context.DeadlineExceeded),
		"multi-op, server's code": fmt.Errorf("update-with-start: %w", serviceerror.NewUnavailable("shutting down")),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := New(Config{}, queryFailingTemporal{err: err}, outageStore{}, nil, slog.New(slog.DiscardHandler))
			// A consistent read asks the workflow (and reads no projection).
			req := httptest.NewRequest(http.MethodGet, "/v1/orders/A-1?consistent=true", nil)
			req.SetPathValue("id", "A-1")
			req = req.WithContext(context.WithValue(req.Context(), principalKey{}, records.Principal{Subject: "s", Role: records.RoleSupport}))
			rec := httptest.NewRecorder()
			s.getOrder(rec, req)
			if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
				t.Errorf("GET /v1/orders/{id}?consistent=true with Temporal answering %v: %d %s, want 503 with Retry-After", err, rec.Code, rec.Body)
			}
		})
	}
	// An order that does not exist is not an outage.
	var p *Problem
	if got := (&Server{}).temporalError(serviceerror.NewNotFound("workflow not found")); !errors.As(got, &p) || p.Status != http.StatusNotFound {
		t.Errorf("NotFound maps to %v, want 404", got)
	}
}
