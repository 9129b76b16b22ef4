// Package oidc verifies OpenID Connect access tokens (JWTs) issued by the
// retailer's identity provider, for the one route that must accept them: the
// codec endpoint, to which the Temporal Web UI forwards its user's access token
// (docs/support.md, "Decoding payloads in the Web UI"). It discovers the
// issuer's signing keys (/.well-known/openid-configuration → jwks_uri), caches
// them, and fetches them again when a token names a key it does not know (key
// rotation), at most once per RefetchInterval so that forged tokens cannot make
// it hammer the issuer.
package oidc

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// ErrInvalid is a token that is not admitted: malformed, badly signed, from
// another issuer or for another audience, expired, or without a support value
// in its claim. The wrapped cause is for the log, never for the caller.
var ErrInvalid = errors.New("oidc: token refused")

// ErrForbidden is a valid token whose claim carries none of the support values.
var ErrForbidden = errors.New("oidc: token lacks the support claim")

// ErrUnavailable is an issuer whose discovery document or keys cannot be read
// now; the token could not be checked.
var ErrUnavailable = errors.New("oidc: issuer keys unavailable")

// algorithms are the signature algorithms admitted: the asymmetric ones an
// identity provider signs access tokens with. "none" and the HMAC algorithms
// (whose "key" would be public) are refused when the token is parsed.
var algorithms = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.ES256, jose.ES384}

// Leeway is the clock skew allowed on exp, nbf and iat: identity providers and
// this service keep their own clocks.
const Leeway = 30 * time.Second

// DefaultRefetchInterval is the least time between two fetches of the key set:
// a token signed with a key not yet fetched waits at most this long after a
// rotation, and a stream of tokens naming unknown keys costs the issuer one
// request per interval.
const DefaultRefetchInterval = 30 * time.Second

// Config says which tokens are admitted.
type Config struct {
	// Issuer is the issuer URL, exactly as in the tokens' iss claim and the
	// discovery document.
	Issuer string
	// Audience must be in the token's aud claim (a string or an array).
	Audience string
	// Claim names the claim holding roles or groups ("groups" unless set); a
	// string or an array of strings.
	Claim string
	// Values are the claim values that make a caller support; one is enough.
	Values []string
	// HTTPClient fetches discovery and keys; it must have a timeout.
	HTTPClient *http.Client
	// Now is the clock; time.Now unless set.
	Now func() time.Time
	// RefetchInterval overrides DefaultRefetchInterval (tests).
	RefetchInterval time.Duration
}

// Check names every missing or bad setting of an OIDC configuration whose
// Issuer is set, under the environment variables' names.
func (c Config) Check() error {
	var problems []error
	u, err := url.Parse(c.Issuer)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		problems = append(problems, fmt.Errorf("FULFILMENT_OIDC_ISSUER=%q: want the issuer's URL such as https://login.example.com/realms/shop", c.Issuer))
	case u.Scheme == "http" && !loopback(u.Hostname()):
		problems = append(problems, fmt.Errorf("FULFILMENT_OIDC_ISSUER=%q: want https (plain http only for a loopback issuer)", c.Issuer))
	}
	if c.Audience == "" {
		problems = append(problems, errors.New("FULFILMENT_OIDC_ISSUER is set, so FULFILMENT_OIDC_AUDIENCE must be too (the aud the Web UI's access tokens carry)"))
	}
	if len(c.Values) == 0 {
		problems = append(problems, errors.New("FULFILMENT_OIDC_ISSUER is set, so FULFILMENT_OIDC_SUPPORT_VALUES must be too (the group or role that makes a user support)"))
	}
	return errors.Join(problems...)
}

func loopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// Verifier checks access tokens against one issuer; safe for concurrent use.
type Verifier struct {
	cfg Config

	mu        sync.Mutex
	keys      *jose.JSONWebKeySet
	jwksURI   string
	fetchedAt time.Time // last fetch attempt, successful or not
}

// New returns a Verifier for a checked Config. Nothing is fetched until the
// first token arrives, so the starter starts while the issuer is down.
func New(cfg Config) (*Verifier, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if cfg.HTTPClient == nil || cfg.HTTPClient.Timeout <= 0 {
		return nil, errors.New("oidc: an HTTP client with a timeout is required")
	}
	if cfg.Claim == "" {
		cfg.Claim = "groups"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RefetchInterval <= 0 {
		cfg.RefetchInterval = DefaultRefetchInterval
	}
	cfg.Issuer = strings.TrimSpace(cfg.Issuer)
	return &Verifier{cfg: cfg}, nil
}

// LooksLikeJWT tells a compact JWS (three dot-separated parts) from one of our
// own API tokens (ef_ and base64url, never a dot).
func LooksLikeJWT(token string) bool { return strings.Count(token, ".") == 2 }

// Verify checks token and returns its subject. Errors wrap ErrInvalid,
// ErrForbidden or ErrUnavailable.
func (v *Verifier) Verify(ctx context.Context, token string) (string, error) {
	tok, err := jwt.ParseSigned(token, algorithms)
	if err != nil {
		return "", fmt.Errorf("%w: parse: %w", ErrInvalid, err)
	}
	if len(tok.Headers) != 1 {
		return "", fmt.Errorf("%w: want one signature", ErrInvalid)
	}
	h := tok.Headers[0]
	key, err := v.key(ctx, h.KeyID, h.Algorithm)
	if err != nil {
		return "", err
	}
	var std jwt.Claims
	var extra map[string]json.RawMessage
	if err := tok.Claims(key.Key, &std, &extra); err != nil {
		return "", fmt.Errorf("%w: signature: %w", ErrInvalid, err)
	}
	if std.Expiry == nil {
		return "", fmt.Errorf("%w: no exp claim", ErrInvalid)
	}
	if std.Subject == "" {
		return "", fmt.Errorf("%w: no sub claim", ErrInvalid)
	}
	err = std.ValidateWithLeeway(jwt.Expected{
		Issuer:      v.cfg.Issuer,
		AnyAudience: jwt.Audience{v.cfg.Audience},
		Time:        v.cfg.Now(),
	}, Leeway)
	if err != nil {
		return "", fmt.Errorf("%w: claims of %s: %w", ErrInvalid, std.Subject, err)
	}
	if !hasValue(extra[v.cfg.Claim], v.cfg.Values) {
		return std.Subject, fmt.Errorf("%w: %s has no %s claim with one of %v", ErrForbidden, std.Subject, v.cfg.Claim, v.cfg.Values)
	}
	return std.Subject, nil
}

// hasValue reports whether raw (a string or an array of strings) holds one of want.
func hasValue(raw json.RawMessage, want []string) bool {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return slices.Contains(want, one)
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		return slices.ContainsFunc(many, func(s string) bool { return slices.Contains(want, s) })
	}
	return false
}

// key finds the signing key named kid for alg, fetching the key set when none
// is cached or kid is unknown and the last fetch is RefetchInterval old.
func (v *Verifier) key(ctx context.Context, kid, alg string) (jose.JSONWebKey, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if k, ok := v.find(kid, alg); ok {
		return k, nil
	}
	if v.keys != nil && v.cfg.Now().Sub(v.fetchedAt) < v.cfg.RefetchInterval {
		return jose.JSONWebKey{}, fmt.Errorf("%w: unknown key %q (key set fetched %s ago)", ErrInvalid, kid, v.cfg.Now().Sub(v.fetchedAt).Round(time.Second))
	}
	if v.keys == nil && !v.fetchedAt.IsZero() && v.cfg.Now().Sub(v.fetchedAt) < v.cfg.RefetchInterval {
		return jose.JSONWebKey{}, fmt.Errorf("%w: the last fetch failed %s ago", ErrUnavailable, v.cfg.Now().Sub(v.fetchedAt).Round(time.Second))
	}
	v.fetchedAt = v.cfg.Now()
	if err := v.fetch(ctx); err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if k, ok := v.find(kid, alg); ok {
		return k, nil
	}
	return jose.JSONWebKey{}, fmt.Errorf("%w: unknown key %q for %s", ErrInvalid, kid, alg)
}

// find returns the cached public signing key named kid that fits alg; with no
// kid, the one signing key that fits.
func (v *Verifier) find(kid, alg string) (jose.JSONWebKey, bool) {
	if v.keys == nil {
		return jose.JSONWebKey{}, false
	}
	var fits []jose.JSONWebKey
	for _, k := range v.keys.Keys {
		if (kid != "" && k.KeyID != kid) || (k.Use != "" && k.Use != "sig") || !k.IsPublic() {
			continue
		}
		if k.Algorithm != "" && k.Algorithm != alg {
			continue
		}
		switch k.Key.(type) {
		case *rsa.PublicKey:
			if !strings.HasPrefix(alg, "RS") && !strings.HasPrefix(alg, "PS") {
				continue
			}
		case *ecdsa.PublicKey:
			if !strings.HasPrefix(alg, "ES") {
				continue
			}
		default:
			continue
		}
		fits = append(fits, k)
	}
	if len(fits) != 1 {
		return jose.JSONWebKey{}, false
	}
	return fits[0], true
}

// maxDocument bounds the discovery document and the key set.
const maxDocument = 1 << 20

// fetch reads the discovery document (once) and the key set.
func (v *Verifier) fetch(ctx context.Context) error {
	if v.jwksURI == "" {
		var doc struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		if err := v.getJSON(ctx, strings.TrimSuffix(v.cfg.Issuer, "/")+"/.well-known/openid-configuration", &doc); err != nil {
			return err
		}
		if doc.Issuer != v.cfg.Issuer {
			return fmt.Errorf("discovery document names issuer %q, want %q", doc.Issuer, v.cfg.Issuer)
		}
		if doc.JWKSURI == "" {
			return errors.New("discovery document has no jwks_uri")
		}
		v.jwksURI = doc.JWKSURI
	}
	var set jose.JSONWebKeySet
	if err := v.getJSON(ctx, v.jwksURI, &set); err != nil {
		return err
	}
	v.keys = &set
	return nil
}

func (v *Verifier) getJSON(ctx context.Context, u string, dst any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("get %s: %w", u, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("get %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("get %s: status %d", u, resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxDocument)).Decode(dst); err != nil {
		return fmt.Errorf("read %s: %w", u, err)
	}
	return nil
}
