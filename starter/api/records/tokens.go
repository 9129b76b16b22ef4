package records

import (
	"crypto/sha256"
	"encoding/hex"
)

// API token roles: what a bearer may do on the starter's API.
const (
	// RoleCheckout is the checkout service: it places orders.
	RoleCheckout = "checkout"
	// RoleStaff is store staff: pick, receive and hand over, for their own store only.
	RoleStaff = "staff"
	// RoleSupport is a support agent: any order, any store.
	RoleSupport = "support"
)

// Principal is who an API token speaks for: the handlers admit a route by its
// Role and scope staff to their StoreID, and GET /v1/me answers with it.
type Principal struct {
	Subject string `json:"subject"`
	Role    string `json:"role"`
	// StoreID scopes a staff token to one store; empty for other roles.
	StoreID string `json:"store_id,omitempty"`
}

// HashToken is the hex SHA-256 of a token: what the database keeps instead of
// the token (API tokens, the token's pickup tries), so a database leak does not
// leak usable tokens. Tokens carry 256 random bits, so an unsalted fast hash is
// enough. It lives here because both the starter (which counts a token's pickup
// tries) and the adapter (which stores and looks tokens up) must hash alike.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
