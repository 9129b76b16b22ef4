package oidc_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/everywherecommerce/fulfilment/starter/oidc"
	"github.com/everywherecommerce/fulfilment/starter/oidc/oidctest"
)

const audience = "temporal-ui"

// clock is a settable clock for the verifier's expiry checks and refetch limit.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newVerifier(t *testing.T, issuer string, c *clock) *oidc.Verifier {
	t.Helper()
	v, err := oidc.New(oidc.Config{
		Issuer: issuer, Audience: audience, Values: []string{"fulfilment-support", "sre"},
		HTTPClient: &http.Client{Timeout: 5 * time.Second}, Now: c.now, RefetchInterval: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func claims(iss string, now time.Time, extra map[string]any) map[string]any {
	c := map[string]any{
		"iss": iss, "sub": "ada@shop.example", "aud": []string{"account", audience},
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "groups": []string{"staff", "fulfilment-support"},
	}
	for k, v := range extra {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	return c
}

func TestVerify(t *testing.T) {
	t.Parallel()
	rsKey := oidctest.NewKey(t, "rs-1", jose.RS256)
	esKey := oidctest.NewKey(t, "es-1", jose.ES256)
	stranger := oidctest.NewKey(t, "rs-1", jose.RS256) // same kid, another key: a forged signature
	is := oidctest.NewIssuer(t, rsKey, esKey)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	v := newVerifier(t, is.URL, &clock{now})
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"rs-1"}`))
	body := strings.Split(oidctest.Sign(t, rsKey, claims(is.URL, now, nil)), ".")[1]

	tests := []struct {
		name  string
		token string
		want  error // nil: admitted
	}{
		{"RS256", oidctest.Sign(t, rsKey, claims(is.URL, now, nil)), nil},
		{"ES256", oidctest.Sign(t, esKey, claims(is.URL, now, nil)), nil},
		{"aud and groups as strings", oidctest.Sign(t, rsKey, claims(is.URL, now, map[string]any{"aud": audience, "groups": "sre"})), nil},
		{"expired within the leeway", oidctest.Sign(t, rsKey, claims(is.URL, now, map[string]any{"exp": now.Add(-10 * time.Second).Unix()})), nil},
		{"wrong issuer", oidctest.Sign(t, rsKey, claims("https://evil.example", now, nil)), oidc.ErrInvalid},
		{"wrong audience", oidctest.Sign(t, rsKey, claims(is.URL, now, map[string]any{"aud": []string{"account"}})), oidc.ErrInvalid},
		{"expired", oidctest.Sign(t, rsKey, claims(is.URL, now, map[string]any{"exp": now.Add(-2 * time.Minute).Unix()})), oidc.ErrInvalid},
		{"not yet valid", oidctest.Sign(t, rsKey, claims(is.URL, now, map[string]any{"nbf": now.Add(5 * time.Minute).Unix()})), oidc.ErrInvalid},
		{"no exp", oidctest.Sign(t, rsKey, claims(is.URL, now, map[string]any{"exp": nil})), oidc.ErrInvalid},
		{"no sub", oidctest.Sign(t, rsKey, claims(is.URL, now, map[string]any{"sub": nil})), oidc.ErrInvalid},
		{"missing group", oidctest.Sign(t, rsKey, claims(is.URL, now, map[string]any{"groups": []string{"staff"}})), oidc.ErrForbidden},
		{"no groups claim", oidctest.Sign(t, rsKey, claims(is.URL, now, map[string]any{"groups": nil})), oidc.ErrForbidden},
		{"groups not strings", oidctest.Sign(t, rsKey, claims(is.URL, now, map[string]any{"groups": map[string]any{"fulfilment-support": true}})), oidc.ErrForbidden},
		{"bad signature", oidctest.Sign(t, stranger, claims(is.URL, now, nil)), oidc.ErrInvalid},
		{"alg none", header + "." + body + ".", oidc.ErrInvalid},
		{"not a JWT", "ef_abc.def.ghi", oidc.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub, err := v.Verify(context.Background(), tt.token)
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want == nil && sub != "ada@shop.example":
				t.Fatalf("subject %q", sub)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if n := is.KeySetFetches(); n != 1 {
		t.Errorf("key set fetched %d times, want once (cached)", n)
	}
}

// TestKeyRotation: a token signed with a key published after the key set was
// cached is admitted once the verifier fetches the keys again; unknown key IDs
// make it fetch at most once per refetch interval.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	old := oidctest.NewKey(t, "2026-11", jose.RS256)
	next := oidctest.NewKey(t, "2026-12", jose.ES256)
	is := oidctest.NewIssuer(t, old)
	c := &clock{time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	v := newVerifier(t, is.URL, c)
	ctx := context.Background()
	if _, err := v.Verify(ctx, oidctest.Sign(t, old, claims(is.URL, c.t, nil))); err != nil {
		t.Fatalf("old key: %v", err)
	}
	is.Publish(old, next)
	// The first unknown kid fetches again at once if the last fetch is a refetch
	// interval old; a minute later it is.
	c.t = c.t.Add(2 * time.Minute)
	if _, err := v.Verify(ctx, oidctest.Sign(t, next, claims(is.URL, c.t, nil))); err != nil {
		t.Fatalf("new key after rotation: %v", err)
	}
	if n := is.KeySetFetches(); n != 2 {
		t.Fatalf("key set fetched %d times, want 2", n)
	}
	// Forged tokens with made-up key IDs: refused, and no fetch within the interval.
	for i := range 20 {
		forged := oidctest.NewKey(t, "forged-"+string(rune('a'+i)), jose.ES256)
		if _, err := v.Verify(ctx, oidctest.Sign(t, forged, claims(is.URL, c.t, nil))); !errors.Is(err, oidc.ErrInvalid) {
			t.Fatalf("forged kid: err = %v, want ErrInvalid", err)
		}
	}
	if n := is.KeySetFetches(); n != 2 {
		t.Errorf("forged key IDs made %d fetches, want none", n-2)
	}
	// A key rotated in within the interval waits for the interval.
	newest := oidctest.NewKey(t, "2027-01", jose.RS256)
	is.Publish(next, newest)
	if _, err := v.Verify(ctx, oidctest.Sign(t, newest, claims(is.URL, c.t, nil))); !errors.Is(err, oidc.ErrInvalid) {
		t.Fatalf("within the refetch interval: err = %v, want ErrInvalid", err)
	}
	c.t = c.t.Add(61 * time.Second)
	if _, err := v.Verify(ctx, oidctest.Sign(t, newest, claims(is.URL, c.t, nil))); err != nil {
		t.Fatalf("after the refetch interval: %v", err)
	}
	// The retired key is gone from the set: its tokens are refused.
	if _, err := v.Verify(ctx, oidctest.Sign(t, old, claims(is.URL, c.t, nil))); !errors.Is(err, oidc.ErrInvalid) {
		t.Fatalf("retired key: err = %v, want ErrInvalid", err)
	}
}

func TestIssuerDown(t *testing.T) {
	t.Parallel()
	k := oidctest.NewKey(t, "k", jose.ES256)
	c := &clock{time.Now()}
	v := newVerifier(t, "http://127.0.0.1:1", c)
	if _, err := v.Verify(context.Background(), oidctest.Sign(t, k, claims("http://127.0.0.1:1", c.t, nil))); !errors.Is(err, oidc.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}

func TestConfigNamesMissingSettings(t *testing.T) {
	t.Parallel()
	err := oidc.Config{Issuer: "https://login.example.com"}.Check()
	for _, want := range []string{"FULFILMENT_OIDC_AUDIENCE", "FULFILMENT_OIDC_SUPPORT_VALUES"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to name %s", err, want)
		}
	}
	if err := (oidc.Config{Issuer: "http://login.example.com", Audience: "a", Values: []string{"v"}}).Check(); err == nil || !strings.Contains(err.Error(), "https") {
		t.Errorf("plain http issuer: err = %v", err)
	}
	if err := (oidc.Config{Issuer: "https://login.example.com", Audience: "a", Values: []string{"v"}}).Check(); err != nil {
		t.Errorf("complete config: %v", err)
	}
}
