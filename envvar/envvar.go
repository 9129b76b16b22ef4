// Package envvar reads the environment variables the two commands (worker and
// starter) share: defaults, the names of required variables that are missing, and
// the payload encryption keys. It reads through a getenv function, never the
// process environment itself, so that each command's loadConfig stays testable
// with a map. Temporal's own client settings are read by go.temporal.io's
// envconfig, not here.
package envvar

import (
	"errors"
	"fmt"

	tadapter "github.com/everywherecommerce/fulfilment/adapters/temporal"
)

// Lookup reads one variable: os.Getenv in production, a map's lookup in tests.
// An empty value counts as unset.
type Lookup func(name string) string

// Or is the value of name, or def when it is unset.
func (l Lookup) Or(name, def string) string {
	if v := l(name); v != "" {
		return v
	}
	return def
}

// Missing names the variables of names that are unset, in the order given, so
// that a command can report every one of them at once.
func (l Lookup) Missing(names ...string) []string {
	var missing []string
	for _, n := range names {
		if l(n) == "" {
			missing = append(missing, n)
		}
	}
	return missing
}

// PayloadKeysVar holds the payload encryption keys, "id:base64key[,id:base64key...]":
// the first key encrypts, all of them decrypt (rotation).
const PayloadKeysVar = "FULFILMENT_PAYLOAD_KEYS"

// PayloadKeys parses PayloadKeysVar. Both commands need the same keys (the worker
// encrypts payloads, the starter serves the codec endpoint and signs links), so
// both read them here; the error names the variable.
func (l Lookup) PayloadKeys() ([]tadapter.Key, error) {
	v := l(PayloadKeysVar)
	if v == "" {
		return nil, errors.New(PayloadKeysVar + " is not set (id:base64 of 32 bytes)")
	}
	keys, err := tadapter.ParseKeys(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", PayloadKeysVar, err)
	}
	return keys, nil
}
