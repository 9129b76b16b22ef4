package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// waitForDecision polls the support view of the order until it waits for a
// decision, and returns that view.
func (s *system) waitForDecision(id string) map[string]any {
	s.t.Helper()
	deadline := time.Now().Add(s.patience)
	for {
		st, b := s.do(http.MethodGet, "/v1/orders/"+id, s.tokens["support"], nil)
		if p, ok := b["problem"].(map[string]any); st == http.StatusOK && ok && p["waiting"] == true {
			return b
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("order %s never waited for support: %d %v", id, st, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestEndToEndRefusedLabelWaitsForSupport: the carrier refuses the customer's
// address for good. The order does not fail: support sees it flagged with the
// reason (status, list, projection), a decision the step does not allow is a 400,
// and cancelling with a refund settles it: money back once, stock back, flag down.
func TestEndToEndRefusedLabelWaitsForSupport(t *testing.T) {
	t.Parallel()
	s := newSystem(t, fastPolicy())
	id := "E2E-ATT-" + s.suffix
	watch := s.stock("dc-erfurt", "WATCH-001")
	body := s.orderBody(id, "home_delivery")
	body["address"].(map[string]string)["postal_code"] = "00000" // the sandbox carrier serves no such address
	if st, b := s.do(http.MethodPost, "/v1/orders", s.tokens["checkout"], body); st != http.StatusCreated {
		t.Fatalf("place: %d %v", st, b)
	}
	s.pickAll(id, "dc-erfurt", "dc")

	view := s.waitForDecision(id)
	problem := view["problem"].(map[string]any)
	if view["needs_attention"] != true || problem["step"] != "buy home-delivery label" ||
		!strings.Contains(view["attention_reason"].(string), "undeliverable") {
		t.Errorf("support view = %v", view)
	}
	s.waitAttention(id) // the projection follows the status query by one activity
	row, err := s.store.OrderRow(context.Background(), id)
	if err != nil || !row.NeedsAttention || !strings.Contains(row.AttentionReason, "undeliverable") {
		t.Errorf("projection = %+v (%v), want flagged with the reason", row, err)
	}
	st, b := s.do(http.MethodGet, "/v1/orders?needs_attention=true", s.tokens["support"], nil)
	if list, _ := b["orders"].([]any); st != http.StatusOK || len(list) != 1 ||
		!strings.Contains(fmt.Sprint(list[0].(map[string]any)["attention_reason"]), "undeliverable") {
		t.Errorf("support list: %d %v", st, b)
	}

	path := "/v1/orders/" + id + "/resolve"
	if st, b := s.do(http.MethodPost, path, s.tokens["support"], map[string]string{"action": "skip", "note": "shipped by hand"}); st != http.StatusBadRequest {
		t.Errorf("skip a label: %d %v, want 400 (no shipping by hand)", st, b)
	}
	if st, b := s.do(http.MethodPost, path, s.tokens["support"], map[string]string{"action": "cancel"}); st != http.StatusBadRequest {
		t.Errorf("cancel without a note: %d %v, want 400", st, b)
	}
	if st, b := s.do(http.MethodPost, path, s.tokens["berlin"], map[string]any{"action": "cancel", "refund": true, "note": "x"}); st != http.StatusForbidden && st != http.StatusNotFound {
		t.Errorf("staff resolving: %d %v", st, b)
	}
	st, b = s.do(http.MethodPost, path, s.tokens["support"], map[string]any{"action": "cancel", "refund": true, "note": "the address does not exist; customer told by phone"})
	if st != http.StatusOK || b["step"] != "buy home-delivery label" {
		t.Fatalf("resolve: %d %v", st, b)
	}

	res := s.result(id)
	if res.Stage != "cancelled" || res.Refunded != res.Captured || res.Captured != 32700 {
		t.Errorf("result = %+v", res)
	}
	if got := s.stock("dc-erfurt", "WATCH-001"); got != watch {
		t.Errorf("DC watch stock = %d, want %d again", got, watch)
	}
	row, err = s.store.OrderRow(context.Background(), id)
	if err != nil || row.NeedsAttention || row.Stage != "cancelled" {
		t.Errorf("projection at the end = %+v (%v)", row, err)
	}
	entries, err := s.store.Journey(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var decided bool
	for _, e := range entries {
		if strings.Contains(e.Detail, "cancel of buy home-delivery label: the address does not exist") && strings.HasPrefix(e.Actor, "e2e-support") {
			decided = true
		}
	}
	if !decided {
		t.Errorf("journey lacks support's decision with its actor: %+v", entries)
	}
	if st, b := s.do(http.MethodPost, path, s.tokens["support"], map[string]string{"action": "retry"}); st != http.StatusConflict {
		t.Errorf("resolve an ended order: %d %v, want 409", st, b)
	}
	s.checkHistory(id, "label refused and cancelled by support")
}

// TestEndToEndCancelClosesThePickTask: a cancelled order leaves nothing open:
// its pick task is closed and its reservation released.
func TestEndToEndCancelClosesThePickTask(t *testing.T) {
	t.Parallel()
	s := newSystem(t, fastPolicy())
	id := "E2E-CPT-" + s.suffix
	s.place(id, "ship_to_store")
	s.waitStage(id, "picking")
	if st, b := s.do(http.MethodPost, "/v1/orders/"+id+"/cancel", s.tokens["support"], map[string]string{"reason": "customer asked"}); st != http.StatusOK {
		t.Fatalf("cancel: %d %v", st, b)
	}
	work, err := s.store.StoreWork(context.Background(), "berlin-mitte")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range work.Picking {
		if o.OrderID == id {
			t.Errorf("cancelled order %s is still on the pick list", id)
		}
	}
	var status string
	if err := s.db.QueryRow(context.Background(), `select status from pick_tasks where order_id = $1`, id).Scan(&status); err != nil || status != "cancelled" {
		t.Errorf("pick task status = %q (%v), want cancelled", status, err)
	}
	var reserved int
	if err := s.db.QueryRow(context.Background(), `select coalesce(sum(quantity - released - consumed), 0) from reservations where order_id = $1`, id).Scan(&reserved); err != nil || reserved != 0 {
		t.Errorf("still reserved = %d (%v), want 0", reserved, err)
	}
}

// TestEndToEndStaffNeverGet404ForAPlacedOrder: from the checkout's answer on, the
// order is in the projection with its location, so staff acting at once get the
// pick through (or 409 while the workflow is not yet at picking), never 404.
func TestEndToEndStaffNeverGet404ForAPlacedOrder(t *testing.T) {
	t.Parallel()
	s := newSystem(t, fastPolicy())
	for i := range 3 {
		id := "E2E-RACE-" + s.suffix + "-" + string(rune('a'+i))
		s.place(id, "ship_to_store")
		pick := map[string]any{"lines": []map[string]any{{"sku": "WATCH-001", "quantity": 1}, {"sku": "STRAP-LEA-20", "quantity": 2}}}
		deadline := time.Now().Add(s.patience)
		for {
			st, b := s.do(http.MethodPost, "/v1/stores/berlin-mitte/orders/"+id+"/pick", s.tokens["berlin"], pick)
			if st == http.StatusOK {
				break
			}
			if st != http.StatusConflict || time.Now().After(deadline) {
				t.Fatalf("pick right after checkout: %d %v, want 200 (or 409 for a moment)", st, b)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// TestEndToEndOutageFlagsWhileRetryingAndClears: the carrier fails the label's
// first attempt (sandbox postal code 50300: a 5xx), and its retry comes later than
// the policy's StuckAfter allows. Against the real server the order is flagged
// "keeps failing" while the step goes on, and the flag clears when the label is
// bought: one label, and the order completes.
func TestEndToEndOutageFlagsWhileRetryingAndClears(t *testing.T) {
	t.Parallel()
	policy := fastPolicy()
	policy.StuckAfter = 800 * time.Millisecond // the first retry comes after 1 s
	s := newSystem(t, policy)
	id := "E2E-OUT-" + s.suffix
	body := s.orderBody(id, "home_delivery")
	body["address"].(map[string]string)["postal_code"] = "50300"
	if st, b := s.do(http.MethodPost, "/v1/orders", s.tokens["checkout"], body); st != http.StatusCreated {
		t.Fatalf("place: %d %v", st, b)
	}
	s.pickAll(id, "dc-erfurt", "dc")

	res := s.result(id)
	if res.Stage != "completed" {
		t.Fatalf("result = %+v", res)
	}
	entries, err := s.store.Journey(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var flagged, cleared bool
	for _, e := range entries {
		flagged = flagged || (e.Kind == "attention" && strings.Contains(e.Detail, "buy home-delivery label keeps failing"))
		cleared = cleared || (e.Kind == "attention_resolved" && e.Detail == "buy home-delivery label succeeded")
	}
	if !flagged || !cleared {
		t.Errorf("journey flagged %v, cleared %v: %+v", flagged, cleared, entries)
	}
	if row, err := s.store.OrderRow(context.Background(), id); err != nil || row.NeedsAttention {
		t.Errorf("projection = %+v (%v), want the flag down", row, err)
	}
	if n := s.providers.Carrier.(interface{ LabelsBought() int }).LabelsBought(); n != 1 {
		t.Errorf("labels bought = %d, want 1", n)
	}
}
