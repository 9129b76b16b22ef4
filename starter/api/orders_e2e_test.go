package api_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/everywherecommerce/fulfilment/workflows"
)

func TestEndToEndShipToStore(t *testing.T) {
	t.Parallel()
	s := newSystem(t, fastPolicy())
	id := "E2E-S-" + s.suffix
	watch, strap := s.stock("berlin-mitte", "WATCH-001"), s.stock("berlin-mitte", "STRAP-LEA-20")

	status, body := s.do(http.MethodPost, "/v1/orders", s.tokens["checkout"], s.orderBody(id, "ship_to_store"))
	if status != http.StatusCreated || body["outcome"] != "captured" || body["captured_amount"] != float64(32700) {
		t.Fatalf("place order: %d %v", status, body)
	}
	if body["promised_ready_at"] == nil || body["url"] != "/v1/orders/"+id || body["replay"] != false {
		t.Errorf("answer lacks the promised date or URL, or says replay: %v", body)
	}
	// A retry of the same request gets the same answer, marked as a replay;
	// another body is refused.
	if st, again := s.do(http.MethodPost, "/v1/orders", s.tokens["checkout"], s.orderBody(id, "ship_to_store")); st != http.StatusCreated ||
		again["captured_amount"] != body["captured_amount"] || again["replay"] != true || again["current_stage"] == nil {
		t.Errorf("repeated checkout: %d %v", st, again)
	}
	other := s.orderBody(id, "ship_to_store")
	other["payment_intent_id"] = "pi_other"
	if st, _ := s.do(http.MethodPost, "/v1/orders", s.tokens["checkout"], other); st != http.StatusConflict {
		t.Errorf("different body for the same order: %d, want 409", st)
	}

	s.waitStage(id, "picking")
	pick := map[string]any{"lines": []map[string]any{{"sku": "WATCH-001", "quantity": 1}, {"sku": "STRAP-LEA-20", "quantity": 2}}}
	if st, _ := s.do(http.MethodPost, "/v1/stores/berlin-mitte/orders/"+id+"/pick", s.tokens["hamburg"], pick); st != http.StatusNotFound {
		t.Errorf("another store's staff picking: %d, want 404", st)
	}
	if st, b := s.do(http.MethodPost, "/v1/stores/berlin-mitte/orders/"+id+"/pick", s.tokens["berlin"], pick); st != http.StatusOK {
		t.Fatalf("pick: %d %v", st, b)
	}
	s.waitStage(id, "ready_for_pickup")
	if st, b := s.do(http.MethodPost, "/v1/stores/berlin-mitte/orders/"+id+"/pickup", s.tokens["berlin"], map[string]string{"code": wrongCode(s.pickupCode(id))}); st != http.StatusUnprocessableEntity {
		t.Errorf("wrong code: %d %v, want 422", st, b)
	}
	if st, b := s.do(http.MethodPost, "/v1/stores/berlin-mitte/orders/"+id+"/pickup", s.tokens["berlin"], map[string]string{"code": s.pickupCode(id)}); st != http.StatusOK {
		t.Fatalf("pickup: %d %v", st, b)
	}

	res := s.result(id)
	if res.Stage != "completed" || res.Captured != 32700 || res.Refunded != 0 {
		t.Errorf("result = %+v", res)
	}
	if got, want := s.journeyStages(id), []string{"accepted", "payment_captured", "picking", "picked", "ready_for_pickup", "picked_up", "review_requested", "completed"}; !reflect.DeepEqual(got, want) {
		t.Errorf("journey = %v, want %v", got, want)
	}
	if w, st := s.stock("berlin-mitte", "WATCH-001"), s.stock("berlin-mitte", "STRAP-LEA-20"); w != watch-1 || st != strap-2 {
		t.Errorf("store stock watch %d→%d, strap %d→%d", watch, w, strap, st)
	}
	if st, b := s.do(http.MethodGet, "/v1/orders/"+id, s.tokens["support"], nil); st != http.StatusOK || b["stage"] != "completed" || b["pickup_code"] != "••••••" {
		t.Errorf("status: %d %v", st, b)
	}
	// Every message sent is in the order's journey, and no pickup code is.
	_, _, raw := s.send(t, http.MethodGet, "/v1/orders/"+id, s.tokens["support"], nil)
	var view struct {
		Journey []struct{ Kind, Stage, Note string } `json:"journey"`
	}
	if err := json.Unmarshal(raw, &view); err != nil {
		t.Fatal(err)
	}
	var notes []string
	for _, j := range view.Journey {
		if j.Kind == "notification" {
			notes = append(notes, j.Note)
		}
	}
	for _, want := range []string{"order-confirmed via email: sent", "ready-for-pickup via email: sent"} {
		if !slices.Contains(notes, want) {
			t.Errorf("the order's journey lacks %q: %v", want, notes)
		}
	}
	if code := s.pickupCode(id); strings.Contains(string(raw), code) {
		t.Errorf("the order's answer shows the pickup code: %s", raw)
	}
	// Placed again once completed: the first answer, said to be a replay, with the
	// stage the order is in now.
	if st, again := s.do(http.MethodPost, "/v1/orders", s.tokens["checkout"], s.orderBody(id, "ship_to_store")); st != http.StatusCreated ||
		again["replay"] != true || again["stage"] != "payment_captured" || again["current_stage"] != "completed" {
		t.Errorf("checkout of a completed order: %d %v", st, again)
	}
	// Support finds the order in the Web UI by its search attributes; a closed
	// order keeps the last stage it was open in (its ExecutionStatus says it closed).
	desc, err := s.client.DescribeWorkflowExecution(t.Context(), workflows.WorkflowID(id), "")
	if err != nil {
		t.Fatal(err)
	}
	attrs := desc.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()
	for name, want := range map[string]string{
		workflows.AttrOrderStage: `"picked_up"`, workflows.AttrStoreID: `"berlin-mitte"`, workflows.AttrFulfilmentMethod: `"ship_to_store"`,
		workflows.AttrCustomerID: `"C-` + id + `"`, workflows.AttrNeedsAttention: "false", workflows.AttrOrderTotal: "327",
	} {
		if got := string(attrs[name].GetData()); got != want {
			t.Errorf("search attribute %s = %s, want %s", name, got, want)
		}
	}
	if attrs[workflows.AttrPickupDeadline] == nil {
		t.Error("no PickupDeadline search attribute")
	}
}

func TestEndToEndHomeDelivery(t *testing.T) {
	t.Parallel()
	s := newSystem(t, fastPolicy())
	id := "E2E-H-" + s.suffix
	watch := s.stock("dc-erfurt", "WATCH-001")

	status, body := s.do(http.MethodPost, "/v1/orders", s.tokens["checkout"], s.orderBody(id, "home_delivery"))
	if status != http.StatusCreated || body["outcome"] != "captured" {
		t.Fatalf("place order: %d %v", status, body)
	}
	s.waitStage(id, "picking")
	pick := map[string]any{"lines": []map[string]any{{"sku": "WATCH-001", "quantity": 1}, {"sku": "STRAP-LEA-20", "quantity": 2}}}
	if st, b := s.do(http.MethodPost, "/v1/stores/dc-erfurt/orders/"+id+"/pick", s.tokens["dc"], pick); st != http.StatusOK {
		t.Fatalf("pick: %d %v", st, b)
	}
	// The sandbox carrier's tracking events take the parcel to delivered.
	res := s.result(id)
	if res.Stage != "completed" || res.Captured != 32700 {
		t.Errorf("result = %+v", res)
	}
	if got, want := s.journeyStages(id), []string{"accepted", "payment_captured", "picking", "picked", "shipped", "delivered", "review_requested", "completed"}; !reflect.DeepEqual(got, want) {
		t.Errorf("journey = %v, want %v", got, want)
	}
	if w := s.stock("dc-erfurt", "WATCH-001"); w != watch-1 {
		t.Errorf("DC watch stock %d→%d", watch, w)
	}
	// The tracking link in the "shipped" email leads to the sandbox carrier's page.
	_, st := s.do(http.MethodGet, "/v1/orders/"+id, s.tokens["support"], nil)
	shipment, _ := st["shipment"].(map[string]any)
	code, _ := shipment["tracking_code"].(string)
	if status, page := s.do(http.MethodGet, "/dev/tracking/"+code, "", nil); status != http.StatusOK || page["status"] != "delivered" {
		t.Errorf("tracking page of %q: %d %v", code, status, page)
	}
}

func TestEndToEndDeclinedAndRejected(t *testing.T) {
	t.Parallel()
	s := newSystem(t, fastPolicy())
	declined := s.orderBody("E2E-D-"+s.suffix, "ship_to_store")
	declined["payment_intent_id"] = "pi_decline_" + s.suffix
	st, body := s.do(http.MethodPost, "/v1/orders", s.tokens["checkout"], declined)
	if st != http.StatusPaymentRequired || body["type"] != "https://everywhere-fulfilment.dev/problems/payment-failed" {
		t.Errorf("declined card: %d %v", st, body)
	}
	s.setStock("dc-erfurt", "UNSTOCKED-1", 0) // a known article, out of stock everywhere
	short := s.orderBody("E2E-R-"+s.suffix, "ship_to_store")
	short["lines"] = []map[string]any{
		{"sku": "WATCH-001", "name": "Automatic watch", "quantity": 1, "unit_price": 24900},
		{"sku": "UNSTOCKED-1", "name": "Rare strap", "quantity": 1, "unit_price": 5900},
	}
	st, body = s.do(http.MethodPost, "/v1/orders", s.tokens["checkout"], short)
	wantShort := []any{map[string]any{"sku": "UNSTOCKED-1", "requested": float64(1), "available": float64(0)}}
	if st != http.StatusConflict || !reflect.DeepEqual(body["short"], wantShort) {
		t.Errorf("stock short: %d %v", st, body)
	}
	if res := s.result("E2E-R-" + s.suffix); res.Stage != "rejected" {
		t.Errorf("rejected order's workflow ended as %s", res.Stage)
	}
}

func TestPlaceOrderValidationNamesEveryBadField(t *testing.T) {
	t.Parallel()
	s := newSystem(t, fastPolicy())
	bad := s.orderBody("E2E-V-"+s.suffix, "ship_to_store")
	bad["currency"] = "euro"
	bad["store_id"] = "atlantis"
	bad["customer"] = map[string]string{"id": "C-1", "name": "", "email": "nope", "locale": "de-DE", "time_zone": "Mars/Olympus"}
	st, body := s.do(http.MethodPost, "/v1/orders", s.tokens["checkout"], bad)
	if st != http.StatusBadRequest {
		t.Fatalf("status %d, want 400: %v", st, body)
	}
	fields := problemFields(body)
	want := []string{"customer.name", "customer.email", "currency", "customer.time_zone", "store_id"}
	if !reflect.DeepEqual(fields, want) {
		t.Errorf("bad fields = %v, want %v", fields, want)
	}
	if st, _ := s.do(http.MethodPost, "/v1/orders", "", s.orderBody("E2E-U-"+s.suffix, "ship_to_store")); st != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", st)
	}
	if st, _ := s.do(http.MethodPost, "/v1/orders", s.tokens["berlin"], s.orderBody("E2E-U-"+s.suffix, "ship_to_store")); st != http.StatusForbidden {
		t.Errorf("staff token placing an order: %d, want 403", st)
	}
	if _, err := s.store.OrderRow(t.Context(), "E2E-U-"+s.suffix); err == nil {
		t.Error("a refused order left a row behind")
	}
}

func TestStoreConsoleIsServed(t *testing.T) {
	t.Parallel()
	s := newSystem(t, fastPolicy())
	for _, path := range []string{"/store/", "/store/app.js", "/store/style.css"} {
		resp, err := s.http.Get(s.url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s: %d, CSP %q", path, resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
		}
	}
	if st, me := s.do(http.MethodGet, "/v1/me", s.tokens["berlin"], nil); st != http.StatusOK || me["store_id"] != "berlin-mitte" || me["role"] != "staff" {
		t.Errorf("GET /v1/me: %d %v", st, me)
	}
}

func TestEndToEndWrongCodesLockTheHandoverUntilSupportUnlocks(t *testing.T) {
	t.Parallel()
	s := newSystem(t, fastPolicy())
	id := "E2E-L-" + s.suffix
	s.place(id, "ship_to_store")
	s.pickAll(id, "berlin-mitte", "berlin")
	s.waitStage(id, "ready_for_pickup")
	path := "/v1/stores/berlin-mitte/orders/" + id + "/pickup"
	for left := 4; left >= 1; left-- {
		st, b := s.do(http.MethodPost, path, s.tokens["berlin"], map[string]string{"code": "000000"})
		if st != http.StatusUnprocessableEntity || b["attempts_left"] != float64(left) {
			t.Fatalf("wrong code with %d left: %d %v", left, st, b)
		}
	}
	if st, b := s.do(http.MethodPost, path, s.tokens["berlin"], map[string]string{"code": "000000"}); st != http.StatusLocked {
		t.Fatalf("fifth wrong code: %d %v, want 423", st, b)
	}
	if st, _ := s.do(http.MethodPost, path, s.tokens["berlin"], map[string]string{"code": s.pickupCode(id)}); st != http.StatusLocked {
		t.Errorf("right code while locked: %d, want 423", st)
	}
	if row, err := s.store.OrderRow(t.Context(), id); err != nil || !row.NeedsAttention {
		t.Errorf("locked order not marked needs attention: %+v %v", row, err)
	}
	if st, _ := s.do(http.MethodPost, "/v1/orders/"+id+"/unlock-pickup", s.tokens["berlin"], nil); st != http.StatusForbidden {
		t.Errorf("staff unlocking: %d, want 403", st)
	}
	s.post("/v1/orders/"+id+"/unlock-pickup", s.tokens["support"], nil)
	s.post(path, s.tokens["berlin"], map[string]string{"code": s.pickupCode(id)})
	if res := s.result(id); res.Stage != "completed" {
		t.Errorf("result = %+v", res)
	}
}

func TestEndToEndSupportCancelsAndExtends(t *testing.T) {
	t.Parallel()
	s := newSystem(t, fastPolicy())
	cancelled := "E2E-C-" + s.suffix
	s.place(cancelled, "ship_to_store")
	s.waitStage(cancelled, "picking")
	before := s.stock("berlin-mitte", "WATCH-001")
	if st, _ := s.do(http.MethodPost, "/v1/orders/"+cancelled+"/cancel", s.tokens["support"], map[string]any{}); st != http.StatusBadRequest {
		t.Errorf("cancel without reason: %d, want 400", st)
	}
	b := s.post("/v1/orders/"+cancelled+"/cancel", s.tokens["support"], map[string]any{"reason": "customer asked"})
	if b["stage"] != "cancelled" || b["refunded"] != float64(32700) {
		t.Errorf("cancel answer %v", b)
	}
	if after := s.stock("berlin-mitte", "WATCH-001"); after != before+1 {
		t.Errorf("stock after cancel %d, want %d", after, before+1)
	}
	if st, _ := s.do(http.MethodPost, "/v1/orders/"+cancelled+"/cancel", s.tokens["support"], map[string]any{"reason": "again"}); st != http.StatusConflict {
		t.Errorf("second cancel: %d, want 409", st)
	}

	extended := "E2E-X-" + s.suffix
	s.place(extended, "ship_to_store")
	s.pickAll(extended, "berlin-mitte", "berlin")
	s.waitStage(extended, "ready_for_pickup")
	until := "2099-01-01T10:00:00Z"
	if st, _ := s.do(http.MethodPost, "/v1/orders/"+extended+"/extend-pickup", s.tokens["support"], map[string]any{"until": until}); st != http.StatusBadRequest {
		t.Errorf("extension far beyond the limit: %d, want 400", st)
	}
}
