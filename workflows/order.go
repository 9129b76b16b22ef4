package workflows

import (
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

// TaskQueue is the default task queue the worker polls and the starter starts
// orders on (FULFILMENT_TASK_QUEUE overrides it in both).
const TaskQueue = "fulfilment"

// WorkflowType is the name new orders start OrderFulfilment under: part of every
// history, so it never changes. Orders started before it run as WorkflowTypeV1
// and keep their version markers; a WorkflowType order takes every patch's new
// branch without asking GetVersion, so it pays no marker and no
// TemporalChangeVersion upsert (docs/versioning.md, "Generations").
const WorkflowType = "OrderFulfilmentV2"

// WorkflowTypeV1 is the name orders were started under before WorkflowType. The
// worker registers OrderFulfilment under both names until no V1 order is open.
const WorkflowTypeV1 = "OrderFulfilment"

// WorkflowID is the order's workflow ID: a function of the business key, so the
// same order can never run twice at once.
func WorkflowID(orderID string) string { return "order:" + orderID }

// Policy holds the order's timings and allocation rules. The starter fills it from
// configuration; it travels in the workflow input so a change affects new orders
// only, and tests shrink a week to seconds.
type Policy struct {
	// DistributionCentre is the location that serves home deliveries and ship-to-store
	// orders the pickup store cannot serve from its own stock.
	DistributionCentre string `json:"distribution_centre"`
	// PickingSLA is how long picking may take before the order needs attention.
	PickingSLA time.Duration `json:"picking_sla"`
	// TransferTimeout is how long a store transfer may travel before it needs attention.
	TransferTimeout time.Duration `json:"transfer_timeout"`
	// PickupWindow is how long a ready order waits for the customer.
	PickupWindow time.Duration `json:"pickup_window"`
	// PickupReminders are the times after ready at which an uncollected order's
	// customer is reminded; extending the deadline moves them with it.
	PickupReminders []time.Duration `json:"pickup_reminders"`
	// DeliveryTimeout is how long a parcel may travel before it needs attention.
	DeliveryTimeout time.Duration `json:"delivery_timeout"`
	// ReviewDelay is the wait between handover or delivery and the review request.
	ReviewDelay time.Duration `json:"review_delay"`
	// QuietHours, in the customer's time zone, defer messages that can wait (the
	// review request); equal From and To switch them off.
	QuietHours activities.QuietHours `json:"quiet_hours"`
	// StoreReadyLead is the promised time from checkout to ready when the pickup
	// store has the goods (within its opening hours); TransferDays the store's
	// opening days a transfer from the distribution centre takes.
	StoreReadyLead time.Duration `json:"store_ready_lead"`
	TransferDays   int           `json:"transfer_days"`
	// StuckAfter is how long a step's activity may keep failing with retryable
	// errors (an outage) before the order needs attention; it keeps retrying and
	// the flag clears when it succeeds. 0 means DefaultStuckAfter.
	StuckAfter time.Duration `json:"stuck_after,omitempty"`
}

// DefaultPolicy is the production policy: a day to pick, a week to collect, a week
// until the review request.
func DefaultPolicy() Policy {
	const day = 24 * time.Hour
	return Policy{
		DistributionCentre: "dc-erfurt",
		PickingSLA:         day,
		TransferTimeout:    5 * day,
		PickupWindow:       7 * day,
		PickupReminders:    []time.Duration{2 * day, 5 * day},
		DeliveryTimeout:    10 * day,
		ReviewDelay:        7 * day,
		QuietHours:         activities.DefaultQuietHours(),
		StoreReadyLead:     2 * time.Hour,
		TransferDays:       2,
		StuckAfter:         DefaultStuckAfter,
	}
}

// Input is the workflow's input.
type Input struct {
	Order  domain.Order `json:"order"`
	Policy Policy       `json:"policy"`
	// RequestHash is the checkout service's request fingerprint, returned with the
	// checkout result so a different body for the same order can be told apart.
	RequestHash string `json:"request_hash"`
	// PlacedBy is the checkout service that placed the order (its token's
	// subject), recorded as the actor of the first stage.
	PlacedBy string `json:"placed_by,omitempty"`
}
