package api_test

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/adapters/temporal/temporaltest"
	"github.com/everywherecommerce/fulfilment/internal/testbed"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// actionBudget is what an order may cost in Temporal Cloud Actions, on every path
// a customer, staff or support drive it along once.
const actionBudget = 20

// lockedBudget: five wrong codes cost three Actions each (the update, the code
// check, the journey entry), the lock's flag two, support's unlock and extension
// one or two each, on top of a handover.
const lockedBudget = 40

// TestActionsPerOrder runs one order per path in a namespace of its own and counts
// the billable Actions the dev server's `action` metric records for it. Every path
// must stay within its budget: actionBudget, except where two parties report the
// same transfer's arrival (staff, then the carrier's own delivered event: one
// signal more) and the locked path's repeated wrong codes (lockedBudget). Every
// path's count is logged (`make test GOTESTFLAGS='-run ActionsPerOrder -v'`).
func TestActionsPerOrder(t *testing.T) {
	t.Parallel()
	metrics := os.Getenv("TEMPORAL_METRICS_URL")
	if metrics == "" {
		t.Fatal("TEMPORAL_METRICS_URL is not set: run the tests with `make test`, which starts the dev server with metrics")
	}
	paths := []struct {
		name   string
		budget int
		policy func(*workflows.Policy)
		run    func(s *system, id string)
	}{
		{"ship to store from store stock", actionBudget, nil, func(s *system, id string) {
			s.place(id, "ship_to_store")
			s.pickAll(id, "berlin-mitte", "berlin")
			s.handOver(id)
		}},
		{"home delivery", actionBudget, nil, func(s *system, id string) {
			s.place(id, "home_delivery")
			s.pickAll(id, "dc-erfurt", "dc")
		}},
		{"ship to store by transfer", actionBudget + 1, nil, func(s *system, id string) {
			s.setStock("berlin-mitte", "WATCH-001", 0)
			s.place(id, "ship_to_store")
			s.pickAll(id, "dc-erfurt", "dc")
			s.waitStage(id, "in_transit_to_store")
			s.post("/v1/stores/berlin-mitte/orders/"+id+"/arrival", s.tokens["berlin"], map[string]any{})
			s.handOver(id)
		}},
		{"transfer arrival reported by the carrier", actionBudget, nil, func(s *system, id string) {
			s.setStock("berlin-mitte", "WATCH-001", 0)
			s.place(id, "ship_to_store")
			s.pickAll(id, "dc-erfurt", "dc")
			s.handOver(id) // the sandbox carrier's delivered event makes it ready
		}},
		{"picking SLA passed", actionBudget, func(p *workflows.Policy) { p.PickingSLA = time.Second }, func(s *system, id string) {
			s.place(id, "ship_to_store")
			s.waitStage(id, "picking")
			s.waitAttention(id)
			s.pickAll(id, "berlin-mitte", "berlin")
			s.handOver(id)
		}},
		{"payment captured elsewhere", actionBudget, nil, func(s *system, id string) {
			body := s.orderBody(id, "ship_to_store")
			body["payment_intent_id"] = "pi_captured_" + id
			s.do(http.MethodPost, "/v1/orders", s.tokens["checkout"], body)
		}},
		{"card declined", actionBudget, nil, func(s *system, id string) {
			body := s.orderBody(id, "ship_to_store")
			body["payment_intent_id"] = "pi_decline_" + id
			s.do(http.MethodPost, "/v1/orders", s.tokens["checkout"], body)
		}},
		{"stock short", actionBudget, nil, func(s *system, id string) {
			s.setStock("dc-erfurt", "UNSTOCKED-1", 0) // a known article, out of stock everywhere
			body := s.orderBody(id, "ship_to_store")
			body["lines"] = []map[string]any{{"sku": "UNSTOCKED-1", "name": "Rare strap", "quantity": 1, "unit_price": 5900}}
			s.do(http.MethodPost, "/v1/orders", s.tokens["checkout"], body)
		}},
		{"short pick", actionBudget, nil, func(s *system, id string) {
			s.place(id, "ship_to_store")
			s.waitStage(id, "picking")
			s.post("/v1/stores/berlin-mitte/orders/"+id+"/pick", s.tokens["berlin"],
				map[string]any{"lines": []map[string]any{{"sku": "WATCH-001", "quantity": 1}, {"sku": "STRAP-LEA-20", "quantity": 1}}})
			s.handOver(id)
		}},
		{"nothing picked", actionBudget, nil, func(s *system, id string) {
			s.place(id, "home_delivery")
			s.waitStage(id, "picking")
			s.post("/v1/stores/dc-erfurt/orders/"+id+"/pick", s.tokens["dc"],
				map[string]any{"lines": []map[string]any{{"sku": "WATCH-001", "quantity": 0}, {"sku": "STRAP-LEA-20", "quantity": 0}}})
		}},
		{"pickup locked unlocked and extended", lockedBudget, nil, func(s *system, id string) {
			s.place(id, "ship_to_store")
			s.pickAll(id, "berlin-mitte", "berlin")
			s.waitStage(id, "ready_for_pickup")
			for range workflows.MaxWrongPickupCodes {
				s.do(http.MethodPost, "/v1/stores/berlin-mitte/orders/"+id+"/pickup", s.tokens["berlin"], map[string]string{"code": "000000"})
			}
			s.post("/v1/orders/"+id+"/unlock-pickup", s.tokens["support"], nil)
			s.post("/v1/orders/"+id+"/extend-pickup", s.tokens["support"], map[string]any{"until": time.Now().Add(8 * 24 * time.Hour).UTC().Format(time.RFC3339)})
			s.handOver(id)
		}},
		{"cancelled while picking", actionBudget, nil, func(s *system, id string) {
			s.place(id, "ship_to_store")
			s.waitStage(id, "picking")
			s.post("/v1/orders/"+id+"/cancel", s.tokens["support"], map[string]any{"reason": "customer asked"})
		}},
		{"pickup window expired", actionBudget, func(p *workflows.Policy) {
			p.PickupWindow, p.PickupReminders = 3*time.Second, []time.Duration{time.Second, 2 * time.Second}
		}, func(s *system, id string) {
			s.place(id, "ship_to_store")
			s.pickAll(id, "berlin-mitte", "berlin")
		}},
	}
	for _, path := range paths {
		t.Run(path.name, func(t *testing.T) {
			t.Parallel()
			ns := newNamespace(t)
			policy := fastPolicy()
			if path.policy != nil {
				path.policy(&policy)
			}
			s := newSystemIn(t, policy, ns)
			id := "ACT-" + s.suffix
			path.run(s, id)
			s.result(id)
			s.checkHistory(id, path.name)
			n := settledActions(t, metrics, ns)
			t.Logf("%s: %d actions", path.name, n)
			if n > path.budget {
				t.Errorf("%s cost %d actions, budget %d", path.name, n, path.budget)
			}
		})
	}
}

// newNamespace registers a fresh namespace with the order search attributes and
// waits until it serves requests.
func newNamespace(t *testing.T) string {
	t.Helper()
	ns := "actions" + randomHex(t, 4) // letters and digits only: the metric label would not keep a "-"
	if err := testbed.RegisterNamespace(context.Background(), temporaltest.Address(t), ns); err != nil {
		t.Fatal(err)
	}
	return ns
}

// settledActions reads the namespace's Actions once the dev server's metrics
// have caught up (testbed.SettledActions).
func settledActions(t *testing.T, url, ns string) int {
	t.Helper()
	n, err := testbed.SettledActions(context.Background(), &http.Client{Timeout: 10 * time.Second}, url, ns, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// countActions sums the dev server's `action` counter for one namespace, now.
func countActions(t *testing.T, url, ns string) int {
	t.Helper()
	n, err := testbed.CountActions(context.Background(), &http.Client{Timeout: 10 * time.Second}, url, ns)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
