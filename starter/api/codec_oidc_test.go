package api

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/everywherecommerce/fulfilment/activities"
	tadapter "github.com/everywherecommerce/fulfilment/adapters/temporal"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
	"github.com/everywherecommerce/fulfilment/starter/oidc"
	"github.com/everywherecommerce/fulfilment/starter/oidc/oidctest"
)

// tokenStore knows our own API tokens and nothing else.
type tokenStore struct {
	Store  // nil: no other call is expected
	tokens map[string]records.Principal
}

func (s tokenStore) Authenticate(_ context.Context, token string) (records.Principal, error) {
	if p, ok := s.tokens[token]; ok {
		return p, nil
	}
	return records.Principal{}, activities.ErrNotFound
}

// TestCodecEndpointAdmitsSupportSSO: in live mode the codec endpoint decodes for
// a Web UI user whose forwarded access token (from the retailer's SSO, checked
// against a local test issuer) carries the support group, and for our own
// support token; it refuses every other token with the same problem as today,
// saying nothing of why; and no other route accepts an SSO token.
func TestCodecEndpointAdmitsSupportSSO(t *testing.T) {
	t.Parallel()
	key := oidctest.NewKey(t, "k1", jose.RS256)
	is := oidctest.NewIssuer(t, key)
	verifier, err := oidc.New(oidc.Config{
		Issuer: is.URL, Audience: "temporal-ui", Values: []string{"fulfilment-support"},
		HTTPClient: &http.Client{Timeout: 5 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	codec, err := tadapter.NewCodec([]tadapter.Key{{ID: "k", Secret: bytes.Repeat([]byte{7}, 32)}})
	if err != nil {
		t.Fatal(err)
	}
	store := tokenStore{tokens: map[string]records.Principal{
		"ef_support": {Subject: "support-1", Role: records.RoleSupport},
		"ef_staff":   {Subject: "staff-1", Role: records.RoleStaff, StoreID: "berlin-mitte"},
	}}
	var logs bytes.Buffer
	s := New(Config{OIDC: verifier, UIOrigins: []string{"https://temporal.shop.example"}}, nil, store, codec, slog.New(slog.NewTextHandler(&logs, nil)))
	h := s.Handler()

	plain, err := converter.GetDefaultDataConverter().ToPayload("order A-1 for Ada")
	if err != nil {
		t.Fatal(err)
	}
	enc, err := codec.Encode([]*commonpb.Payload{plain})
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(map[string]any{"payloads": enc})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	token := func(extra map[string]any) string {
		c := map[string]any{"iss": is.URL, "sub": "ada", "aud": "temporal-ui", "exp": now.Add(time.Minute).Unix(), "groups": []string{"fulfilment-support"}}
		for k, v := range extra {
			c[k] = v
		}
		return oidctest.Sign(t, key, c)
	}
	decode := func(auth string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/codec/decode", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Namespace", "default")
		req.Header.Set("Origin", "https://temporal.shop.example")
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	for _, tc := range []struct {
		name, token string
		want        int
	}{
		{"SSO token with the support group", token(nil), http.StatusOK},
		{"our support token", "ef_support", http.StatusOK},
		{"our staff token", "ef_staff", http.StatusForbidden},
		{"SSO token without the group", token(map[string]any{"groups": []string{"staff"}}), http.StatusForbidden},
		{"SSO token expired", token(map[string]any{"exp": now.Add(-time.Hour).Unix()}), http.StatusUnauthorized},
		{"SSO token for another audience", token(map[string]any{"aud": "shop-app"}), http.StatusUnauthorized},
		{"SSO token from another issuer", token(map[string]any{"iss": "https://login.evil.example"}), http.StatusUnauthorized},
		{"no token", "", http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := decode(tc.token)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.want, rec.Body)
			}
			if rec.Header().Get("Access-Control-Allow-Origin") != "https://temporal.shop.example" {
				t.Errorf("no CORS header for the UI origin")
			}
			if tc.want != http.StatusOK {
				if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("Content-Type %q", ct)
				}
				for _, leak := range []string{"exp", "aud", "issuer", "group", "signature", "oidc"} {
					if strings.Contains(strings.ToLower(rec.Body.String()), leak) {
						t.Errorf("the refusal tells why (%q): %s", leak, rec.Body)
					}
				}
				return
			}
			var got struct{ Payloads []*commonpb.Payload }
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			var text string
			if len(got.Payloads) != 1 || converter.GetDefaultDataConverter().FromPayload(got.Payloads[0], &text) != nil || text != "order A-1 for Ada" {
				t.Fatalf("decoded %v", got.Payloads)
			}
		})
	}
	if !strings.Contains(logs.String(), "oidc token refused") {
		t.Errorf("refusals not logged:\n%s", logs.String())
	}

	// Any other route: the SSO token is not one of ours.
	req := httptest.NewRequest(http.MethodGet, "/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+token(nil))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("GET /v1/me with an SSO token: %d, want 401", rec.Code)
	}
}
