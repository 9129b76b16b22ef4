package domain

// Touchpoint names a moment in the order at which the customer hears from us.
type Touchpoint string

// Touchpoints. Their values are part of notification idempotency keys and name
// the message templates, so they never change.
const (
	TouchOrderConfirmed  Touchpoint = "order-confirmed"
	TouchPaymentFailed   Touchpoint = "payment-failed"
	TouchPartialRefund   Touchpoint = "partial-refund"
	TouchReadyForPickup  Touchpoint = "ready-for-pickup"
	TouchPickupReminder  Touchpoint = "pickup-reminder"
	TouchPickupChanged   Touchpoint = "pickup-date-changed"
	TouchPickedUp        Touchpoint = "picked-up"
	TouchShipped         Touchpoint = "shipped"
	TouchDelivered       Touchpoint = "delivered"
	TouchCancelled       Touchpoint = "cancelled"
	TouchReviewRequest   Touchpoint = "review-request"
	TouchInPicking       Touchpoint = "in-picking"
	TouchDeliveryProblem Touchpoint = "delivery-problem"
)
