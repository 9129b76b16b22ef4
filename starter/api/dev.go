package api

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strings"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
	"github.com/everywherecommerce/fulfilment/starter/oidc"
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
// Web UI may use it without a token (docs/api.md says so): the dev stack holds only
// demo data. With Config.OIDC set, a JWT is checked by it instead: the Web UI
// behind the retailer's SSO forwards its user's access token (passAccessToken),
// never one of ours. This is the only route that accepts such tokens.
func (s *Server) codecAuth(h http.Handler) http.Handler {
	if s.cfg.Sandbox {
		return h
	}
	own := s.auth(h.ServeHTTP, records.RoleSupport)
	if s.cfg.OIDC == nil {
		return own
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !oidc.LooksLikeJWT(token) {
			own.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.ReadTimeout)
		subject, err := s.cfg.OIDC.Verify(ctx, token)
		cancel()
		switch {
		case errors.Is(err, oidc.ErrUnavailable):
			s.problem(w, r, unavailable("Cannot check the token now.", err))
			return
		case errors.Is(err, oidc.ErrForbidden):
			// Why is logged, never told: the caller learns only that it may not.
			s.logger.Warn("codec: oidc token refused", "status", http.StatusForbidden, "error", err)
			noteCaller(r.Context(), records.Principal{Subject: "oidc:" + subject})
			s.problem(w, r, newProblem(http.StatusForbidden, "forbidden", "Forbidden", "This token's role may not use this route."))
			return
		case err != nil:
			s.logger.Warn("codec: oidc token refused", "status", http.StatusUnauthorized, "error", err)
			w.Header().Set("WWW-Authenticate", `Bearer realm="fulfilment", error="invalid_token"`)
			s.problem(w, r, newProblem(http.StatusUnauthorized, "unauthorized", "Unauthorized", "The token is unknown or revoked."))
			return
		}
		p := records.Principal{Subject: "oidc:" + subject, Role: records.RoleSupport}
		noteCaller(r.Context(), p)
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

// outbox shows what the sandbox providers "sent", newest first.
func (s *Server) outbox(w http.ResponseWriter, r *http.Request) {
	msgs, err := s.store.Outbox(r.Context(), 100)
	if err != nil {
		s.problem(w, r, unavailable("Cannot read the outbox now.", err))
		return
	}
	if strings.Contains(r.Header.Get("Accept"), "text/html") {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := outboxPage.Execute(w, msgs); err != nil {
			s.logger.Warn("write outbox page", "error", err)
		}
		return
	}
	writeJSON(w, http.StatusOK, msgs)
}

// outboxPage shows the sandbox's messages to a person, newest first, as the
// customer would read them (a browser asks for HTML; scripts get JSON).
var outboxPage = template.Must(template.New("outbox").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sandbox outbox</title>
<style>body{font-family:Helvetica,Arial,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#222}
article{border:1px solid #ddd;border-radius:6px;padding:.8rem 1rem;margin:0 0 1rem}
header{font-size:.85rem;color:#666}h2{font-size:1.05rem;margin:.4rem 0}pre{white-space:pre-wrap;font-family:inherit;margin:.4rem 0 0}
.channel{display:inline-block;padding:0 .4rem;border-radius:4px;background:#eef;color:#225;font-weight:bold;text-transform:uppercase}</style>
</head><body><h1>Sandbox outbox</h1><p>What the sandbox "sent", newest first (JSON for scripts: <code>Accept: application/json</code>).</p>
{{range .}}<article><header><span class="channel">{{.Channel}}</span> to {{.Recipient}} · {{.CreatedAt.Format "2006-01-02 15:04:05 MST"}} · {{.NotificationKey}}</header>
{{if .Subject}}<h2>{{.Subject}}</h2>{{end}}<pre>{{.Body}}</pre></article>
{{else}}<p>Nothing sent yet.</p>{{end}}
</body></html>`))

// tracking is the sandbox carrier's public tracking page for the links in emails.
func (s *Server) tracking(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	if !domain.ValidID(code) { // the sandbox's codes are "SBX" and hex digits
		s.problem(w, r, fieldProblem("code", msgID))
		return
	}
	v, err := s.store.Tracking(r.Context(), code)
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
