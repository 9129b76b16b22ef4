// Package links makes the links in customer messages that act without a sign-in
// (unsubscribe) and checks them: each carries a token signed with HMAC-SHA256,
// never a bare customer ID that could be guessed or changed.
package links

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
)

// ErrBadToken: the token was not made with any of our keys, or is malformed.
var ErrBadToken = errors.New("link token is not valid")

// purposeUnsubscribe binds a token to what it may do.
const purposeUnsubscribe = "unsubscribe"

// Signer signs link tokens with its first key and accepts tokens of any of its
// keys, so that keys can be rotated without breaking links already sent.
type Signer struct {
	keys    [][]byte
	baseURL string
}

// New derives the signing keys from secrets (the payload keys, first one
// active) and roots links at baseURL (the starter's public URL).
func New(baseURL string, secrets ...[]byte) (*Signer, error) {
	if len(secrets) == 0 {
		return nil, errors.New("links: at least one key is required")
	}
	s := &Signer{baseURL: strings.TrimSuffix(baseURL, "/")}
	for _, secret := range secrets {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte("everywhere-fulfilment links v1")) // a key of its own, not the payload key
		s.keys = append(s.keys, m.Sum(nil))
	}
	return s, nil
}

func (s *Signer) mac(key []byte, purpose, subject string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(purpose + "\x00" + subject))
	return m.Sum(nil)[:16]
}

// token is "<base64url subject>.<base64url mac>".
func (s *Signer) token(purpose, subject string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(subject)) + "." + enc.EncodeToString(s.mac(s.keys[0], purpose, subject))
}

func (s *Signer) verify(purpose, token string) (string, error) {
	enc := base64.RawURLEncoding.Strict() // one encoding per token: unused trailing bits must be zero
	subj, sig, ok := strings.Cut(token, ".")
	if !ok {
		return "", ErrBadToken
	}
	subject, err1 := enc.DecodeString(subj)
	mac, err2 := enc.DecodeString(sig)
	if err1 != nil || err2 != nil || len(subject) == 0 {
		return "", ErrBadToken
	}
	for _, key := range s.keys {
		if hmac.Equal(mac, s.mac(key, purpose, string(subject))) {
			return string(subject), nil
		}
	}
	return "", ErrBadToken
}

// Unsubscribe is the link that withdraws the customer's marketing consent.
func (s *Signer) Unsubscribe(customerID string) string {
	return s.baseURL + "/unsubscribe?t=" + url.QueryEscape(s.token(purposeUnsubscribe, customerID))
}

// VerifyUnsubscribe returns the customer an unsubscribe token was made for.
func (s *Signer) VerifyUnsubscribe(token string) (customerID string, err error) {
	return s.verify(purposeUnsubscribe, token)
}
