package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/adapters/postgres"
	"github.com/everywherecommerce/fulfilment/adapters/sandbox"
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/worker/registry"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// recordedPath is one path of the lifecycle whose history TestRecordPaths
// records: what it drives over HTTP and the final stage it must end in.
type recordedPath struct {
	name   string // the history's file name in workflows/testdata/, without .json
	policy func(p *workflows.Policy)
	opts   []systemOption
	run    func(s *system, id string)
	stage  domain.Stage
}

// TestRecordPaths drives one order along every path of the lifecycle with today's
// workflow code, asserts where it ends, and replays its history (checkHistory);
// with RECORD_HISTORIES=1 the histories become workflows/testdata/v3-*.json, so
// the replay test covers the GetVersion patches' new branches, not only the old
// ones of the histories recorded before them (docs/versioning.md). Every
// GetVersion change ID must be passed by at least one of these paths.
func TestRecordPaths(t *testing.T) {
	t.Parallel()
	for _, path := range recordedPaths() {
		t.Run(path.name, func(t *testing.T) {
			t.Parallel()
			policy := fastPolicy()
			if path.policy != nil {
				path.policy(&policy)
			}
			s := newSystem(t, policy, path.opts...)
			id := "REC-" + s.suffix
			path.run(s, id)
			if res := s.result(id); res.Stage != path.stage {
				t.Fatalf("%s ended as %+v, want stage %s", path.name, res, path.stage)
			}
			s.checkHistory(id, path.name)
		})
	}
}

func recordedPaths() []recordedPath {
	return []recordedPath{
		{name: "v4-ship-to-store-from-store-stock", stage: domain.StageCompleted, run: func(s *system, id string) {
			s.place(id, "ship_to_store")
			s.pickAll(id, "berlin-mitte", "berlin")
			s.handOver(id)
		}},
		{name: "v4-ship-to-store-by-transfer", stage: domain.StageCompleted, opts: []systemOption{withIdleCarrier()}, run: func(s *system, id string) {
			s.setStock("berlin-mitte", "WATCH-001", 0)
			s.place(id, "ship_to_store")
			s.pickAll(id, "dc-erfurt", "dc")
			s.waitStage(id, "in_transit_to_store")
			s.post("/v1/stores/berlin-mitte/orders/"+id+"/arrival", s.tokens["berlin"], map[string]any{})
			s.handOver(id)
		}},
		{name: "v4-transfer-arrival-reported-by-the-carrier", stage: domain.StageCompleted, run: func(s *system, id string) {
			s.setStock("berlin-mitte", "WATCH-001", 0)
			s.place(id, "ship_to_store")
			s.pickAll(id, "dc-erfurt", "dc")
			s.handOver(id) // the sandbox carrier's delivered event makes it ready
		}},
		// The carrier reports the transfer delivered before the workflow has taken
		// its label in (the webhook was faster than the label's activity): the
		// event waits, and counts as the arrival once the order is in transit
		// (GetVersion in-transit-before-early-events).
		{name: "v5-transfer-delivered-before-the-label-was-tracked", stage: domain.StageCompleted, opts: []systemOption{withIdleCarrier()},
			run: func(s *system, id string) {
				s.setStock("berlin-mitte", "WATCH-001", 0)
				s.place(id, "ship_to_store")
				s.waitStage(id, "picking")
				code := sandbox.TrackingCode(id + ":label:" + activities.PurposeStoreTransfer)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				ev := workflows.CarrierEvent{EventID: code + ":delivered", TrackingCode: code, Status: workflows.CarrierDelivered, At: time.Now()}
				if err := registry.SignalCarrierEvent(ctx, s.client, id, ev); err != nil {
					s.t.Fatal(err)
				}
				s.pickAll(id, "dc-erfurt", "dc")
				s.handOver(id) // ready without staff confirming the arrival
			}},
		arrivalWhileLabelling(),
		{name: "v4-home-delivery", stage: domain.StageCompleted, run: func(s *system, id string) {
			s.place(id, "home_delivery")
			s.pickAll(id, "dc-erfurt", "dc")
		}},
		{name: "v4-carrier-exception-on-home-delivery", stage: domain.StageCompleted, run: carrierException,
			opts: []systemOption{func(st *systemSettings) { st.carrierStep = 3 * time.Second }}},
		quietReminderPath(),
		{name: "v4-short-pick", stage: domain.StageCompleted, run: func(s *system, id string) {
			s.place(id, "ship_to_store")
			s.waitStage(id, "picking")
			s.post("/v1/stores/berlin-mitte/orders/"+id+"/pick", s.tokens["berlin"],
				map[string]any{"lines": []map[string]any{{"sku": "WATCH-001", "quantity": 1}, {"sku": "STRAP-LEA-20", "quantity": 1}}})
			s.handOver(id)
			if res := s.result(id); res.Refunded != 3900 {
				s.t.Errorf("refunded %d, want the missing strap (3900)", res.Refunded)
			}
		}},
		{name: "v4-nothing-picked", stage: domain.StageCancelled, run: func(s *system, id string) {
			s.place(id, "home_delivery")
			s.waitStage(id, "picking")
			s.post("/v1/stores/dc-erfurt/orders/"+id+"/pick", s.tokens["dc"],
				map[string]any{"lines": []map[string]any{{"sku": "WATCH-001", "quantity": 0}, {"sku": "STRAP-LEA-20", "quantity": 0}}})
		}},
		{name: "v4-cancelled-while-picking", stage: domain.StageCancelled, run: func(s *system, id string) {
			s.place(id, "ship_to_store")
			s.waitStage(id, "picking")
			s.post("/v1/orders/"+id+"/cancel", s.tokens["support"], map[string]any{"reason": "customer asked"})
		}},
		{name: "v4-pickup-window-expired", stage: domain.StageCancelled, policy: func(p *workflows.Policy) {
			p.PickupWindow, p.PickupReminders = 3*time.Second, []time.Duration{time.Second, 2 * time.Second}
		}, run: func(s *system, id string) {
			s.place(id, "ship_to_store")
			s.pickAll(id, "berlin-mitte", "berlin")
		}},
		{name: "v4-pickup-locked-unlocked-and-extended", stage: domain.StageCompleted, run: func(s *system, id string) {
			s.place(id, "ship_to_store")
			s.pickAll(id, "berlin-mitte", "berlin")
			s.waitStage(id, "ready_for_pickup")
			code := s.pickupCode(id)
			for i := range workflows.MaxWrongPickupCodes {
				want := http.StatusUnprocessableEntity
				if i == workflows.MaxWrongPickupCodes-1 {
					want = http.StatusLocked
				}
				if st, b := s.do(http.MethodPost, "/v1/stores/berlin-mitte/orders/"+id+"/pickup", s.tokens["berlin"], map[string]string{"code": wrongCode(code)}); st != want {
					s.t.Errorf("wrong code %d: %d %v, want %d", i+1, st, b, want)
				}
			}
			if st, b := s.do(http.MethodPost, "/v1/stores/berlin-mitte/orders/"+id+"/pickup", s.tokens["berlin"], map[string]string{"code": code}); st != http.StatusLocked {
				s.t.Errorf("handover with a locked pickup: %d %v, want 423", st, b)
			}
			s.post("/v1/orders/"+id+"/unlock-pickup", s.tokens["support"], nil)
			s.post("/v1/orders/"+id+"/extend-pickup", s.tokens["support"], map[string]any{"until": time.Now().Add(8 * 24 * time.Hour).UTC().Format(time.RFC3339)})
			s.handOver(id)
		}},
		{name: "v4-card-declined", stage: domain.StagePaymentFailed, run: func(s *system, id string) {
			body := s.orderBody(id, "ship_to_store")
			body["payment_intent_id"] = "pi_decline_" + id
			s.do(http.MethodPost, "/v1/orders", s.tokens["checkout"], body)
		}},
		{name: "v4-payment-captured-elsewhere", stage: domain.StagePaymentFailed, run: func(s *system, id string) {
			body := s.orderBody(id, "ship_to_store")
			body["payment_intent_id"] = "pi_captured_" + id
			s.do(http.MethodPost, "/v1/orders", s.tokens["checkout"], body)
		}},
		{name: "v4-stock-short", stage: domain.StageRejected, run: func(s *system, id string) {
			s.setStock("dc-erfurt", "UNSTOCKED-1", 0) // a known article, out of stock everywhere
			body := s.orderBody(id, "ship_to_store")
			body["lines"] = []map[string]any{{"sku": "UNSTOCKED-1", "name": "Rare strap", "quantity": 1, "unit_price": 5900}}
			s.do(http.MethodPost, "/v1/orders", s.tokens["checkout"], body)
		}},
		{name: "v4-picking-SLA-passed", stage: domain.StageCompleted, policy: func(p *workflows.Policy) { p.PickingSLA = time.Second }, run: func(s *system, id string) {
			s.place(id, "ship_to_store")
			s.waitStage(id, "picking")
			s.waitAttention(id)
			s.pickAll(id, "berlin-mitte", "berlin")
			s.handOver(id)
		}},
		{name: "v4-pick-started-in-store", stage: domain.StageCompleted, run: func(s *system, id string) {
			s.place(id, "ship_to_store")
			s.waitStage(id, "picking")
			s.post("/v1/stores/berlin-mitte/orders/"+id+"/start-pick", s.tokens["berlin"], map[string]any{})
			if msgs := s.waitOutbox(id, id+":notify:in-picking:email"); len(msgs[id+":notify:in-picking:email"]) != 1 {
				s.t.Errorf("in-picking emails: %d, want 1", len(msgs[id+":notify:in-picking:email"]))
			}
			s.pickAll(id, "berlin-mitte", "berlin")
			s.handOver(id)
		}},
		{name: "v4-ready-notice-resent", stage: domain.StageCompleted, run: func(s *system, id string) {
			s.place(id, "ship_to_store")
			s.pickAll(id, "berlin-mitte", "berlin")
			s.waitStage(id, "ready_for_pickup")
			s.pickupCode(id) // the first notice is out
			// The message counts as sent once its step's activity has completed: 409 until then.
			for deadline := time.Now().Add(s.patience); ; time.Sleep(50 * time.Millisecond) {
				st, b := s.do(http.MethodPost, "/v1/orders/"+id+"/resend-notification", s.tokens["support"], map[string]string{"touchpoint": "ready-for-pickup", "channel": "email"})
				if st == http.StatusOK {
					break
				}
				if st != http.StatusConflict || time.Now().After(deadline) {
					s.t.Fatalf("resend: %d %v", st, b)
				}
			}
			key := id + ":notify:ready-for-pickup-resend-1:email"
			if msgs := s.waitOutbox(id, key); len(msgs[key]) != 1 {
				s.t.Errorf("resent ready-for-pickup emails: %d, want 1 (outbox %v)", len(msgs[key]), keys(msgs))
			}
			s.handOver(id)
		}},
		{name: "v4-transfer-label-refused-and-retried-by-support", stage: domain.StageCompleted, run: refusedLabelRetried},
		{name: "v4-refund-refused-and-skipped-by-support", stage: domain.StageCompleted, run: refusedRefundSkipped},
		outageFlaggedWhileRetrying(),
	}
}

// carrierException: the carrier reports a failure while the parcel travels; the
// customer is told (the delivery-problem-notice patch), the order is flagged, and
// the parcel is delivered after all.
func carrierException(s *system, id string) {
	s.place(id, "home_delivery")
	s.pickAll(id, "dc-erfurt", "dc")
	s.waitStage(id, "shipped")
	var code string
	deadline := time.Now().Add(s.patience)
	for code == "" {
		rows, err := s.store.ActiveShipments(context.Background(), sandbox.CarrierName)
		if err != nil {
			s.t.Fatal(err)
		}
		for _, r := range rows {
			if r.OrderID == id {
				code = r.TrackingCode
			}
		}
		if code == "" && time.Now().After(deadline) {
			s.t.Fatalf("no shipment of %s", id)
		}
		time.Sleep(50 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ev := workflows.CarrierEvent{EventID: code + ":failure", TrackingCode: code, Status: workflows.CarrierFailure, At: time.Now()}
	if err := registry.SignalCarrierEvent(ctx, s.client, id, ev); err != nil {
		s.t.Fatal(err)
	}
	key := id + ":notify:delivery-problem-1:email"
	if msgs := s.waitOutbox(id, key); len(msgs[key]) != 1 {
		s.t.Errorf("delivery-problem emails: %d, want 1 (outbox %v)", len(msgs[key]), keys(msgs))
	}
	s.result(id) // delivered after all, then the review request
	if !s.hasEntry(id, activities.EntryAttention, "carrier reports failure") {
		s.t.Errorf("journey lacks the carrier's failure flag: %+v", s.journeyEntries(id, activities.EntryAttention))
	}
}

// quietReminderPath: the customer's quiet hours (Europe/Berlin, from orderBody)
// are set around now, from a minute ago until 75 s from now, and the first pickup
// reminder is due a second after ready: it waits until the quiet hours end (the
// quiet-hours-reminders patch). The dev server's clock is real time, hence the
// window around now, computed when the path's policy is made.
func quietReminderPath() recordedPath {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err) // the Go distribution's zoneinfo is missing: no test can run
	}
	var end time.Time // when the quiet hours end
	policy := func(p *workflows.Policy) {
		now := time.Now().In(loc).Truncate(time.Second)
		midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
		since := now.Sub(midnight)
		const day = 24 * time.Hour
		p.QuietHours = activities.QuietHours{From: (since - time.Minute + day) % day, To: (since + 75*time.Second) % day}
		p.PickupWindow, p.PickupReminders = 2*time.Minute, []time.Duration{time.Second}
		end = now.Add(75 * time.Second)
	}
	run := func(s *system, id string) {
		s.place(id, "ship_to_store")
		s.pickAll(id, "berlin-mitte", "berlin")
		s.waitStage(id, "ready_for_pickup")
		var ready time.Time
		for _, e := range s.journeyEntries(id, activities.EntryStage) {
			if e.Key == "stage:ready_for_pickup" {
				ready = e.At
			}
		}
		if !ready.Before(end.Add(-2 * time.Second)) {
			s.t.Fatalf("ready at %s, not well inside the quiet hours ending %s: the machine was too slow for this test", ready.In(loc), end.In(loc))
		}
		key := id + ":notify:pickup-reminder-1:email"
		msgs := s.waitOutboxFor(id, key, time.Until(end)+s.patience)
		if len(msgs[key]) != 1 {
			s.t.Fatalf("pickup reminders: %d, want 1 (outbox %v)", len(msgs[key]), keys(msgs))
		}
		if sent := msgs[key][0].CreatedAt; sent.Before(end.Add(-time.Second)) {
			s.t.Errorf("reminder sent at %s, inside the quiet hours ending %s (ready at %s)", sent.In(loc), end.In(loc), ready.In(loc))
		}
		s.handOver(id)
	}
	return recordedPath{name: "v4-pickup-reminder-moved-out-of-quiet-hours", stage: domain.StageCompleted, policy: policy, run: run}
}

// refusedLabelRetried: the pickup store's address is broken (the carrier refuses
// it for good), so the transfer label waits for support; support fixes the
// address and retries, and the order goes on to the handover.
func refusedLabelRetried(s *system, id string) {
	ctx := context.Background()
	var addr []byte
	if err := s.db.QueryRow(ctx, `select address from stores where id = 'berlin-mitte'`).Scan(&addr); err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.db.Exec(ctx, `update stores set address = jsonb_set(address, '{postal_code}', to_jsonb($1::text)) where id = 'berlin-mitte'`, sandbox.PostalCodeUndeliverable); err != nil {
		s.t.Fatal(err)
	}
	s.setStock("berlin-mitte", "WATCH-001", 0)
	s.place(id, "ship_to_store")
	s.pickAll(id, "dc-erfurt", "dc")
	view := s.waitForDecision(id)
	if p := view["problem"].(map[string]any); p["step"] != "buy store-transfer label" {
		s.t.Errorf("problem = %v, want the store-transfer label", p)
	}
	if _, err := s.db.Exec(ctx, `update stores set address = $1 where id = 'berlin-mitte'`, addr); err != nil {
		s.t.Fatal(err)
	}
	if b := s.post("/v1/orders/"+id+"/resolve", s.tokens["support"], map[string]string{"action": "retry"}); b["action"] != "retry" {
		s.t.Errorf("resolve: %v", b)
	}
	s.handOver(id) // the sandbox carrier's delivered event makes it ready
}

// refusedRefundSkipped: someone refunded the whole payment in the provider's
// dashboard, so the short pick's refund is refused for good; support records it
// as done by hand (skip) and the order goes on to the handover.
func refusedRefundSkipped(s *system, id string) {
	s.place(id, "ship_to_store")
	s.waitStage(id, "picking")
	_, err := s.providers.Payments.Refund(context.Background(), activities.RefundRequest{
		PaymentID: "pi_" + id, Amount: 32700, Currency: "EUR", Reason: "dashboard", IdempotencyKey: id + ":dashboard",
	})
	if err != nil {
		s.t.Fatal(err)
	}
	s.post("/v1/stores/berlin-mitte/orders/"+id+"/pick", s.tokens["berlin"],
		map[string]any{"lines": []map[string]any{{"sku": "WATCH-001", "quantity": 1}, {"sku": "STRAP-LEA-20", "quantity": 1}}})
	view := s.waitForDecision(id)
	if p := view["problem"].(map[string]any); !strings.HasPrefix(p["step"].(string), "refund") {
		s.t.Errorf("problem = %v, want the short pick's refund", p)
	}
	if b := s.post("/v1/orders/"+id+"/resolve", s.tokens["support"], map[string]string{"action": "skip", "note": "refunded in the dashboard"}); b["action"] != "skip" {
		s.t.Errorf("resolve: %v", b)
	}
	s.handOver(id)
	if !s.hasEntry(id, "", "refunded in the dashboard") {
		s.t.Errorf("journey lacks support's decision: %+v", s.journeyEntries(id, activities.EntryAttention))
	}
}

// hasEntry reports whether the order's journey has an entry of the kind (any
// kind when empty) whose detail contains detail.
func (s *system) hasEntry(id, kind, detail string) bool {
	s.t.Helper()
	entries, err := s.store.Journey(context.Background(), id)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, e := range entries {
		if (kind == "" || e.Kind == kind) && strings.Contains(e.Detail, detail) {
			return true
		}
	}
	return false
}

// waitOutboxFor is waitOutbox with its own patience.
func (s *system) waitOutboxFor(id, key string, patience time.Duration) map[string][]postgres.OutboxMessage {
	s.t.Helper()
	deadline := time.Now().Add(patience)
	for {
		byKey := s.outboxByKey(id)
		if len(byKey[key]) > 0 || time.Now().After(deadline) {
			return byKey
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// keys lists an outbox's notification keys, for failure messages.
func keys(byKey map[string][]postgres.OutboxMessage) []string {
	out := make([]string, 0, len(byKey))
	for k := range byKey {
		out = append(out, k)
	}
	return out
}
