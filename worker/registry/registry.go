// Package registry registers OrderFulfilment and its activities on a worker, and
// builds the activity structs from their ports. worker/main.go and the end-to-end
// tests share it, so both run exactly the same wiring.
package registry

import (
	"errors"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/links"
	"github.com/everywherecommerce/fulfilment/messages"
	"github.com/everywherecommerce/fulfilment/pickupcode"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// Store is everything the activities need from the database.
type Store interface {
	activities.StockStore
	activities.PickStore
	activities.LocationDirectory
	activities.ShipmentStore
	activities.JourneyStore
	activities.NotificationLog
	activities.ContactDirectory
	activities.RecommendationStore
}

// Providers are the external providers: sandbox fakes or live adapters.
type Providers struct {
	Payments activities.PaymentProvider
	Carrier  activities.Carrier
	Email    activities.EmailSender
	// SMS and Push may be nil: a system without them notifies by email only.
	SMS  activities.SMSSender
	Push activities.PushSender
	// Links signs the links in messages (unsubscribe); without it messages carry
	// no marketing parts.
	Links *links.Signer
	// PickupCodes derives pickup codes when a message is rendered and checks the
	// proofs staff's codes arrive as. Required: without it no order could be
	// handed over.
	PickupCodes *pickupcode.Codes
	// Metrics counts the business events (docs/observability.md); nil counts
	// nothing.
	Metrics activities.Metrics
}

// Registrar is the part of worker.Registry used here; a worker and the test
// workflow environment both have it.
type Registrar interface {
	RegisterWorkflowWithOptions(w any, options workflow.RegisterOptions)
	RegisterActivity(a any)
}

var _ Registrar = worker.Worker(nil)

// Register adds the workflow and every activity struct to r. It fails if the
// embedded message templates do not load or p has no PickupCodes.
func Register(r Registrar, store Store, p Providers) error {
	if p.PickupCodes == nil {
		return errors.New("registry: Providers.PickupCodes is required (derived from the payload keys)")
	}
	catalog, err := messages.Load()
	if err != nil {
		return err
	}
	r.RegisterWorkflowWithOptions(workflows.OrderFulfilment, workflow.RegisterOptions{Name: workflows.WorkflowType})
	// Orders started before WorkflowType, until none is open (docs/versioning.md).
	r.RegisterWorkflowWithOptions(workflows.OrderFulfilment, workflow.RegisterOptions{Name: workflows.WorkflowTypeV1})
	notifications := &activities.Notifications{Log: store, Email: p.Email, SMS: p.SMS, Push: p.Push,
		Contacts: store, Locations: store, Journey: store, Messages: catalog, Recommendations: store, Links: p.Links,
		Codes: p.PickupCodes, Metrics: p.Metrics}
	r.RegisterActivity(&activities.Checkout{Stock: store, Payments: p.Payments, Locations: store, Journey: store, Metrics: p.Metrics})
	r.RegisterActivity(&activities.Payments{Provider: p.Payments, Metrics: p.Metrics})
	shipping := &activities.Shipping{Carrier: p.Carrier, Shipments: store, Locations: store, Metrics: p.Metrics}
	r.RegisterActivity(shipping)
	r.RegisterActivity(&activities.Journey{Store: store, Tasks: store, Stock: store, Notifications: notifications, Labels: shipping,
		Metrics: p.Metrics})
	r.RegisterActivity(&activities.Pickups{Codes: p.PickupCodes})
	return nil
}
