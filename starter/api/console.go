package api

import (
	"context"
	"embed"
	"io/fs"
	"net/http"

	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

//go:embed console
var consoleFiles embed.FS

// consoleHandler serves the store console: static files embedded in the binary,
// no build step. The page calls only the public /v1 API with the staff member's token.
func consoleHandler() http.Handler {
	sub, err := fs.Sub(consoleFiles, "console")
	if err != nil {
		panic(err) // the embedded directory exists at compile time
	}
	files := http.StripPrefix("/store/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// No file is named with control characters or invalid UTF-8, and the
		// embedded file system would answer such a name with a 500.
		if textProblem(r.URL.Path, false) != "" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		files.ServeHTTP(w, r)
	})
}

// meAnswer is GET /v1/me: the token's principal and, for staff, their store's
// name and time zone, in which the console shows the store's times (a shared
// device may be set to any zone).
type meAnswer struct {
	records.Principal
	StoreName string `json:"store_name,omitempty"`
	TimeZone  string `json:"time_zone,omitempty"`
}

// me tells a token's holder who they are, so the console can open their store.
// A store that cannot be read now leaves its name and zone out (logged): the
// console then shows the store's ID and the device's zone rather than nothing.
func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	answer := meAnswer{Principal: p}
	if p.StoreID != "" {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.ReadTimeout)
		defer cancel()
		loc, err := s.store.Location(ctx, p.StoreID)
		if err != nil {
			s.logger.Warn("read the token's store", "store_id", p.StoreID, "error", err)
		}
		answer.StoreName, answer.TimeZone = loc.Name, loc.TimeZone
	}
	writeJSON(w, http.StatusOK, answer)
}
