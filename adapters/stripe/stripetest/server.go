// Package stripetest is a fake of the three Stripe endpoints the payments adapter
// uses, for tests: an httptest server that checks every request as Stripe would
// receive it (method, path, key, API version, idempotency key, form fields) and
// answers with the shapes of Stripe's real responses (replies.go), including the
// errors stripe-mock cannot produce because it keeps no state: declines, expired
// or already captured PaymentIntents, 429s and 5xx. Like the sandbox, it reads
// magic values in the PaymentIntent ID, so one contract test runs against both.
package stripetest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// SecretKey is the test-mode key the fake expects in "Authorization: Bearer".
const SecretKey = "sk_test_51FulfilmentContractKey"

// APIVersion is the Stripe-Version the fake expects: the version stripe-go v76
// pins and the replies are shaped after.
const APIVersion = "2023-10-16"

// AuthorizedAmount is what every PaymentIntent of the fake has authorized, in
// minor units; capturing more is refused as Stripe refuses it.
const AuthorizedAmount int64 = 100_000

// Request is one request the fake received, for tests that assert on what the
// adapter sent beyond the checks every request gets.
type Request struct {
	Method         string
	Path           string     // e.g. /v1/payment_intents/pi_1/capture
	IdempotencyKey string     // the Idempotency-Key header
	Form           url.Values // the form-encoded body
}

// Server is the fake Stripe API. Each PaymentIntent springs into existence with
// status requires_capture on first use, unless its ID says otherwise:
//
//	"decline"     capture answers 402 card_declined
//	"expired"     the authorization expired: status canceled (cancellation_reason automatic)
//	"captured"    captured elsewhere: status succeeded
//	"ratelimit"   the first request of each idempotency key answers 429 with Retry-After: 1
//	"unavailable" the first request of each idempotency key answers 503
//	"timeout"     the first request of each idempotency key never answers (until the
//	              client gives up)
//
// As on Stripe, a key's first success or decline is replayed for that key, and
// reusing such a key with other parameters is an idempotency_error; requests Stripe
// refuses before acting (400s, 429s, 503s) leave the key free. Answer overrides
// all of this for error-mapping tests.
type Server struct {
	// URL is the base URL to give the adapter (no /v1).
	URL string

	t   testing.TB
	srv *httptest.Server

	mu        sync.Mutex
	intents   map[string]*intentState
	replays   map[string]replay // idempotency key → first answer
	attempted map[string]bool   // idempotency keys seen, for the first-attempt magic
	requests  []Request
	answer    *Reply
	seq       int
}

type intentState struct {
	status   string // requires_capture, succeeded, canceled
	received int64
	refunded int64
	charge   string
}

type replay struct {
	fingerprint string
	reply       Reply
}

// NewServer starts a fake Stripe API; it stops when the test ends. Violations of
// what Stripe expects fail t.
func NewServer(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		t:       t,
		intents: map[string]*intentState{}, replays: map[string]replay{}, attempted: map[string]bool{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// Answer makes every following request (after the request checks) get r.
func (s *Server) Answer(r Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answer = &r
}

// Close stops the server before the test ends, for tests of an unreachable Stripe.
func (s *Server) Close() { s.srv.Close() }

// Requests returns the requests received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

var (
	capturePath = regexp.MustCompile(`^/v1/payment_intents/([^/]+)/capture$`)
	cancelPath  = regexp.MustCompile(`^/v1/payment_intents/([^/]+)/cancel$`)
)

// endpoint is what the fake knows about one of the three endpoints: its form
// fields (required ones and all allowed ones; metadata[...] is always allowed).
type endpoint struct {
	name     string
	required []string
	allowed  []string
}

var (
	captureEndpoint = endpoint{"capture", []string{"amount_to_capture"}, []string{"amount_to_capture"}}
	cancelEndpoint  = endpoint{"cancel", nil, []string{"cancellation_reason"}}
	refundEndpoint  = endpoint{"refund", []string{"payment_intent", "amount"}, []string{"payment_intent", "amount"}}
)

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	req, ep, intentID, ok := s.check(r)
	if !ok {
		write(w, InvalidParameter("", "stripetest: request rejected, see the test log"), "")
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	if s.answer != nil {
		a := *s.answer
		s.mu.Unlock()
		write(w, a, req.IdempotencyKey)
		return
	}
	first := !s.attempted[req.IdempotencyKey]
	s.attempted[req.IdempotencyKey] = true
	switch {
	case first && strings.Contains(intentID, "ratelimit"):
		s.mu.Unlock()
		write(w, RateLimited("1"), req.IdempotencyKey)
		return
	case first && strings.Contains(intentID, "unavailable"):
		s.mu.Unlock()
		write(w, Unavailable(""), req.IdempotencyKey)
		return
	case first && strings.Contains(intentID, "timeout"):
		s.mu.Unlock()
		<-r.Context().Done() // the client gave up
		return
	}
	fingerprint := r.URL.Path + "?" + req.Form.Encode()
	if prev, ok := s.replays[req.IdempotencyKey]; ok {
		s.mu.Unlock()
		if prev.fingerprint != fingerprint {
			write(w, IdempotencyMismatch(req.IdempotencyKey), req.IdempotencyKey)
			return
		}
		prev.reply.Header = prev.reply.Header.Clone()
		prev.reply.Header.Set("Idempotent-Replayed", "true")
		write(w, prev.reply, req.IdempotencyKey)
		return
	}
	reply := s.execute(ep, intentID, req.Form)
	if reply.Status == http.StatusOK || reply.Status == http.StatusPaymentRequired {
		s.replays[req.IdempotencyKey] = replay{fingerprint: fingerprint, reply: reply}
	}
	s.mu.Unlock()
	write(w, reply, req.IdempotencyKey)
}

// execute runs one endpoint against the fake's state; s.mu is held.
func (s *Server) execute(ep endpoint, intentID string, form url.Values) Reply {
	pi := s.intent(intentID)
	switch ep.name {
	case "capture":
		amount, _ := strconv.ParseInt(form.Get("amount_to_capture"), 10, 64)
		switch {
		case strings.Contains(intentID, "decline"):
			return CardDeclined(intentID)
		case pi.status != "requires_capture":
			return UnexpectedState(intentID, "capture", pi.status)
		case amount > AuthorizedAmount:
			return InvalidParameter("amount_to_capture", "The amount_to_capture must be less than or equal to the amount_capturable.")
		}
		s.seq++
		pi.status, pi.received, pi.charge = "succeeded", amount, fmt.Sprintf("ch_3Ofake%06dJN5vQBdWEx", s.seq)
		return CapturedIntent(intentID, amount, pi.charge)
	case "cancel":
		if pi.status != "requires_capture" {
			return UnexpectedState(intentID, "cancel", pi.status)
		}
		pi.status = "canceled"
		return CanceledIntent(intentID)
	default: // refund
		amount, _ := strconv.ParseInt(form.Get("amount"), 10, 64)
		if pi.status != "succeeded" {
			return InvalidParameter("payment_intent", "This PaymentIntent does not have a successful charge to refund.")
		}
		if left := pi.received - pi.refunded; amount > left {
			return InvalidParameter("amount", fmt.Sprintf("Refund amount (%d) is greater than unrefunded amount on charge (%d)", amount, left))
		}
		s.seq++
		pi.refunded += amount
		metadata := map[string]string{}
		for k, v := range form {
			if name, ok := strings.CutPrefix(k, "metadata["); ok {
				metadata[strings.TrimSuffix(name, "]")] = v[0]
			}
		}
		return RefundObject(fmt.Sprintf("re_3Ofake%06dJN5vQBdWEx", s.seq), intentID, pi.charge, amount, metadata)
	}
}

// intent returns the state of a PaymentIntent, created on first use; s.mu is held.
func (s *Server) intent(id string) *intentState {
	pi, ok := s.intents[id]
	if !ok {
		pi = &intentState{status: "requires_capture"}
		switch {
		case strings.Contains(id, "expired"):
			pi.status = "canceled"
		case strings.Contains(id, "captured"):
			pi.status, pi.received, pi.charge = "succeeded", AuthorizedAmount, "ch_3OelsewhereJN5vQBdWEx"
		}
		s.intents[id] = pi
	}
	return pi
}

// check asserts what every request must carry and parses it. It reports
// violations on s.t and returns ok=false for them.
func (s *Server) check(r *http.Request) (Request, endpoint, string, bool) {
	req := Request{Method: r.Method, Path: r.URL.Path, IdempotencyKey: r.Header.Get("Idempotency-Key")}
	fail := func(format string, args ...any) (Request, endpoint, string, bool) {
		s.t.Errorf("stripetest: %s %s: "+format, append([]any{r.Method, r.URL.Path}, args...)...)
		return req, endpoint{}, "", false
	}
	var ep endpoint
	var intentID string
	switch {
	case capturePath.MatchString(r.URL.Path):
		ep, intentID = captureEndpoint, capturePath.FindStringSubmatch(r.URL.Path)[1]
	case cancelPath.MatchString(r.URL.Path):
		ep, intentID = cancelEndpoint, cancelPath.FindStringSubmatch(r.URL.Path)[1]
	case r.URL.Path == "/v1/refunds":
		ep = refundEndpoint
	default:
		return fail("not an endpoint the payments adapter should call")
	}
	if r.Method != http.MethodPost {
		return fail("method %s, want POST", r.Method)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer "+SecretKey {
		return fail("Authorization %q, want the test key as a Bearer token", got)
	}
	if got := r.Header.Get("Stripe-Version"); got != APIVersion {
		return fail("Stripe-Version %q, want %s", got, APIVersion)
	}
	if req.IdempotencyKey == "" {
		return fail("no Idempotency-Key: a retry could act twice")
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		return fail("Content-Type %q, want application/x-www-form-urlencoded", ct)
	}
	if err := r.ParseForm(); err != nil {
		return fail("form: %v", err)
	}
	req.Form = r.PostForm
	for _, name := range ep.required {
		if req.Form.Get(name) == "" {
			return fail("form field %s missing (have %s)", name, req.Form.Encode())
		}
	}
	for name := range req.Form {
		if !strings.HasPrefix(name, "metadata[") && !slices.Contains(ep.allowed, name) {
			return fail("unexpected form field %s=%s", name, req.Form.Get(name))
		}
	}
	for _, name := range []string{"amount_to_capture", "amount"} {
		if v := req.Form.Get(name); v != "" {
			if n, err := strconv.ParseInt(v, 10, 64); err != nil || n <= 0 {
				return fail("%s=%q, want a positive integer in minor units", name, v)
			}
		}
	}
	if ep.name == "refund" {
		intentID = req.Form.Get("payment_intent")
	}
	if id, err := url.PathUnescape(intentID); err == nil {
		intentID = id
	}
	return req, ep, intentID, true
}

// write sends reply, echoing the idempotency key as Stripe does.
func write(w http.ResponseWriter, reply Reply, idempotencyKey string) {
	for k, v := range reply.Header {
		w.Header()[k] = v
	}
	if idempotencyKey != "" {
		w.Header().Set("Idempotency-Key", idempotencyKey)
	}
	w.WriteHeader(reply.Status)
	_, _ = w.Write([]byte(reply.Body)) // the client hanging up is the client's problem
}
