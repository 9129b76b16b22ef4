package contract_test

// The contract of every message sender, written once for email
// (activities.EmailSender), SMS (activities.SMSSender) and app push
// (activities.PushSender): each channel's sandbox fake and its real adapter
// (SendGrid, Twilio, FCM), pointed at an httptest fake of the provider's API, must
// answer alike, so that workflow tests on the fakes prove something about
// production. Each channel's file says how its senders are built and tests what
// only its provider does (the exact request, its error codes).

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/adapters/sandbox"
	"github.com/everywherecommerce/fulfilment/adapters/sendgrid"
	"github.com/everywherecommerce/fulfilment/adapters/twilio"
	"github.com/everywherecommerce/fulfilment/domain"
)

// TestSenderContract runs the sender contract against both implementations of
// every channel.
func TestSenderContract(t *testing.T) {
	channels := []struct {
		name     domain.Channel
		contract interface{ run(t *testing.T) }
	}{
		{domain.ChannelEmail, emailContract()},
		{domain.ChannelSMS, smsContract()},
		{domain.ChannelPush, pushContract()},
	}
	for _, ch := range channels {
		t.Run(string(ch.name), func(t *testing.T) {
			t.Parallel()
			ch.contract.run(t)
		})
	}
}

// senderContract is what the senders of one channel, whose message type is M, must
// do. Its fields say how the channel's messages look; its methods are the checks.
type senderContract[M comparable] struct {
	// sample is a complete message (every field set but the recipient) that the
	// provider accepts.
	sample M
	// to returns m addressed to recipient: an address, a number or a token.
	to func(m M, recipient string) M
	// recipient is an ordinary recipient; refused one the provider refuses for
	// good, with an error wrapping refusedErr (ErrUndeliverable, or ErrUnregistered
	// for a token that is gone); rateLimited one whose first attempt per key is
	// rate limited (it contains sandbox.RecipientRateLimited).
	recipient, refused, rateLimited string
	refusedErr                      error
	// idShape says what the provider's message ID looks like, validID checks it:
	// the notifications row keeps the ID to match delivery events to it.
	idShape string
	validID func(id string) bool
	// seen is the part of a message that the provider receives (Twilio never sees
	// the notification key); nil when it receives all of it.
	seen func(m M) M
	// impls build each implementation on fresh state.
	impls []senderImpl[M]
}

// senderImpl is one implementation of a channel's sender port.
type senderImpl[M any] struct {
	name string
	new  func(t *testing.T) senderHarness[M]
}

// senderHarness is one sender under test and what its provider saw.
type senderHarness[M any] struct {
	// send is the port's one method (SendEmail, SendSMS or SendPush).
	send func(ctx context.Context, m M) (id string, err error)
	// accepted lists the messages the provider accepted, oldest first.
	accepted func() []M
	// outage makes every later send fail as a provider outage does (a 5xx
	// without Retry-After; the sandbox's Faults).
	outage func()
}

// run runs every check against every implementation, in parallel.
func (c senderContract[M]) run(t *testing.T) {
	checks := []struct {
		name  string
		check func(t *testing.T, h senderHarness[M])
	}{
		{"send", c.checkSend},
		{"refused recipient is permanent", c.checkRefused},
		{"missing recipient is an invalid request", c.checkMissingRecipient},
		{"rate limited once", c.checkRateLimitedOnce},
		{"outage is retryable", c.checkOutage},
		{"cancelled context", c.checkCancelled},
	}
	for _, ck := range checks {
		t.Run(ck.name, func(t *testing.T) {
			t.Parallel()
			for _, impl := range c.impls {
				t.Run(impl.name, func(t *testing.T) {
					t.Parallel()
					ck.check(t, impl.new(t))
				})
			}
		})
	}
}

// checkSend: a message is accepted exactly once, as sent, and the provider's
// message ID comes back.
func (c senderContract[M]) checkSend(t *testing.T, h senderHarness[M]) {
	m := c.to(c.sample, c.recipient)
	id, err := h.send(t.Context(), m)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	if id == "" || !c.validID(id) {
		t.Errorf("send returned ID %q, want %s: the notifications row needs it to match delivery events", id, c.idShape)
	}
	c.wantAccepted(t, h, m)
}

// checkRefused: a recipient refused for good is a permanent error (the activity
// makes it non-retryable), and nothing is sent.
func (c senderContract[M]) checkRefused(t *testing.T, h senderHarness[M]) {
	_, err := h.send(t.Context(), c.to(c.sample, c.refused))
	if !errors.Is(err, c.refusedErr) || !msgPermanent(err) {
		t.Fatalf("send error = %v, want %v (permanent)", err, c.refusedErr)
	}
	msgNoRecipient(t, err, c.refused)
	c.wantAccepted(t, h)
}

// checkMissingRecipient: a message without a recipient is an invalid request,
// refused before the provider sees it.
func (c senderContract[M]) checkMissingRecipient(t *testing.T, h senderHarness[M]) {
	_, err := h.send(t.Context(), c.to(c.sample, ""))
	if !errors.Is(err, activities.ErrInvalidRequest) {
		t.Fatalf("send error = %v, want %v", err, activities.ErrInvalidRequest)
	}
	c.wantAccepted(t, h)
}

// checkRateLimitedOnce: a rate-limited attempt asks for a retry after a wait, and
// the retry is sent, once.
func (c senderContract[M]) checkRateLimitedOnce(t *testing.T, h senderHarness[M]) {
	m := c.to(c.sample, c.rateLimited)
	_, err := h.send(t.Context(), m)
	msgWantRetryAfter(t, err)
	msgNoRecipient(t, err, c.rateLimited)
	if _, err := h.send(t.Context(), m); err != nil {
		t.Fatalf("second attempt: %v, want it sent", err)
	}
	c.wantAccepted(t, h, m)
}

// checkOutage: a provider that is down gives a plain retryable error (the
// activity's RetryPolicy decides when to try again), and nothing is sent.
func (c senderContract[M]) checkOutage(t *testing.T, h senderHarness[M]) {
	h.outage()
	_, err := h.send(t.Context(), c.to(c.sample, c.recipient))
	msgCheckMapping(t, err, nil, -1, 0)
	msgNoRecipient(t, err, c.recipient)
	c.wantAccepted(t, h)
}

// checkCancelled: a cancelled context ends the send with the context's error,
// and nothing is sent.
func (c senderContract[M]) checkCancelled(t *testing.T, h senderHarness[M]) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := h.send(ctx, c.to(c.sample, c.recipient))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("send error = %v, want context.Canceled", err)
	}
	c.wantAccepted(t, h)
}

// wantAccepted fails unless the provider accepted exactly want (none when empty),
// compared by what it sees of each message.
func (c senderContract[M]) wantAccepted(t *testing.T, h senderHarness[M], want ...M) {
	t.Helper()
	seen := c.seen
	if seen == nil {
		seen = func(m M) M { return m }
	}
	got := h.accepted()
	same := len(got) == len(want)
	for i := 0; same && i < len(got); i++ {
		same = seen(got[i]) == seen(want[i])
	}
	if !same {
		t.Errorf("provider accepted %d: %+v; want exactly %d: %+v", len(got), got, len(want), want)
	}
}

// sandboxHarness is the harness of a sandbox message fake: send is its Send
// method, sent its Sent method, message takes the message out of what Sent
// returns, and faults (set to fail every call) is its outage.
func sandboxHarness[M, S any](send func(context.Context, M) (string, error), sent func() []S, message func(S) M, faults *sandbox.Faults) senderHarness[M] {
	return senderHarness[M]{
		send: send,
		accepted: func() []M {
			var out []M
			for _, s := range sent() {
				out = append(out, message(s))
			}
			return out
		},
		outage: func() { faults.Rate = 1 },
	}
}

// msgPermanent reports whether err carries a sentinel that the activity turns into
// a non-retryable error.
func msgPermanent(err error) bool {
	for _, s := range []error{activities.ErrInvalidRequest, activities.ErrUndeliverable, activities.ErrUnregistered} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// msgWantRetryAfter fails unless err asks for a retry after a wait, as a 429 does.
func msgWantRetryAfter(t *testing.T, err error) {
	t.Helper()
	var ra *activities.RetryAfterError
	if !errors.As(err, &ra) || msgPermanent(err) {
		t.Fatalf("error = %v, want a retryable *activities.RetryAfterError", err)
	}
}

// msgCheckMapping checks one row of an error-mapping table: want is the permanent
// sentinel or nil for a retryable error; after is the least wait of a
// RetryAfterError (0 when the provider gave no hint) or -1 for a plain error,
// maxWait its most.
func msgCheckMapping(t *testing.T, err error, want error, after, maxWait time.Duration) {
	t.Helper()
	if err == nil {
		t.Fatal("no error, want one")
	}
	if want != nil {
		if !errors.Is(err, want) {
			t.Errorf("error = %v, want %v (permanent)", err, want)
		}
		return
	}
	if msgPermanent(err) {
		t.Errorf("error = %v is permanent, want retryable", err)
	}
	var ra *activities.RetryAfterError
	switch isRA := errors.As(err, &ra); {
	case after < 0 && isRA:
		t.Errorf("error = %v is a RetryAfterError (%s), want a plain retryable error", err, ra.After)
	case after >= 0 && !isRA:
		t.Errorf("error = %v, want a RetryAfterError", err)
	case after >= 0 && (ra.After < after || ra.After > maxWait):
		t.Errorf("Retry-After %s, want between %s and %s", ra.After, after, maxWait)
	}
}

// msgNoRecipient fails if an error's text names the recipient: error texts end up
// in Temporal's history and in logs, where addresses, numbers and tokens must not.
func msgNoRecipient(t *testing.T, err error, recipient string) {
	t.Helper()
	if err != nil && recipient != "" && strings.Contains(err.Error(), recipient) {
		t.Errorf("error text %q contains the recipient", err)
	}
}

// TestMessageAdaptersRefuseClientsWithoutTimeout: SendGrid and Twilio have no
// idempotency key, so a request that never ends must not be possible; the
// constructors refuse a missing client or one without a Timeout.
func TestMessageAdaptersRefuseClientsWithoutTimeout(t *testing.T) {
	t.Parallel()
	for _, hc := range []*http.Client{nil, {}} {
		if _, err := sendgrid.New(sendgrid.Config{APIKey: sendgridAPIKey, FromEmail: sendgridFrom, HTTPClient: hc}); err == nil {
			t.Errorf("sendgrid.New with client %v: no error", hc)
		}
		if _, err := twilio.New(twilio.Config{AccountSID: twilioAccountSID, AuthToken: twilioAuthToken, From: twilioFrom, HTTPClient: hc}); err == nil {
			t.Errorf("twilio.New with client %v: no error", hc)
		}
	}
}
