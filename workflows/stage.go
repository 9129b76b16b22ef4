package workflows

// Stage is where an order is in its lifecycle; also the OrderStage search attribute.
type Stage string

// Stages of the order lifecycle (DESIGN.md). Values are stored in PostgreSQL and in
// search attributes: never rename one.
const (
	StageAccepted         Stage = "accepted"
	StageRejected         Stage = "rejected"
	StagePaymentCaptured  Stage = "payment_captured"
	StagePaymentFailed    Stage = "payment_failed"
	StagePicking          Stage = "picking"
	StagePicked           Stage = "picked"
	StageInTransitToStore Stage = "in_transit_to_store"
	StageReadyForPickup   Stage = "ready_for_pickup"
	StagePickedUp         Stage = "picked_up"
	StageShipped          Stage = "shipped"
	StageDelivered        Stage = "delivered"
	StageCancelled        Stage = "cancelled"
	StageReviewRequested  Stage = "review_requested"
	StageCompleted        Stage = "completed"
)

// Checkout outcomes returned to the checkout service.
const (
	OutcomeCaptured      = "captured"
	OutcomePaymentFailed = "payment_failed"
	OutcomeRejected      = "rejected"
)
