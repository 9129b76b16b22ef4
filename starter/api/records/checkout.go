package records

import (
	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

// CheckoutLookup is what POST /v1/orders reads before it starts an order, asked
// in one round trip (api.Store.CheckoutFacts).
type CheckoutLookup struct {
	// StoreID is the pickup store to look up; "" looks up none.
	StoreID string
	// SKUs are the articles to check; those no location has ever stocked come back.
	SKUs []string
	// OrderID is the order whose row in the orders projection, if any, says that
	// it was placed before.
	OrderID string
}

// CheckoutFacts answers a CheckoutLookup.
type CheckoutFacts struct {
	// Store is the location StoreID names, nil when it names none (or was ""):
	// its Kind says whether it is a store.
	Store *activities.Location
	// UnknownSKUs are the SKUs no location has ever stocked, in the order asked.
	UnknownSKUs []string
	// PlacedStage is the order's stage in the projection; "" when it was never placed.
	PlacedStage domain.Stage
}
