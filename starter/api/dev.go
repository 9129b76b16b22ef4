package api

import (
	"errors"
	"net/http"
	"slices"

	"github.com/everywherecommerce/fulfilment/activities"
)

// cors lets the Temporal Web UI call the codec endpoint from the browser.
func (s *Server) cors(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin != "" && slices.Contains(s.cfg.UIOrigins, origin) {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Access-Control-Allow-Credentials", "true")
			w.Header().Set("Access-Control-Allow-Headers", "Content-Type, X-Namespace, Authorization")
			w.Header().Set("Access-Control-Allow-Methods", "POST, OPTIONS")
			w.Header().Add("Vary", "Origin")
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// codecAuth admits support tokens to the codec endpoint. In sandbox mode the local
// Web UI may use it without a token (the README says so): the dev stack holds only
// demo data.
func (s *Server) codecAuth(h http.Handler) http.Handler {
	if s.cfg.Sandbox {
		return h
	}
	return s.auth(h.ServeHTTP, roleSupport)
}

// outbox shows what the sandbox providers "sent", newest first.
func (s *Server) outbox(w http.ResponseWriter, r *http.Request) {
	msgs, err := s.store.Outbox(r.Context(), 100)
	if err != nil {
		s.problem(w, r, unavailable("Cannot read the outbox now.", err))
		return
	}
	writeJSON(w, http.StatusOK, msgs)
}

// tracking is the sandbox carrier's public tracking page for the links in emails.
func (s *Server) tracking(w http.ResponseWriter, r *http.Request) {
	v, err := s.store.Tracking(r.Context(), r.PathValue("code"))
	if errors.Is(err, activities.ErrNotFound) {
		s.problem(w, r, newProblem(http.StatusNotFound, "not-found", "Not found", "No parcel with this tracking code."))
		return
	}
	if err != nil {
		s.problem(w, r, unavailable("Cannot read the tracking now.", err))
		return
	}
	writeJSON(w, http.StatusOK, v)
}
