package activities

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"time"
)

// PickTask is the work a location's staff see: which lines to pick for which order.
type PickTask struct {
	OrderID    string    `json:"order_id"`
	LocationID string    `json:"location_id"`
	Lines      []Line    `json:"lines"`
	DueAt      time.Time `json:"due_at"`
}

// PickResult is what staff confirmed, recorded on the pick task.
type PickResult struct {
	OrderID string       `json:"order_id"`
	Picked  []PickedLine `json:"picked"`
	By      string       `json:"by"`
	At      time.Time    `json:"at"`
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

// PickupCode is a fresh pickup code with its salted hash. The workflow keeps only
// Salt and Hash; Code travels once, encrypted, to the notification activity.
type PickupCode struct {
	Code string `json:"code"`
	Salt string `json:"salt"`
	Hash string `json:"hash"`
}

// pickupCodeDigits is six: short enough to read out at a counter. Guessing is
// bounded by the workflow's attempt limit, not by the code's length.
const pickupCodeDigits = 6

// NewPickupCode draws a random pickup code from crypto/rand, so it cannot be derived
// from the order ID. The workflow draws it in a side effect: recorded once
// (encrypted) in history, it never changes on replay or on a retry of a later step.
func NewPickupCode() (PickupCode, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return PickupCode{}, fmt.Errorf("draw pickup code: %w", err)
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return PickupCode{}, fmt.Errorf("draw pickup code salt: %w", err)
	}
	code := fmt.Sprintf("%0*d", pickupCodeDigits, n.Int64())
	s := hex.EncodeToString(salt)
	return PickupCode{Code: code, Salt: s, Hash: HashPickupCode(s, code)}, nil
}

// HashPickupCode is the salted SHA-256 the workflow compares a presented code with.
func HashPickupCode(salt, code string) string {
	sum := sha256.Sum256([]byte(salt + ":" + code))
	return hex.EncodeToString(sum[:])
}
