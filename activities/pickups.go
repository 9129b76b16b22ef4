package activities

import (
	"context"

	"go.temporal.io/sdk/temporal"

	"github.com/everywherecommerce/fulfilment/pickupcode"
)

// VerifyPickupCodeRequest asks whether a presented code's proof is the order's
// code. It holds no usable code: the nonce and the proof are worthless without the
// key.
type VerifyPickupCodeRequest struct {
	OrderID string `json:"order_id"`
	// Nonce is the one the order's code is derived from.
	Nonce string `json:"nonce,omitempty"`
	// LegacyCode is an order's code drawn before codes were derived; it is in that
	// order's history already.
	LegacyCode string `json:"legacy_code,omitempty"`
	// Proof is pickupcode.Proof of the code staff typed in.
	Proof string `json:"proof"`
}

// Pickups checks pickup codes; it holds the pickup-code key, which the workflow
// must not (its state and history are readable by support).
type Pickups struct {
	Codes *pickupcode.Codes
}

// VerifyPickupCode reports whether the proof is that of the order's code. It reads
// and writes nothing, so a retry is harmless; the workflow counts wrong codes.
func (a *Pickups) VerifyPickupCode(_ context.Context, req VerifyPickupCodeRequest) (bool, error) {
	if a.Codes == nil {
		return false, temporal.NewNonRetryableApplicationError("pickup codes are not configured on this worker", ErrTypeInvalidRequest, nil)
	}
	return a.Codes.Matches(req.OrderID, req.Nonce, req.LegacyCode, req.Proof), nil
}
