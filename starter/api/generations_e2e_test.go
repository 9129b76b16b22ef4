package api_test

import (
	"context"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// TestEndToEndV1OrderStillRuns: an order started as OrderFulfilment (V1), as an
// older starter started every order and may still during a rolling deploy, runs
// to its end on today's worker through the same API, with V1's version markers
// (the patches it asks GetVersion about) and V1's last upsert of completed; a V2
// order placed beside it has neither (docs/versioning.md, "Generations").
func TestEndToEndV1OrderStillRuns(t *testing.T) {
	t.Parallel()
	s := newSystem(t, fastPolicy())
	v1, v2 := "GEN1-"+s.suffix, "GEN2-"+s.suffix
	order := domain.Order{
		OrderID:  v1,
		Customer: domain.Customer{ID: "C-" + v1, Name: "Mia Schmidt", Email: "mia@example.com", Locale: "de-DE", TimeZone: "Europe/Berlin"},
		Method:   domain.MethodShipToStore, StoreID: "berlin-mitte", Currency: "EUR", PaymentIntentID: "pi_" + v1,
		Lines: []domain.Line{
			{SKU: "WATCH-001", Name: "Automatic watch", Quantity: 1, UnitPrice: 24900},
			{SKU: "STRAP-LEA-20", Name: "Leather strap", Quantity: 2, UnitPrice: 3900},
		},
		PlacedAt: time.Now().UTC(),
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	op := s.client.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID: workflows.WorkflowID(v1), TaskQueue: s.taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes:    workflows.StartSearchAttributes(order),
	}, workflows.WorkflowTypeV1, workflows.Input{Order: order, Policy: fastPolicy(), RequestHash: "v1", PlacedBy: "checkout"})
	h, err := s.client.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{StartWorkflowOperation: op,
		UpdateOptions: client.UpdateWorkflowOptions{UpdateID: workflows.CheckoutUpdateID(v1), UpdateName: workflows.UpdateCheckout,
			Args: []any{workflows.CheckoutRequest{OrderID: v1}}, WaitForStage: client.WorkflowUpdateStageCompleted}})
	if err != nil {
		t.Fatalf("start the V1 order: %v", err)
	}
	var checkout workflows.CheckoutResult
	if err := h.Get(ctx, &checkout); err != nil || checkout.Outcome != workflows.OutcomeCaptured {
		t.Fatalf("V1 checkout: %+v %v", checkout, err)
	}
	s.place(v2, "ship_to_store")
	for _, id := range []string{v1, v2} {
		s.pickAll(id, "berlin-mitte", "berlin")
		s.handOver(id)
		if res := s.result(id); res.Stage != domain.StageCompleted || res.Captured != 32700 {
			t.Errorf("%s: result %+v", id, res)
		}
	}
	for _, c := range []struct {
		id, typ, stage string
		markers        int
	}{
		{v1, workflows.WorkflowTypeV1, "completed", 2}, // local-checkout, quiet-hours-reminders
		{v2, workflows.WorkflowType, "picked_up", 0},
	} {
		desc, err := s.client.DescribeWorkflowExecution(ctx, workflows.WorkflowID(c.id), "")
		if err != nil {
			t.Fatal(err)
		}
		info := desc.GetWorkflowExecutionInfo()
		if got := info.GetType().GetName(); got != c.typ {
			t.Errorf("%s runs as %s, want %s", c.id, got, c.typ)
		}
		if got := string(info.GetSearchAttributes().GetIndexedFields()[workflows.AttrOrderStage].GetData()); got != `"`+c.stage+`"` {
			t.Errorf("%s: OrderStage %s, want %q", c.id, got, c.stage)
		}
		markers := 0
		for _, ev := range s.history(c.id) {
			if ev.GetMarkerRecordedEventAttributes().GetMarkerName() == "Version" {
				markers++
			}
		}
		if markers != c.markers {
			t.Errorf("%s (%s): %d version markers, want %d", c.id, c.typ, markers, c.markers)
		}
	}
}
