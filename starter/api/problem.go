package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"

	"github.com/everywherecommerce/fulfilment/domain"
)

// problemBase prefixes problem types; docs/api.md lists them.
const problemBase = "https://everywhere-fulfilment.dev/problems/"

// Problem is an RFC 9457 problem detail.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Errors lists every bad field of a 400.
	Errors []domain.FieldError `json:"errors,omitempty"`
	// Extra members (e.g. "short" for stock shortages, "order" for outcomes).
	Extra map[string]any `json:"-"`

	cause error
}

func (p *Problem) Error() string { return p.Title }

func newProblem(status int, typ, title, detail string) *Problem {
	return &Problem{Type: problemBase + typ, Title: title, Status: status, Detail: detail}
}

func unavailable(detail string, cause error) *Problem {
	p := newProblem(http.StatusServiceUnavailable, "unavailable", "Service unavailable", detail)
	p.cause = cause
	return p
}

func notFound() *Problem {
	return newProblem(http.StatusNotFound, "not-found", "Not found", "No such order or store.")
}

// problem writes err as application/problem+json. Anything that is not a Problem
// is a 500 with a generic body; its cause is logged, never sent.
func (s *Server) problem(w http.ResponseWriter, r *http.Request, err error) {
	var p *Problem
	if !errors.As(err, &p) {
		p = newProblem(http.StatusInternalServerError, "internal", "Internal error", "Something went wrong; it has been logged.")
		p.cause = err
	}
	if p.cause != nil || p.Status >= 500 {
		s.logger.Error("request failed", "method", r.Method, "route", r.Pattern, "status", p.Status, "error", p.cause)
	}
	body := map[string]any{"type": p.Type, "title": p.Title, "status": p.Status}
	if p.Detail != "" {
		body["detail"] = p.Detail
	}
	if len(p.Errors) > 0 {
		body["errors"] = p.Errors
	}
	for k, v := range p.Extra {
		body[k] = v
	}
	if p.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	if err := json.NewEncoder(w).Encode(body); err != nil {
		s.logger.Warn("write problem", "error", err)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing left to tell it
}

// decode reads a JSON body of at most maxBody bytes into v, rejecting unknown
// fields. Every string in it must be valid UTF-8 without control characters
// (a field tagged `text:"multiline"` may hold line feeds and tabs): otherwise the
// answer is a 400 naming each such field by its JSON path, before v is used.
// A body must come as JSON (Content-Type application/json, with parameters, or
// application/*+json), else 415; a body of the wrong shape is a 400 saying what
// was expected where ("lines[0].quantity: must be a whole number").
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return newProblem(http.StatusRequestEntityTooLarge, "too-large", "Request too large", "The body may be at most 64 KiB.")
	}
	if err != nil {
		return newProblem(http.StatusBadRequest, "malformed", "Unreadable body", "The body could not be read.")
	}
	if len(body) > 0 && !jsonMediaType(r.Header.Get("Content-Type")) {
		return newProblem(http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type",
			"The body must be JSON, sent with Content-Type: application/json.")
	}
	if errs, ok := checkJSONText(body, reflect.TypeOf(v)); ok && len(errs) > 0 {
		return validationProblem("Invalid text", errs)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("more than one value")
	}
	if err != nil {
		// Never err.Error(): it names Go types. Say what the route expected.
		detail := bodyShapeError(body, reflect.TypeOf(v))
		return newProblem(http.StatusBadRequest, "malformed", "Malformed JSON", detail)
	}
	return nil
}
