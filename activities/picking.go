package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/everywherecommerce/fulfilment/domain"
)

// PickTask is the work a location's staff see: which lines to pick for which order.
type PickTask struct {
	OrderID    string        `json:"order_id"`
	LocationID string        `json:"location_id"`
	Lines      []domain.Line `json:"lines"`
	DueAt      time.Time     `json:"due_at"`
}

// PickResult is what staff confirmed, recorded on the pick task.
type PickResult struct {
	OrderID string              `json:"order_id"`
	Picked  []domain.PickedLine `json:"picked"`
	By      string              `json:"by"`
	At      time.Time           `json:"at"`
}

// PickStore keeps pick tasks. Both methods are idempotent per order.
type PickStore interface {
	CreatePickTask(ctx context.Context, task PickTask) error
	CompletePickTask(ctx context.Context, res PickResult) error
	// StartPickTask records who started the pick and when; the first start counts.
	StartPickTask(ctx context.Context, orderID, by string, at time.Time) error
	// CancelPickTask closes an open pick task of a cancelled order, so that it
	// leaves the pick list; a done task, or none, is left as it is.
	CancelPickTask(ctx context.Context, orderID string) error
}

// PickupCode is what the workflow's side effect records when an order is ready for
// pickup: the Nonce the code is derived from (pickupcode), never the code. Orders
// that reached the store before codes were derived recorded the Code itself with
// its Salt and Hash: their histories hold it, and the workflow checks a code sent in
// the clear against Salt and Hash.
type PickupCode struct {
	Code  string `json:"code"`
	Salt  string `json:"salt"`
	Hash  string `json:"hash"`
	Nonce string `json:"nonce,omitempty"`
}

// HashPickupCode is the salted SHA-256 the workflow compares a presented code with.
func HashPickupCode(salt, code string) string {
	sum := sha256.Sum256([]byte(salt + ":" + code))
	return hex.EncodeToString(sum[:])
}
