package contract_test

// What the httptest fakes of the message providers (SendGrid, Twilio, FCM) share:
// how they decide to answer the magic recipients and an outage, and how each
// provider's table of recorded error answers is checked against its adapter.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/adapters/sandbox"
)

// providerFake is the part every message provider fake shares: its server, the
// messages it accepted, the attempts per key behind the rate-limit magic value,
// and the outage switch. A provider's fake embeds it and writes the answers in
// its provider's words.
type providerFake[M any] struct {
	srv *httptest.Server

	mu       sync.Mutex
	ok       []M
	attempts map[string]int
	down     bool
}

// start serves serve on a new server, closed when the test ends.
func (f *providerFake[M]) start(t *testing.T, serve http.HandlerFunc) {
	f.attempts = map[string]int{}
	f.srv = httptest.NewServer(serve)
	t.Cleanup(f.srv.Close)
}

// fakeVerdict is how a provider fake answers one send.
type fakeVerdict int

const (
	// fakeAccepted: the message is sent.
	fakeAccepted fakeVerdict = iota
	// fakeOutage: the provider is down (5xx without Retry-After).
	fakeOutage
	// fakeRefused: the recipient is refused for good.
	fakeRefused
	// fakeRateLimited: the first attempt of a key to a "ratelimit" recipient (429).
	fakeRateLimited
)

// judge counts an attempt of key to recipient to and decides the answer; refused
// says whether the provider refuses to for good. An accepted m is kept, and n
// counts the messages accepted so far (for a message ID).
func (f *providerFake[M]) judge(key, to string, refused bool, m M) (v fakeVerdict, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts[key]++
	switch {
	case f.down:
		return fakeOutage, 0
	case refused:
		return fakeRefused, 0
	case strings.Contains(to, sandbox.RecipientRateLimited) && f.attempts[key] == 1:
		return fakeRateLimited, 0
	}
	f.ok = append(f.ok, m)
	return fakeAccepted, len(f.ok)
}

// accepted lists the messages accepted so far, oldest first.
func (f *providerFake[M]) accepted() []M {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]M(nil), f.ok...)
}

// outage takes the provider down: every later send is answered with a 5xx.
func (f *providerFake[M]) outage() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = true
}

// harness is the contract's view of the real adapter whose send is pointed at f.
func (f *providerFake[M]) harness(send func(context.Context, M) (string, error)) senderHarness[M] {
	return senderHarness[M]{send: send, accepted: f.accepted, outage: f.outage}
}

// errorMapping is one row of a provider's error-mapping table: a recorded answer
// and what the adapter must make of it.
type errorMapping struct {
	name string
	// status is the HTTP status; 0 means nothing listens (a network error).
	status int
	header map[string]string
	body   string
	// want is the permanent sentinel, or nil for a retryable error.
	want error
	// after is the least wait of a RetryAfterError (0 when the provider gave no
	// hint), or -1 for a plain error; maxWait its most.
	after, maxWait time.Duration
}

// checkErrorMappings answers each row from a server of its own (contentType, when
// set, then the row's headers) and checks what send, pointed at that server's
// URL, makes of it. No error text may name the recipient to.
func checkErrorMappings(t *testing.T, contentType, to string, rows []errorMapping, send func(t *testing.T, baseURL string) error) {
	t.Helper()
	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				writeAnswer(w, contentType, tc.status, tc.header, tc.body)
			}))
			t.Cleanup(srv.Close)
			if tc.status == 0 {
				srv.Close() // nothing listens on its address any more
			}
			err := send(t, srv.URL)
			msgCheckMapping(t, err, tc.want, tc.after, tc.maxWait)
			msgNoRecipient(t, err, to)
		})
	}
}

// writeAnswer writes a provider's answer: contentType (when set), then header,
// status and body.
func writeAnswer(w http.ResponseWriter, contentType string, status int, header map[string]string, body string) {
	if contentType != "" {
		w.Header().Set("Content-Type", contentType)
	}
	for k, v := range header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body)) // a short body fails the adapter's call, which the test sees
}
