package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/everywherecommerce/fulfilment/adapters/postgres"
)

// outageStore is a PostgreSQL that cannot be reached.
type outageStore struct {
	Store // nil: other methods are not expected
}

func (outageStore) OrderRow(context.Context, string) (postgres.OrderRow, error) {
	return postgres.OrderRow{}, errors.New("dial tcp: connection refused")
}

// TestStaffOrderStatusInAnOutage: a staff member asking for an order while
// PostgreSQL is down is told to retry (503), not that the order does not exist.
func TestStaffOrderStatusInAnOutage(t *testing.T) {
	t.Parallel()
	s := New(Config{}, nil, outageStore{}, nil, slog.New(slog.DiscardHandler))
	req := httptest.NewRequest(http.MethodGet, "/v1/orders/A-1", nil)
	req.SetPathValue("id", "A-1")
	req = req.WithContext(context.WithValue(req.Context(), principalKey{}, postgres.Principal{Subject: "s", Role: roleStaff, StoreID: "berlin-mitte"}))
	rec := httptest.NewRecorder()
	s.getOrder(rec, req)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("GET /v1/orders/{id} as staff with PostgreSQL down: %d %s, want 503 with Retry-After", rec.Code, rec.Body)
	}
}
