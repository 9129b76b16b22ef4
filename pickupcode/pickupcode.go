// Package pickupcode makes the six-digit codes a customer shows at the store and
// checks them, without the code ever entering the workflow's history or state.
//
// A code is derived, not stored: HMAC-SHA256 of the order ID and a random nonce
// under a key derived from the payload keys (FULFILMENT_PAYLOAD_KEYS), which the
// worker and the starter hold and support does not. The workflow draws and keeps
// the nonce; the notification activity derives the code when it renders the
// ready-for-pickup message; the starter turns the code staff type in into a proof
// (an HMAC of the code) and only the proof travels to the workflow, whose
// VerifyPickupCode activity compares it with the codes the nonce gives. Anyone who
// reads the history (support with the codec endpoint, say) sees nonces and proofs,
// from which no code can be computed without the key.
package pickupcode

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
)

// Digits is six: short enough to read out at a counter. Guessing is bounded by the
// workflow's limit of wrong codes, not by the code's length.
const Digits = 6

// Codes derives and checks pickup codes. Its first key is active; codes and proofs
// made with any of its keys are accepted, so that payload keys can be rotated
// while orders wait in the store.
type Codes struct {
	keys [][]byte
}

// New derives the pickup-code keys from secrets (the payload keys, first one
// active). Each is a key of its own (HMAC of a fixed label), never the payload key.
func New(secrets ...[]byte) (*Codes, error) {
	if len(secrets) == 0 {
		return nil, errors.New("pickupcode: at least one key is required")
	}
	c := &Codes{}
	for _, secret := range secrets {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte("everywhere-fulfilment pickup codes v1"))
		c.keys = append(c.keys, m.Sum(nil))
	}
	return c, nil
}

// NewNonce draws the random nonce a code is derived from (crypto/rand, 128 bits).
// The workflow draws it in a side effect, so it is recorded once and never changes
// on replay.
func NewNonce() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("draw pickup code nonce: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Code is the order's pickup code for nonce, under the active key.
func (c *Codes) Code(orderID, nonce string) string {
	return code(c.keys[0], orderID, nonce)
}

func code(key []byte, orderID, nonce string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("code\x00" + orderID + "\x00" + nonce))
	n := binary.BigEndian.Uint64(m.Sum(nil)[:8]) % 1_000_000 // bias below 2^-44
	return fmt.Sprintf("%0*d", Digits, n)
}

// Proof is what the starter sends the workflow for a code staff typed in: an HMAC
// of the order ID and the code under the active key. It tells the code's owner
// nothing they did not know and anyone else nothing at all.
func (c *Codes) Proof(orderID, presented string) string {
	return proof(c.keys[0], orderID, presented)
}

func proof(key []byte, orderID, presented string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("proof\x00" + orderID + "\x00" + presented))
	return hex.EncodeToString(m.Sum(nil))
}

// Matches reports whether proof is the proof of the order's code. The code is the
// one nonce gives under any key, or legacy when it is set: a code drawn before
// codes were derived (it then sits in the order's history already).
func (c *Codes) Matches(orderID, nonce, legacy, presentedProof string) bool {
	var candidates []string
	if legacy != "" {
		candidates = append(candidates, legacy)
	}
	if nonce != "" {
		for _, k := range c.keys {
			candidates = append(candidates, code(k, orderID, nonce))
		}
	}
	ok := false
	for _, cand := range candidates {
		for _, k := range c.keys {
			if hmac.Equal([]byte(proof(k, orderID, cand)), []byte(presentedProof)) {
				ok = true // no early return: the time taken does not say which matched
			}
		}
	}
	return ok
}
