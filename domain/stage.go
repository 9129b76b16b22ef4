package domain

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

// Stages returns every stage in lifecycle order, so that stage names from outside
// (the order list's filter) are checked against the same list the workflow uses.
func Stages() []Stage {
	return []Stage{
		StageAccepted, StageRejected, StagePaymentCaptured, StagePaymentFailed, StagePicking, StagePicked,
		StageInTransitToStore, StageReadyForPickup, StagePickedUp, StageShipped, StageDelivered,
		StageCancelled, StageReviewRequested, StageCompleted,
	}
}
