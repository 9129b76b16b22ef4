package api_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// TestStoreWorkListsWhatStaffNeed follows a ship-to-store order from the
// distribution centre through the store's work list, as the store console reads
// it: the parcel expected, then the order ready with the customer's name, the
// pickup deadline and the attempts left until the handover locks; an order past
// its deadline apart as overdue.
func TestStoreWorkListsWhatStaffNeed(t *testing.T) {
	t.Parallel()
	policy := fastPolicy()
	s := newSystem(t, policy)
	id := "E2E-W-" + s.suffix
	s.setStock("berlin-mitte", "WATCH-001", 0) // the store has none: the DC sends it
	s.place(id, "ship_to_store")

	// The DC picks one strap short; the parcel is expected at the store.
	s.waitStage(id, "picking")
	s.post("/v1/stores/dc-erfurt/orders/"+id+"/pick", s.tokens["dc"],
		map[string]any{"lines": []map[string]any{{"sku": "WATCH-001", "quantity": 1}, {"sku": "STRAP-LEA-20", "quantity": 1}}})
	s.waitStage(id, "in_transit_to_store")
	arriving := s.workOrder("berlin", id, func(w records.StoreWork) []records.WorkOrder { return w.Arriving })
	if arriving.ExpectedAt == nil || arriving.CustomerName != "" || arriving.AttemptsLeft != nil || arriving.DueAt != nil {
		t.Errorf("parcel to receive = %+v, want an expected time, no customer name, no pickup state, no pick-by time", arriving)
	}

	// Received: ready for pickup, with what the counter needs.
	before := time.Now()
	s.post("/v1/stores/berlin-mitte/orders/"+id+"/arrival", s.tokens["berlin"], map[string]any{})
	s.waitStage(id, "ready_for_pickup")
	ready := s.workOrder("berlin", id, func(w records.StoreWork) []records.WorkOrder { return w.ReadyForPickup })
	if ready.CustomerName != "Mia Schmidt" {
		t.Errorf("customer name = %q, want Mia Schmidt", ready.CustomerName)
	}
	if d := ready.PickupDeadline; d == nil || d.Before(before.Add(policy.PickupWindow-time.Minute)) || d.After(time.Now().Add(policy.PickupWindow)) {
		t.Errorf("pickup deadline = %v, want about %s from now", d, policy.PickupWindow)
	}
	if ready.AttemptsLeft == nil || *ready.AttemptsLeft != 5 || ready.Locked == nil || *ready.Locked {
		t.Errorf("pickup state = %v left, locked %v; want 5 left, not locked", ready.AttemptsLeft, ready.Locked)
	}
	if len(ready.Lines) != 2 || ready.Lines[1].SKU != "STRAP-LEA-20" || ready.Lines[1].Quantity != 1 {
		t.Errorf("lines to hand over = %+v, want the watch and the one strap picked", ready.Lines)
	}

	// Wrong codes count down to the lock.
	for left := 4; left >= 0; left-- {
		st, body := s.do(http.MethodPost, "/v1/stores/berlin-mitte/orders/"+id+"/pickup", s.tokens["berlin"], map[string]string{"code": "000000"})
		if want := map[bool]int{true: http.StatusLocked, false: http.StatusUnprocessableEntity}[left == 0]; st != want {
			t.Fatalf("wrong code with %d left: %d %v, want %d", left, st, body, want)
		}
		o := s.workOrder("berlin", id, func(w records.StoreWork) []records.WorkOrder { return w.ReadyForPickup })
		if *o.AttemptsLeft != left || *o.Locked != (left == 0) {
			t.Errorf("after a wrong code: %d left, locked %v; want %d left, locked %v", *o.AttemptsLeft, *o.Locked, left, left == 0)
		}
	}

	// Overdue: the projection of an order whose deadline has passed.
	overdue := "E2E-WO-" + s.suffix
	s.projectReady(overdue, "Chris Late", time.Now().Add(-time.Minute))
	o := s.workOrder("support", overdue, func(w records.StoreWork) []records.WorkOrder { return w.Overdue })
	if o.CustomerName != "Chris Late" || o.AttemptsLeft == nil || *o.AttemptsLeft != 5 {
		t.Errorf("overdue order = %+v, want the customer's name and 5 attempts left", o)
	}
	if w := s.storeWork("berlin", "berlin-mitte"); containsOrder(w.ReadyForPickup, overdue) {
		t.Errorf("the overdue order is also listed as ready for pickup")
	}
}

// TestStoreWorkOfUnknownOrOtherStore: a store that does not exist is 404 even
// for support, and a staff token sees no other store's work.
func TestStoreWorkOfUnknownOrOtherStore(t *testing.T) {
	t.Parallel()
	s := newSystem(t, fastPolicy())
	for _, tc := range []struct{ token, store string }{
		{"support", "nowhere"}, {"berlin", "hamburg-altona"}, {"berlin", "nowhere"},
	} {
		if st, body := s.do(http.MethodGet, "/v1/stores/"+tc.store+"/work", s.tokens[tc.token], nil); st != http.StatusNotFound || body["type"] == nil {
			t.Errorf("%s GET /v1/stores/%s/work: %d %v, want a 404 problem", tc.token, tc.store, st, body)
		}
	}
	if st, body := s.do(http.MethodGet, "/v1/stores/hamburg-altona/work", s.tokens["support"], nil); st != http.StatusOK {
		t.Errorf("support GET another store's work: %d %v, want 200", st, body)
	}
}

// storeWork reads a store's work list as the token's holder.
func (s *system) storeWork(token, store string) records.StoreWork {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.url+"/v1/stores/"+store+"/work", nil)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.tokens[token])
	resp, err := s.http.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var w records.StoreWork
	if err := json.NewDecoder(resp.Body).Decode(&w); err != nil || resp.StatusCode != http.StatusOK {
		s.t.Fatalf("GET store work of %s: %d %v", store, resp.StatusCode, err)
	}
	return w
}

// workOrder returns the order from a list of Berlin Mitte's work, which must hold it.
func (s *system) workOrder(token, id string, list func(records.StoreWork) []records.WorkOrder) records.WorkOrder {
	s.t.Helper()
	for _, o := range list(s.storeWork(token, "berlin-mitte")) {
		if o.OrderID == id {
			return o
		}
	}
	s.t.Fatalf("order %s is not in the expected list of the store's work", id)
	return records.WorkOrder{}
}

func containsOrder(list []records.WorkOrder, id string) bool {
	for _, o := range list {
		if o.OrderID == id {
			return true
		}
	}
	return false
}
