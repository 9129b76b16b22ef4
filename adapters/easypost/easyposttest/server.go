// Package easyposttest is a fake EasyPost API for tests of the easypost adapter: an
// httptest server that checks every request the way EasyPost would (method, path,
// Basic auth with the API key as user, the body fields that matter) and answers
// with response bodies recorded from the real API (responses/). It keeps
// shipments, purchases and trackers in memory, counts every call, and can fail a
// call once before or after acting on it, so tests can crash the adapter between
// any two steps.
//
// The destination postal codes of the sandbox carrier work here too: 00000 is
// undeliverable (422), 42900 rate-limits and 50300 is unavailable on the first
// shipment of each reference.
package easyposttest

import (
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

//go:embed responses/*.json
var responses embed.FS

// Step is one EasyPost endpoint the adapter calls.
type Step string

// The endpoints of the carrier adapter.
const (
	StepCreate  Step = "create"  // POST /v2/shipments
	StepGet     Step = "get"     // GET /v2/shipments/{id}
	StepBuy     Step = "buy"     // POST /v2/shipments/{id}/buy
	StepTracker Step = "tracker" // POST /v2/trackers
	StepRefund  Step = "refund"  // POST /v2/shipments/{id}/refund
)

// When says on which side of the fake's work an injected failure happens.
type When int

const (
	// Before: the request is lost before EasyPost acts on it.
	Before When = iota
	// After: EasyPost acts, then the answer is lost (or the worker crashes before
	// it could use it).
	After
)

// RateOffer is one rate the fake offers for every shipment.
type RateOffer struct {
	Carrier, Service string
	// Rate is the price as EasyPost sends it, a decimal string.
	Rate string
}

// DefaultRates are offered when Options.Rates is empty: the cheapest is
// DPD Classic, the most expensive DHL Express Worldwide.
var DefaultRates = []RateOffer{
	{Carrier: "DHLExpress", Service: "ExpressWorldwide", Rate: "41.35"},
	{Carrier: "UPS", Service: "UPSStandard", Rate: "17.40"},
	{Carrier: "DPD", Service: "Classic", Rate: "6.95"},
	{Carrier: "DHLExpress", Service: "EconomySelect", Rate: "12.80"},
}

// Options shape the fake; the zero value is a fake whose bought shipments come
// without a tracker, so the adapter has to create one.
type Options struct {
	// APIKey every request must authenticate with; "EZTK_test" when empty.
	APIKey string
	// Rates offered for every shipment, in this order; DefaultRates when empty.
	Rates []RateOffer
	// TrackerOnPurchase makes a bought shipment come with its tracker, as EasyPost
	// does for most carriers.
	TrackerOnPurchase bool
	// RetryAfter is the Retry-After header (seconds) of the rate-limited answer.
	RetryAfter int
}

// Address is an address of a create request, as the fake received it.
type Address struct{ Name, Street1, Street2, City, Zip, Country string }

// Parcel is the parcel of a create request.
type Parcel struct{ Length, Width, Height, Weight float64 }

// CreateRequest is a create-shipment request as the fake received it, for tests
// to assert what the adapter sent.
type CreateRequest struct {
	Reference string
	To, From  Address
	Parcel    Parcel
}

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL to give the adapter (ending in /v2/).
	URL string
	// APIKey is the key the fake accepts.
	APIKey string

	t    testing.TB
	opts Options

	mu        sync.Mutex
	seq       int
	shipments map[string]*shipment
	trackers  map[string]map[string]any // by tracking code: EasyPost keeps one per code
	attempts  map[string]int            // creates per reference, for the magic postal codes
	calls     map[Step]int
	purchases int
	creates   []CreateRequest
	faults    map[Step][]fault
}

// fault is one injected failure: the connection closes without an answer when
// status is 0, else the fake answers status, header and body.
type fault struct {
	when   When
	status int
	header http.Header
	body   string
}

// NewServer starts a fake that fails t on any request EasyPost would reject as
// malformed, and stops it when the test ends.
func NewServer(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.APIKey == "" {
		opts.APIKey = "EZTK_test"
	}
	if len(opts.Rates) == 0 {
		opts.Rates = DefaultRates
	}
	s := &Server{APIKey: opts.APIKey, t: t, opts: opts, shipments: map[string]*shipment{},
		trackers: map[string]map[string]any{}, attempts: map[string]int{}, calls: map[Step]int{}, faults: map[Step][]fault{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.URL = srv.URL + "/v2/"
	return s
}

// FailOnce closes the connection of the next request of step without an answer,
// before or after the fake acted on it.
func (s *Server) FailOnce(step Step, when When) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[step] = append(s.faults[step], fault{when: when})
}

// AnswerOnce answers the next request of step with status, header and body
// without acting on it, as EasyPost answers an error.
func (s *Server) AnswerOnce(step Step, status int, header http.Header, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[step] = append(s.faults[step], fault{when: Before, status: status, header: header, body: body})
}

// Calls counts the requests of step, failed ones included.
func (s *Server) Calls(step Step) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[step]
}

// Purchases counts the shipments bought: what EasyPost would charge for.
func (s *Server) Purchases() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.purchases
}

// Creates returns the create-shipment requests received, in order.
func (s *Server) Creates() []CreateRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]CreateRequest(nil), s.creates...)
}

// BoughtRate returns the rate a shipment was bought at.
func (s *Server) BoughtRate(shipmentID string) (RateOffer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	shp, ok := s.shipments[shipmentID]
	if !ok || !shp.bought {
		return RateOffer{}, false
	}
	return shp.boughtRate, true
}

// RefundRequested reports whether a refund of the shipment was requested.
func (s *Server) RefundRequested(shipmentID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	shp, ok := s.shipments[shipmentID]
	return ok && shp.refunded
}

// ServeHTTP checks a request, applies an injected failure and answers.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	step, id, ok := route(r.Method, r.URL.Path)
	if !ok {
		s.t.Errorf("easyposttest: unexpected request %s %s", r.Method, r.URL.Path)
		writeJSON(w, http.StatusNotFound, apiError("NOT_FOUND", "The requested resource could not be found."))
		return
	}
	if user, pass, ok := r.BasicAuth(); !ok || user != s.APIKey || pass != "" {
		s.t.Errorf("easyposttest: %s %s without Basic auth of the API key as user", r.Method, r.URL.Path)
		writeJSON(w, http.StatusUnauthorized, apiError("APIKEY.REQUIRED", "API key required."))
		return
	}
	var body map[string]any
	if r.Method == http.MethodPost {
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			s.t.Errorf("easyposttest: %s %s with Content-Type %q", r.Method, r.URL.Path, ct)
		}
		raw, err := io.ReadAll(r.Body)
		if err == nil && len(raw) > 0 {
			err = json.Unmarshal(raw, &body)
		}
		if err != nil && step != StepRefund {
			s.t.Errorf("easyposttest: %s %s: unreadable body: %v", r.Method, r.URL.Path, err)
		}
	}

	s.mu.Lock()
	s.calls[step]++
	f, faulty := s.nextFault(step)
	if faulty && f.when == Before {
		s.mu.Unlock()
		fail(w, f)
		return
	}
	status, header, answer := s.handle(step, id, body)
	s.mu.Unlock()
	if faulty {
		fail(w, f)
		return
	}
	for k, v := range header {
		w.Header()[k] = v
	}
	if s, ok := answer.(string); ok { // a load balancer's plain-text error page
		w.WriteHeader(status)
		_, _ = io.WriteString(w, s) // the client sees a short body either way
		return
	}
	writeJSON(w, status, answer)
}

// nextFault pops the next injected failure of step; s.mu is held.
func (s *Server) nextFault(step Step) (fault, bool) {
	q := s.faults[step]
	if len(q) == 0 {
		return fault{}, false
	}
	s.faults[step] = q[1:]
	return q[0], true
}

// route maps a request to its step and shipment ID.
func route(method, path string) (Step, string, bool) {
	rest, ok := strings.CutPrefix(path, "/v2/")
	if !ok {
		return "", "", false
	}
	parts := strings.Split(rest, "/")
	switch {
	case method == http.MethodPost && rest == "shipments":
		return StepCreate, "", true
	case method == http.MethodPost && rest == "trackers":
		return StepTracker, "", true
	case method == http.MethodGet && len(parts) == 2 && parts[0] == "shipments" && parts[1] != "":
		return StepGet, parts[1], true
	case method == http.MethodPost && len(parts) == 3 && parts[0] == "shipments" && parts[2] == "buy":
		return StepBuy, parts[1], true
	case method == http.MethodPost && len(parts) == 3 && parts[0] == "shipments" && parts[2] == "refund":
		return StepRefund, parts[1], true
	}
	return "", "", false
}

// fail answers an injected failure: an error answer, or a connection closed
// without one.
func fail(w http.ResponseWriter, f fault) {
	if f.status != 0 {
		for k, v := range f.header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(f.status)
		_, _ = io.WriteString(w, f.body) // the client sees a short body either way
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	_ = conn.Close() // closing is the failure being simulated
}

// writeJSON answers v as JSON, as EasyPost does.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client sees a short body either way
}

// apiError is EasyPost's error body.
func apiError(code, message string) map[string]any {
	return map[string]any{"error": map[string]any{"code": code, "message": message, "errors": []any{}}}
}

// Body returns a recorded response body as text, e.g. "error_address_verify.json",
// for tests that inject EasyPost's real error answers with AnswerOnce.
func Body(name string) string {
	raw, err := responses.ReadFile("responses/" + name)
	if err != nil {
		panic(fmt.Sprintf("easyposttest: %v", err)) // a test asked for a file that is not there
	}
	return string(raw)
}

// recorded returns a fresh copy of a recorded response body.
func recorded[T any](name string) T {
	var v T
	if err := json.Unmarshal([]byte(Body(name)), &v); err != nil {
		panic(fmt.Sprintf("easyposttest: %s: %v", name, err)) // embedded at build time: cannot happen
	}
	return v
}
