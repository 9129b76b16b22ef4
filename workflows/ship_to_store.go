package workflows

import (
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/everywherecommerce/fulfilment/activities"
)

// shipToStore brings the goods to the pickup store (a transfer from the
// distribution centre unless the store picked them itself), makes the order ready
// with a pickup code and waits for the handover until the pickup deadline.
func (f *fulfilment) shipToStore(ctx workflow.Context) error {
	o := f.in.Order
	if f.locationID != o.StoreID {
		if err := f.transfer(ctx); err != nil {
			return err
		}
	}
	var pk *activities.Picking
	var code activities.PickupCode
	if err := workflow.ExecuteActivity(activityOptions(ctx, "issue pickup code"), pk.IssuePickupCode).Get(ctx, &code); err != nil {
		return fmt.Errorf("issue pickup code: %w", err)
	}
	f.codeSalt, f.codeHash = code.Salt, code.Hash
	f.deadline = workflow.Now(ctx).Add(f.in.Policy.PickupWindow)
	err := f.setStage(ctx, StageReadyForPickup, "", "",
		temporal.NewSearchAttributeKeyTime(AttrPickupDeadline).ValueSet(f.deadline))
	if err != nil {
		return err
	}
	f.notify(ctx, activities.TouchReadyForPickup, map[string]string{"pickup_code": code.Code})

	collected := func() bool { return f.pickedUp != "" }
	expired, err := f.waitFor(ctx, f.in.Policy.PickupWindow, "pickup deadline", collected)
	if err != nil {
		return err
	}
	if expired {
		return f.cancel(ctx, "the order was not picked up in time", "")
	}
	if err := f.consumeStock(ctx); err != nil {
		return err
	}
	if err := f.setStage(ctx, StagePickedUp, f.pickedUp, ""); err != nil {
		return err
	}
	f.notify(ctx, activities.TouchPickedUp, nil)
	return nil
}

// transfer ships the goods from the distribution centre to the pickup store and
// waits for staff (or the carrier's delivered event) to confirm the arrival.
func (f *fulfilment) transfer(ctx workflow.Context) error {
	o := f.in.Order
	label, err := f.buyLabel(ctx, activities.BuyLabelRequest{
		OrderID: o.OrderID, Purpose: activities.PurposeStoreTransfer,
		FromLocationID: f.locationID, ToLocationID: o.StoreID, Items: o.Items(),
	})
	if err != nil {
		return err
	}
	f.track(ctx, label)
	if err := f.setStage(ctx, StageInTransitToStore, "", ""); err != nil {
		return err
	}
	arrived := func() bool { return f.arrived != "" }
	late, err := f.waitFor(ctx, f.in.Policy.TransferTimeout, "store transfer timeout", arrived)
	if err != nil {
		return err
	}
	if late {
		if err := f.flag(ctx, "store transfer overdue"); err != nil {
			return err
		}
		if _, err := f.waitFor(ctx, 0, "", arrived); err != nil {
			return err
		}
	}
	return nil
}

func (f *fulfilment) buyLabel(ctx workflow.Context, req activities.BuyLabelRequest) (activities.Label, error) {
	var sh *activities.Shipping
	var label activities.Label
	if err := workflow.ExecuteActivity(activityOptions(ctx, "buy label: "+req.Purpose), sh.BuyLabel, req).Get(ctx, &label); err != nil {
		return activities.Label{}, fmt.Errorf("buy %s label: %w", req.Purpose, err)
	}
	return label, nil
}

// consumeStock turns the reservation into a sale once the goods left us.
func (f *fulfilment) consumeStock(ctx workflow.Context) error {
	var inv *activities.Inventory
	if err := workflow.ExecuteActivity(activityOptions(ctx, "consume stock"), inv.ConsumeStock, f.in.Order.OrderID).Get(ctx, nil); err != nil {
		return fmt.Errorf("consume stock: %w", err)
	}
	return nil
}
