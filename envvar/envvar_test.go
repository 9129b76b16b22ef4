package envvar_test

import (
	"crypto/rand"
	"encoding/base64"
	"reflect"
	"strings"
	"testing"

	"github.com/everywherecommerce/fulfilment/envvar"
)

func TestLookup(t *testing.T) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	env := envvar.Lookup(func(name string) string {
		return map[string]string{"SET": "value", "EMPTY": "", envvar.PayloadKeysVar: "k1:" + base64.StdEncoding.EncodeToString(key)}[name]
	})
	if got := env.Or("SET", "default"); got != "value" {
		t.Errorf("Or(SET) = %q, want value", got)
	}
	if got := env.Or("EMPTY", "default"); got != "default" {
		t.Errorf("Or(EMPTY) = %q, want default: an empty value counts as unset", got)
	}
	if got := env.Missing("SET", "EMPTY", "ABSENT"); !reflect.DeepEqual(got, []string{"EMPTY", "ABSENT"}) {
		t.Errorf("Missing = %v, want [EMPTY ABSENT]", got)
	}
	if keys, err := env.PayloadKeys(); err != nil || len(keys) != 1 {
		t.Errorf("PayloadKeys = %v, %v; want one key", keys, err)
	}
	for _, tc := range []struct{ value, want string }{
		{"", "FULFILMENT_PAYLOAD_KEYS is not set"},
		{"k1:not-base64", "FULFILMENT_PAYLOAD_KEYS: "},
	} {
		bad := envvar.Lookup(func(string) string { return tc.value })
		if _, err := bad.PayloadKeys(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("PayloadKeys(%q) = %v, want an error with %q", tc.value, err, tc.want)
		}
	}
}
