package api

import (
	"context"
	"sync"
	"time"

	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// maxCachedTokens bounds the token cache: a deployment has tens of tokens (a few
// checkout services, a token per store, support staff); a flood of distinct valid
// tokens cannot exist, but the bound keeps memory fixed whatever happens.
const maxCachedTokens = 4096

// tokenCache remembers the principals of live tokens for a short TTL, so that a
// busy caller's requests do not each look their token up in PostgreSQL. Only
// admitted tokens are cached (an unknown token is looked up every time, so a new
// token works at once); entries are keyed by the token's hash, never the token.
//
// A token revoked in PostgreSQL (starter token revoke) is forgotten at once when
// the store announces it (Server.ListenForRevocations); the TTL bounds the
// revocation delay when an announcement is lost: such a token is still admitted
// by a starter that looked it up less than TTL ago, and refused from then on.
type tokenCache struct {
	ttl time.Duration
	now func() time.Time
	mu  sync.Mutex
	m   map[string]cachedToken
}

type cachedToken struct {
	p       records.Principal
	expires time.Time
}

// newTokenCache returns a cache with the given TTL; a TTL of zero or less turns
// caching off (every request looks its token up).
func newTokenCache(ttl time.Duration, now func() time.Time) *tokenCache {
	return &tokenCache{ttl: ttl, now: now, m: map[string]cachedToken{}}
}

// authenticate returns the token's principal from the cache, or from lookup
// (which is the store's Authenticate), remembering an admitted one.
func (c *tokenCache) authenticate(ctx context.Context, token string, lookup func(context.Context, string) (records.Principal, error)) (records.Principal, error) {
	if c.ttl <= 0 {
		return lookup(ctx, token)
	}
	key := records.HashToken(token)
	now := c.now()
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.p, nil
	}
	p, err := lookup(ctx, token)
	if err != nil {
		c.mu.Lock()
		delete(c.m, key) // revoked, or the database failed: nothing stale stays
		c.mu.Unlock()
		return p, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCachedTokens {
		for k, v := range c.m {
			if !now.Before(v.expires) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= maxCachedTokens {
			clear(c.m) // still full of live entries: start over, they come back on use
		}
	}
	c.m[key] = cachedToken{p: p, expires: now.Add(c.ttl)}
	return p, nil
}

// forget drops the token with this hash (records.HashToken): it was revoked.
func (c *tokenCache) forget(hash string) {
	c.mu.Lock()
	delete(c.m, hash)
	c.mu.Unlock()
}

// reset drops every token: revocations may have been missed.
func (c *tokenCache) reset() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}
