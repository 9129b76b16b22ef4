package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

type principalKey struct{}

func principalFrom(ctx context.Context) records.Principal {
	p, _ := ctx.Value(principalKey{}).(records.Principal) // set by auth on every authenticated route
	return p
}

// auth admits bearer tokens of the given roles (looked up through the token
// cache: a revoked token is refused within TokenCacheTTL). Unknown tokens get 401
// and wrong roles 403, before anything is read or changed; then a path parameter that is
// not an ID is a 400 (checkPathIDs).
func (s *Server) auth(h http.HandlerFunc, roles ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="fulfilment"`)
			s.problem(w, r, newProblem(http.StatusUnauthorized, "unauthorized", "Unauthorized", "A bearer token is required."))
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.ReadTimeout)
		p, err := s.tokens.authenticate(ctx, token, s.store.Authenticate)
		cancel()
		if errors.Is(err, activities.ErrNotFound) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="fulfilment", error="invalid_token"`)
			s.problem(w, r, newProblem(http.StatusUnauthorized, "unauthorized", "Unauthorized", "The token is unknown or revoked."))
			return
		}
		if err != nil {
			s.problem(w, r, unavailable("Cannot check the token now.", err))
			return
		}
		noteCaller(r.Context(), p) // the request's log line names who called, even when refused
		if !slices.Contains(roles, p.Role) {
			s.problem(w, r, newProblem(http.StatusForbidden, "forbidden", "Forbidden", "This token's role may not use this route."))
			return
		}
		// A malformed ID says nothing about any order or store, so it may be told
		// to an admitted caller; it never reaches PostgreSQL or Temporal.
		if errs := checkPathIDs(r); len(errs) > 0 {
			s.problem(w, r, validationProblem("Invalid path", errs))
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

// ownStore reports whether the caller may act for a store: support for all, staff
// for their own.
func ownStore(p records.Principal, storeID string) bool {
	return p.Role == records.RoleSupport || (p.Role == records.RoleStaff && p.StoreID == storeID)
}

// checkPathIDs returns a field error for every path parameter of the request's
// route that is not an ID. Every {name} of an authenticated route is an order,
// customer or store ID, and they all follow the checkout's rule
// (domain.ValidID): 1-64 ASCII letters, digits, '-' or '_', starting with a
// letter or digit. So NUL, emoji, "../" and 300 characters are refused before
// any lookup, and a new route gets the check by naming its parameters.
func checkPathIDs(r *http.Request) []domain.FieldError {
	var errs []domain.FieldError
	rest := r.Pattern
	for {
		_, after, ok := strings.Cut(rest, "{")
		if !ok {
			return errs
		}
		name, tail, _ := strings.Cut(after, "}")
		rest = tail
		name = strings.TrimSuffix(name, "...")
		if name != "$" && !domain.ValidID(r.PathValue(name)) {
			errs = append(errs, domain.FieldError{Field: name, Message: msgID})
		}
	}
}
