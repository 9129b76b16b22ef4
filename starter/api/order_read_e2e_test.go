package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// readView is what a person reads on an order's page, from either read: times to
// the microsecond (PostgreSQL keeps no more), the journey's stages and actions in
// order, its messages as a sorted list (a skipped message's time differs by
// moments between the workflow's journal and the projection).
type readView struct {
	Stage, Method, StoreID, LocationID, Currency string
	Total, Captured, Refunded                    int64
	Lines                                        []workflows.LineStatus
	Shipment                                     *workflows.ShipmentStatus
	PickupDeadline, PromisedReadyAt              string
	PickupLocked                                 bool
	WrongPickupCodes                             int
	PickupCode                                   string
	NeedsAttention                               bool
	AttentionReason                              string
	Problem                                      *workflows.Problem
	Steps                                        []workflows.JourneyItem
	Messages                                     []string
}

func micro(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano)
}

func readViewOf(st workflows.Status) readView {
	v := readView{
		Stage: string(st.Stage), Method: string(st.Method), StoreID: st.StoreID, LocationID: st.LocationID, Currency: st.Currency,
		Total: st.Total, Captured: st.Captured, Refunded: st.Refunded, Lines: st.Lines, Shipment: st.Shipment,
		PickupDeadline: micro(st.PickupDeadline), PromisedReadyAt: micro(st.PromisedReadyAt), PickupLocked: st.PickupLocked,
		WrongPickupCodes: st.WrongPickupCodes, PickupCode: st.PickupCode, NeedsAttention: st.NeedsAttention,
		AttentionReason: st.AttentionReason, Problem: st.Problem,
	}
	if v.Problem != nil {
		p := *v.Problem
		p.Since = p.Since.UTC().Truncate(time.Microsecond)
		v.Problem = &p
	}
	for _, j := range st.Journey {
		if j.Kind == "notification" {
			v.Messages = append(v.Messages, j.Note)
			continue
		}
		j.At = j.At.UTC().Truncate(time.Microsecond)
		v.Steps = append(v.Steps, j)
	}
	slices.Sort(v.Messages)
	return v
}

// reads returns the order as GET /v1/orders/{id} shows it by default (the
// projection) and with ?consistent=true (the workflow's status query).
func (s *system) reads(id, token string) (projected, queried workflows.Status) {
	s.t.Helper()
	for _, r := range []struct {
		query string
		into  *workflows.Status
	}{{"", &projected}, {"?consistent=true", &queried}} {
		st, _, body := s.send(s.t, http.MethodGet, "/v1/orders/"+id+r.query, s.tokens[token], nil)
		if st != http.StatusOK {
			s.t.Fatalf("GET /v1/orders/%s%s as %s: %d %s", id, r.query, token, st, body)
		}
		if err := json.Unmarshal(body, r.into); err != nil {
			s.t.Fatalf("GET /v1/orders/%s%s: %v", id, r.query, err)
		}
	}
	return projected, queried
}

// sameReads waits until the projection shows the order at stage and both reads
// agree on what compare picks of them (the projection follows the workflow by
// one activity), and returns the projection's view.
func (s *system) sameReads(id, token string, stage domain.Stage, compare func(readView) any) readView {
	s.t.Helper()
	deadline := time.Now().Add(s.patience)
	for {
		projected, queried := s.reads(id, token)
		p, q := readViewOf(projected), readViewOf(queried)
		if projected.Stage == stage && reflect.DeepEqual(compare(p), compare(q)) {
			return p
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("order %s at %s: the reads differ\nprojection: %s\nquery:      %s", id, stage, dump(compare(p)), dump(compare(q)))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func dump(v any) string {
	b, _ := json.Marshal(v) // plain data always encodes
	return string(b)
}

// everything compares every field a person reads.
func everything(v readView) any { return v }

// TestOrderReadsFromTheProjection follows orders through their lifecycle and
// reads them at every resting point both ways: the default read (PostgreSQL, no
// Temporal Action) shows what the status query shows.
func TestOrderReadsFromTheProjection(t *testing.T) {
	t.Parallel()
	t.Run("ship to store by transfer, short pick, lock, extension", func(t *testing.T) {
		t.Parallel()
		s := newSystem(t, fastPolicy(), withIdleCarrier()) // staff confirm the arrival
		id := "RD-S-" + s.suffix
		s.setStock("berlin-mitte", "WATCH-001", 0)
		s.place(id, "ship_to_store")
		s.sameReads(id, "support", "picking", everything)
		s.post("/v1/stores/dc-erfurt/orders/"+id+"/pick", s.tokens["dc"],
			map[string]any{"lines": []map[string]any{{"sku": "WATCH-001", "quantity": 1}, {"sku": "STRAP-LEA-20", "quantity": 1}}})
		v := s.sameReads(id, "berlin", "in_transit_to_store", everything)
		if v.Refunded != 3900 || v.Shipment == nil || v.Shipment.TrackingCode == "" || v.PromisedReadyAt == "" ||
			len(v.Lines) != 2 || v.Lines[1].Picked == nil || *v.Lines[1].Picked != 1 {
			t.Errorf("in transit: %s, want the short pick refunded, its lines and the parcel", dump(v))
		}
		s.post("/v1/stores/berlin-mitte/orders/"+id+"/arrival", s.tokens["berlin"], map[string]any{})
		v = s.sameReads(id, "berlin", "ready_for_pickup", everything)
		if v.PickupCode != workflows.MaskedPickupCode || v.PickupDeadline == "" {
			t.Errorf("ready: %s, want a masked code and a deadline", dump(v))
		}
		for range workflows.MaxWrongPickupCodes {
			s.do(http.MethodPost, "/v1/stores/berlin-mitte/orders/"+id+"/pickup", s.tokens["berlin"], map[string]string{"code": wrongCode(s.pickupCode(id))})
		}
		v = s.sameReads(id, "support", "ready_for_pickup", everything)
		if !v.PickupLocked || v.WrongPickupCodes != workflows.MaxWrongPickupCodes || !v.NeedsAttention || v.AttentionReason == "" {
			t.Errorf("locked: %s", dump(v))
		}
		s.post("/v1/orders/"+id+"/unlock-pickup", s.tokens["support"], nil)
		s.sameReads(id, "support", "ready_for_pickup", everything)
		s.post("/v1/orders/"+id+"/extend-pickup", s.tokens["support"], map[string]any{"until": time.Now().Add(8 * 24 * time.Hour).UTC().Format(time.RFC3339)})
		v = s.sameReads(id, "support", "ready_for_pickup", everything)
		if v.PickupLocked || v.WrongPickupCodes != 0 || v.NeedsAttention || !strings.Contains(fmt.Sprint(v.Steps), "pickup extended to") {
			t.Errorf("unlocked and extended: %s", dump(v))
		}
		s.handOver(id)
		s.result(id)
		s.sameReads(id, "support", "completed", everything)
	})
	t.Run("home delivery", func(t *testing.T) {
		t.Parallel()
		s := newSystem(t, fastPolicy())
		id := "RD-H-" + s.suffix
		s.place(id, "home_delivery")
		s.sameReads(id, "dc", "picking", everything)
		s.pickAll(id, "dc-erfurt", "dc")
		s.result(id)
		v := s.sameReads(id, "support", "completed", everything)
		if v.Shipment == nil || v.Shipment.Status != workflows.CarrierDelivered || !slices.Contains(v.Messages, "delivered via email: sent") {
			t.Errorf("delivered: %s", dump(v))
		}
	})
	t.Run("a refused label waits for support", func(t *testing.T) {
		t.Parallel()
		s := newSystem(t, fastPolicy())
		id := "RD-A-" + s.suffix
		body := s.orderBody(id, "home_delivery")
		body["address"].(map[string]string)["postal_code"] = "00000" // the sandbox carrier serves no such address
		if st, b := s.do(http.MethodPost, "/v1/orders", s.tokens["checkout"], body); st != http.StatusCreated {
			t.Fatalf("place: %d %v", st, b)
		}
		s.pickAll(id, "dc-erfurt", "dc")
		s.waitForDecision(id) // polls the default read: the projection shows the problem
		// The workflow has entered picked, which is recorded (with its lines) by
		// the transition that ships: until then the projection shows picking, and
		// the flag and the problem as they are.
		v := s.sameReads(id, "support", "picking", func(v readView) any {
			return []any{v.NeedsAttention, v.AttentionReason, v.Problem, v.Captured, v.Refunded}
		})
		if v.Problem == nil || !v.Problem.Waiting || len(v.Problem.Actions) == 0 || !v.NeedsAttention {
			t.Errorf("waiting for support: %s", dump(v))
		}
		s.post("/v1/orders/"+id+"/resolve", s.tokens["support"], map[string]any{"action": "cancel", "refund": true, "note": "no such address"})
		s.result(id)
		v = s.sameReads(id, "support", "cancelled", everything)
		if v.Refunded != 32700 || v.Problem != nil || v.NeedsAttention {
			t.Errorf("cancelled: %s", dump(v))
		}
	})
}

// TestOrderReadsCostNoActions: a support agent's and a store's screens, refreshed
// again and again, read from PostgreSQL and cost no Temporal Action; the one
// consistent read afterwards costs exactly one, so the metric does count reads.
func TestOrderReadsCostNoActions(t *testing.T) {
	t.Parallel()
	metrics := os.Getenv("TEMPORAL_METRICS_URL")
	if metrics == "" {
		t.Fatal("TEMPORAL_METRICS_URL is not set: run the tests with `make test`, which starts the dev server with metrics")
	}
	ns := newNamespace(t)
	s := newSystemIn(t, fastPolicy(), ns)
	id := "RD-C-" + s.suffix
	s.place(id, "ship_to_store")
	s.waitStage(id, "picking")
	s.waitOutbox(id, id+":notify:order-confirmed:email")
	before := settledActions(t, metrics, ns)

	screens := []struct{ path, token string }{
		{"/v1/orders/" + id, "support"},
		{"/v1/orders?needs_attention=true", "support"},
		{"/v1/orders?customer=C-" + id, "support"},
		{"/v1/orders/" + id, "berlin"},
		{"/v1/orders?store=berlin-mitte", "berlin"},
		{"/v1/stores/berlin-mitte/work", "berlin"},
		{"/v1/orders/" + id, "checkout"},
	}
	for range 10 {
		for _, sc := range screens {
			if st, b := s.do(http.MethodGet, sc.path, s.tokens[sc.token], nil); st != http.StatusOK {
				t.Fatalf("GET %s as %s: %d %v", sc.path, sc.token, st, b)
			}
		}
	}
	if st, b := s.do(http.MethodGet, "/v1/orders/"+id+"?consistent=true", s.tokens["support"], nil); st != http.StatusOK || b["stage"] != "picking" {
		t.Fatalf("consistent read: %d %v", st, b)
	}
	// Every Action of the reads above was counted before the consistent read's.
	deadline := time.Now().Add(30 * time.Second)
	for countActions(t, metrics, ns) <= before && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	after := settledActions(t, metrics, ns)
	t.Logf("%d default reads and one consistent read: %d action(s)", 10*len(screens), after-before)
	if after != before+1 {
		t.Errorf("actions %d → %d over %d default reads and one consistent read, want one more", before, after, 10*len(screens))
	}
}
