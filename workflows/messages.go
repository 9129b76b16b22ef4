package workflows

import (
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

// Message names: updates, signals and queries of OrderFulfilment.
const (
	UpdateCheckout       = "checkout"
	UpdateCompletePick   = "complete-pick"
	UpdateConfirmArrival = "confirm-arrival"
	UpdateCompletePickup = "complete-pickup"
	UpdateCancel         = "cancel"
	UpdateExtendPickup   = "extend-pickup"
	UpdateLockPickup     = "lock-pickup"
	UpdateUnlockPickup   = "unlock-pickup"
	UpdateResend         = "resend-notification"
	UpdateStartPick      = "start-pick"
	UpdateResolve        = "resolve"
	SignalCarrierEvent   = "carrier-event"
	SignalPaymentEvent   = "payment-event"
	QueryStatus          = "status"
)

// CheckoutUpdateID is the checkout update's ID: one per order, so a repeated
// checkout returns the first answer and costs nothing.
func CheckoutUpdateID(orderID string) string { return "checkout:" + orderID }

// CheckoutRequest is the argument of the checkout update; the order itself is in
// the workflow input, delivered in the same Update-with-Start call.
type CheckoutRequest struct {
	OrderID string `json:"order_id"`
}

// CheckoutResult is the answer to the checkout service.
type CheckoutResult struct {
	OrderID        string       `json:"order_id"`
	Outcome        string       `json:"outcome"`
	Stage          domain.Stage `json:"stage"`
	CapturedAmount int64        `json:"captured_amount"`
	Currency       string       `json:"currency"`
	// PromisedReadyAt is when a ship-to-store order will be ready for pickup.
	PromisedReadyAt *time.Time `json:"promised_ready_at,omitempty"`
	// Short lists the SKUs no location could serve when Outcome is rejected.
	Short []activities.ShortLine `json:"short,omitempty"`
	// Reason explains a rejected or failed checkout in words for the checkout service.
	Reason      string `json:"reason,omitempty"`
	RequestHash string `json:"request_hash"`
}

// CompletePickRequest is what staff confirmed: the picked quantity of every SKU.
type CompletePickRequest struct {
	Lines []domain.PickedLine `json:"lines"`
	By    string              `json:"by"`
}

// CompletePickResult tells staff what happens next.
type CompletePickResult struct {
	OrderID       string `json:"order_id"`
	PickedItems   int    `json:"picked_items"`
	MissingItems  int    `json:"missing_items"`
	RefundPending int64  `json:"refund_pending"`
}

// ConfirmArrivalRequest is store staff confirming a transfer parcel arrived.
type ConfirmArrivalRequest struct {
	StoreID string `json:"store_id"`
	By      string `json:"by"`
}

// CompletePickupRequest is the handover at the counter: the store and the proof
// of the code the customer presents (pickupcode.Proof, made by the starter), so
// that the code never enters history.
type CompletePickupRequest struct {
	StoreID string `json:"store_id"`
	// Proof is the HMAC of the presented code; the VerifyPickupCode activity
	// checks it.
	Proof string `json:"proof,omitempty"`
	// Code is the code in the clear, as sent before proofs: histories hold such
	// requests, checked against a legacy code's salted hash. Not sent any more.
	Code string `json:"code,omitempty"`
	By   string `json:"by"`
}

// HandoverResult confirms an arrival or a handover.
type HandoverResult struct {
	OrderID string    `json:"order_id"`
	At      time.Time `json:"at"`
}

// CancelRequest asks to cancel the order: allowed before handover or shipping.
type CancelRequest struct {
	Reason string `json:"reason"`
	By     string `json:"by"`
}

// CancelResult tells the caller what the cancellation did.
type CancelResult struct {
	OrderID  string       `json:"order_id"`
	Stage    domain.Stage `json:"stage"`
	Refunded int64        `json:"refunded"`
}

// ExtendPickupRequest moves a ready order's pickup deadline (and its reminders) later.
type ExtendPickupRequest struct {
	Until time.Time `json:"until"`
	By    string    `json:"by"`
}

// MaxPickupExtension bounds how far beyond the current deadline support may move it.
const MaxPickupExtension = 30 * 24 * time.Hour

// LockPickupRequest locks the handover by hand. The workflow locks it itself after
// MaxWrongPickupCodes; older histories hold this update from the starter.
type LockPickupRequest struct {
	Attempts int    `json:"attempts"`
	By       string `json:"by"`
}

// UnlockPickupRequest is support lifting a pickup lock.
type UnlockPickupRequest struct {
	By string `json:"by"`
}

// PickupResult confirms a change to the pickup: its deadline and whether it is locked.
type PickupResult struct {
	OrderID  string    `json:"order_id"`
	Deadline time.Time `json:"deadline"`
	Locked   bool      `json:"locked"`
}

// Carrier event statuses, as EasyPost names them.
const (
	CarrierPreTransit     = "pre_transit"
	CarrierInTransit      = "in_transit"
	CarrierOutForDelivery = "out_for_delivery"
	CarrierDelivered      = "delivered"
	CarrierFailure        = "failure"
	CarrierReturnToSender = "return_to_sender"
)

// CarrierEventMatters reports whether a tracking status changes the order's course
// (delivered, or an exception for support). Webhook handlers and the sandbox carrier
// signal only these: each signal is a billable Action, and in-transit scans are
// kept with the shipment in PostgreSQL instead.
func CarrierEventMatters(status string) bool {
	switch status {
	case CarrierDelivered, CarrierFailure, CarrierReturnToSender:
		return true
	}
	return false
}

// CarrierEvent is a tracking update for one of the order's shipments, signalled by
// the webhook handler (or the sandbox carrier). Signals are not de-duplicated by
// Temporal, so EventID is: a repeated ID is ignored.
type CarrierEvent struct {
	EventID      string    `json:"event_id"`
	TrackingCode string    `json:"tracking_code"`
	Status       string    `json:"status"`
	At           time.Time `json:"at"`
}

// PaymentEvent is something the payment provider reports that did not come from
// this workflow: a dispute, or a refund made elsewhere (the dashboard). Signalled by
// the Stripe webhook handler; repeated event IDs are ignored.
type PaymentEvent struct {
	EventID string    `json:"event_id"`
	Kind    string    `json:"kind"` // e.g. "dispute", "refund"
	Amount  int64     `json:"amount"`
	At      time.Time `json:"at"`
}

// Result is what the workflow returns when the order's story ends.
type Result struct {
	OrderID  string       `json:"order_id"`
	Stage    domain.Stage `json:"stage"`
	Captured int64        `json:"captured"`
	Refunded int64        `json:"refunded"`
}

// ResendRequest asks for a touchpoint's last message again (support's resend), on
// every channel it went to or on one.
type ResendRequest struct {
	Touchpoint domain.Touchpoint `json:"touchpoint"`
	// Channel, when set, is the one channel to resend on ("email", "sms", "push").
	Channel domain.Channel `json:"channel,omitempty"`
	By      string         `json:"by"`
}

// ResendResult is what happened to the resent message on each channel.
type ResendResult struct {
	OrderID string                    `json:"order_id"`
	Resend  int                       `json:"resend"`
	Sent    []activities.NotifyResult `json:"sent"`
}

// StartPickRequest says that staff started picking the order.
type StartPickRequest struct {
	By string `json:"by"`
}

// StartPickResult tells staff the pick is theirs.
type StartPickResult struct {
	OrderID   string    `json:"order_id"`
	StartedBy string    `json:"started_by"`
	StartedAt time.Time `json:"started_at"`
}
