package workflows

import (
	"fmt"
	"strings"

	"github.com/everywherecommerce/fulfilment/domain"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
)

// Search attribute names; SearchAttributes gives their types.
const (
	AttrOrderStage       = "OrderStage"
	AttrFulfilmentMethod = "FulfilmentMethod"
	AttrStoreID          = "StoreId"
	AttrCustomerID       = "CustomerId"
	AttrNeedsAttention   = "NeedsAttention"
	AttrPickupDeadline   = "PickupDeadline"
	AttrOrderTotal       = "OrderTotal"
)

// SearchAttribute is a custom search attribute of the order's workflow: its name
// and the type the namespace must register it with.
type SearchAttribute struct {
	Name string
	Type enumspb.IndexedValueType
}

// SearchAttributes is the one list of the custom search attributes the order's
// workflow sets, each with the type of the key it is set through. Every namespace
// the workflow runs in must have them registered, or starting or upserting fails:
// the dev server of `make run` and `make test` (deploy/local/temporal.sh, through
// workflows/cmd/searchattrs), the namespaces of `make chaos` and of the Action-budget
// test take them from here, and a cluster's operator registers the same list.
// TestSearchAttributesAreWhatTheWorkflowSets holds it to the keys the workflow uses.
func SearchAttributes() []SearchAttribute {
	return []SearchAttribute{
		{AttrOrderStage, enumspb.INDEXED_VALUE_TYPE_KEYWORD},
		{AttrFulfilmentMethod, enumspb.INDEXED_VALUE_TYPE_KEYWORD},
		{AttrStoreID, enumspb.INDEXED_VALUE_TYPE_KEYWORD},
		{AttrCustomerID, enumspb.INDEXED_VALUE_TYPE_KEYWORD},
		{AttrNeedsAttention, enumspb.INDEXED_VALUE_TYPE_BOOL},
		{AttrPickupDeadline, enumspb.INDEXED_VALUE_TYPE_DATETIME},
		{AttrOrderTotal, enumspb.INDEXED_VALUE_TYPE_DOUBLE},
	}
}

// StartSearchAttributes are set when the order's workflow starts, so support can
// find it before the first workflow task runs.
func StartSearchAttributes(o domain.Order) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(
		temporal.NewSearchAttributeKeyKeyword(AttrOrderStage).ValueSet(string(domain.StageAccepted)),
		temporal.NewSearchAttributeKeyKeyword(AttrFulfilmentMethod).ValueSet(string(o.Method)),
		temporal.NewSearchAttributeKeyKeyword(AttrStoreID).ValueSet(o.StoreID),
		temporal.NewSearchAttributeKeyKeyword(AttrCustomerID).ValueSet(o.Customer.ID),
		temporal.NewSearchAttributeKeyBool(AttrNeedsAttention).ValueSet(false),
		temporal.NewSearchAttributeKeyFloat64(AttrOrderTotal).ValueSet(float64(o.Total())/100),
	)
}

// Summary is the order's static summary in the Web UI, e.g.
// "Order A-10001 · ship to Berlin Mitte · 2 items · 249,00 EUR".
func Summary(o domain.Order, storeName string) string {
	how := "home delivery"
	if o.StoreID != "" {
		if storeName == "" {
			storeName = o.StoreID
		}
		how = "ship to " + storeName
	}
	items := "items"
	if o.Items() == 1 {
		items = "item"
	}
	return fmt.Sprintf("Order %s · %s · %d %s · %s %s", o.OrderID, how, o.Items(), items, formatAmount(o.Total()), o.Currency)
}

// StaticDetails lists the order's lines for the Web UI's details panel (Markdown).
func StaticDetails(o domain.Order) string {
	var b strings.Builder
	b.WriteString("| SKU | item | qty | price |\n|---|---|---|---|\n")
	for _, l := range o.Lines {
		fmt.Fprintf(&b, "| %s | %s | %d | %s %s |\n", l.SKU, l.Name, l.Quantity, formatAmount(l.Total()), o.Currency)
	}
	return b.String()
}

// formatAmount writes minor units with a decimal comma and two decimals: 24900 → "249,00".
func formatAmount(minor int64) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return fmt.Sprintf("%s%d,%02d", sign, minor/100, minor%100)
}

// ClosedStageAttribute is the OrderStage search attribute an OrderFulfilmentV2
// order of method shows once it has reached stage: the stage itself, except
// completed, which is never upserted (the run ends at once, and the upsert would
// cost every order an Action): a completed order keeps the stage of its handover
// (picked_up) or delivery (delivered), and its ExecutionStatus says it closed.
// WorkflowTypeV1 orders upserted completed.
func ClosedStageAttribute(method domain.Method, stage domain.Stage) domain.Stage {
	if stage != domain.StageCompleted {
		return stage
	}
	if method == domain.MethodHomeDelivery {
		return domain.StageDelivered
	}
	return domain.StagePickedUp
}
