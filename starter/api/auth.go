package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/adapters/postgres"
)

// Roles of API tokens.
const (
	roleCheckout = "checkout"
	roleStaff    = "staff"
	roleSupport  = "support"
)

type principalKey struct{}

func principalFrom(ctx context.Context) postgres.Principal {
	p, _ := ctx.Value(principalKey{}).(postgres.Principal) // set by auth on every authenticated route
	return p
}

// auth admits bearer tokens of the given roles. Unknown tokens get 401 and wrong
// roles 403, before anything is read or changed.
func (s *Server) auth(h http.HandlerFunc, roles ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="fulfilment"`)
			s.problem(w, r, newProblem(http.StatusUnauthorized, "unauthorized", "Unauthorized", "A bearer token is required."))
			return
		}
		p, err := s.store.Authenticate(r.Context(), token)
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
		h(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

// ownStore reports whether the caller may act for a store: support for all, staff
// for their own.
func ownStore(p postgres.Principal, storeID string) bool {
	return p.Role == roleSupport || (p.Role == roleStaff && p.StoreID == storeID)
}
