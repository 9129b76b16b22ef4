package contract_test

// Contract tests of activities.PushSender: the FCM adapter, pointed at an httptest
// fake of the FCM HTTP v1 API that checks each request and answers with FCM's
// recorded response shapes, and the sandbox.Push fake must behave the same.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/api/option"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/adapters/fcm"
	"github.com/everywherecommerce/fulfilment/adapters/sandbox"
)

// pushHarness is one PushSender under test and what its provider accepted.
type pushHarness struct {
	sender   activities.PushSender
	accepted func() []activities.Push
}

// forEachPushSender runs the contract f against every implementation, in parallel.
func forEachPushSender(t *testing.T, f func(t *testing.T, h pushHarness)) {
	t.Helper()
	impls := []struct {
		name string
		new  func(t *testing.T) pushHarness
	}{
		{"sandbox", func(*testing.T) pushHarness {
			s := &sandbox.Push{}
			return pushHarness{sender: s, accepted: func() []activities.Push {
				var out []activities.Push
				for _, m := range s.Sent() {
					out = append(out, m.Push)
				}
				return out
			}}
		}},
		{"fcm", func(t *testing.T) pushHarness {
			fake := newFCMFake(t)
			return pushHarness{sender: newFCM(t, fake.srv.URL), accepted: fake.accepted}
		}},
	}
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			t.Parallel()
			f(t, impl.new(t))
		})
	}
}

func TestPushContractSend(t *testing.T) {
	forEachPushSender(t, func(t *testing.T, h pushHarness) {
		p := activities.Push{NotificationKey: "A-1:notify:ready-for-pickup:push", Token: "fcm-token-ada-1",
			Title: "Order A-1 is ready", Body: "Pick it up at Berlin Mitte."}
		id, err := h.sender.SendPush(t.Context(), p)
		if err != nil {
			t.Fatalf("SendPush: %v", err)
		}
		if !strings.HasPrefix(id, "projects/") || !strings.Contains(id, "/messages/") {
			t.Errorf("SendPush returned %q, want a message name projects/<project>/messages/<id>", id)
		}
		if got := h.accepted(); len(got) != 1 || got[0] != p {
			t.Errorf("provider accepted %+v, want exactly %+v", got, p)
		}
	})
}

func TestPushContractFailures(t *testing.T) {
	cases := []struct {
		name  string
		token string
		want  error
	}{
		{"gone token is unregistered", "fcm-token-" + sandbox.TokenUnregistered, activities.ErrUnregistered},
		{"missing token is an invalid request", "", activities.ErrInvalidRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forEachPushSender(t, func(t *testing.T, h pushHarness) {
				_, err := h.sender.SendPush(t.Context(), activities.Push{NotificationKey: "A-1:notify:shipped:push", Token: tc.token, Title: "t", Body: "b"})
				if !errors.Is(err, tc.want) {
					t.Fatalf("SendPush error = %v, want %v", err, tc.want)
				}
				msgNoRecipient(t, err, tc.token)
				if got := h.accepted(); len(got) != 0 {
					t.Errorf("provider accepted %d notifications, want none", len(got))
				}
			})
		})
	}
}

func TestPushContractRateLimitedOnce(t *testing.T) {
	forEachPushSender(t, func(t *testing.T, h pushHarness) {
		p := activities.Push{NotificationKey: "A-2:notify:shipped:push", Token: "fcm-token-ratelimit", Title: "t", Body: "b"}
		_, err := h.sender.SendPush(t.Context(), p)
		msgWantRetryAfter(t, err)
		if _, err := h.sender.SendPush(t.Context(), p); err != nil {
			t.Fatalf("second attempt: %v, want it sent", err)
		}
		if got := h.accepted(); len(got) != 1 {
			t.Errorf("provider accepted %d notifications, want 1", len(got))
		}
	})
}

func TestPushContractCancelledContext(t *testing.T) {
	forEachPushSender(t, func(t *testing.T, h pushHarness) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := h.sender.SendPush(ctx, activities.Push{NotificationKey: "A-3:notify:shipped:push", Token: "fcm-token-ada-1", Title: "t", Body: "b"})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("SendPush error = %v, want context.Canceled", err)
		}
		if got := h.accepted(); len(got) != 0 {
			t.Errorf("provider accepted %d notifications, want none", len(got))
		}
	})
}

// TestFCMErrorMapping: how each FCM answer reaches the activity. A 503 without a
// long Retry-After is left out: the SDK retries it four times itself (about 7s).
func TestFCMErrorMapping(t *testing.T) {
	const token = "fcm-token-secret-1"
	cases := []struct {
		name    string
		status  int
		header  map[string]string
		body    string
		want    error
		after   time.Duration
		maxWait time.Duration
	}{
		{"404 UNREGISTERED", 404, nil, fcmUnregistered, activities.ErrUnregistered, -1, 0},
		{"400 INVALID_ARGUMENT", 400, nil, fcmInvalidArgument, activities.ErrInvalidRequest, -1, 0},
		{"403 SENDER_ID_MISMATCH", 403, nil, fcmError(403, "PERMISSION_DENIED", "SenderId mismatch", "SENDER_ID_MISMATCH"), activities.ErrInvalidRequest, -1, 0},
		{"401 THIRD_PARTY_AUTH_ERROR", 401, nil, fcmError(401, "UNAUTHENTICATED", "Auth error from APNS or Web Push Service", "THIRD_PARTY_AUTH_ERROR"), activities.ErrInvalidRequest, -1, 0},
		{"401 UNAUTHENTICATED is retried", 401, nil, `{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}`, nil, -1, 0},
		{"429 QUOTA_EXCEEDED with Retry-After", 429, map[string]string{"Retry-After": "10"}, fcmQuotaExceeded, nil, 10 * time.Second, 10 * time.Second},
		{"429 RESOURCE_EXHAUSTED without a hint", 429, nil, fcmQuotaExceeded, nil, 0, 0},
		{"500 INTERNAL", 500, nil, fcmError(500, "INTERNAL", "Internal error encountered.", "INTERNAL"), nil, -1, 0},
		{"502 HTML", 502, map[string]string{"Content-Type": "text/html"}, "<html><body>502 Bad Gateway</body></html>", nil, -1, 0},
		// Longer than the SDK's 2-minute cap, so the SDK hands it over at once.
		{"503 UNAVAILABLE with a long Retry-After", 503, map[string]string{"Retry-After": "300"}, fcmError(503, "UNAVAILABLE", "The service is currently unavailable.", "UNAVAILABLE"), nil, 300 * time.Second, 300 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json; charset=UTF-8")
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body)) // a short body fails the adapter's call, which the test sees
			}))
			t.Cleanup(srv.Close)
			_, err := newFCM(t, srv.URL).SendPush(t.Context(), activities.Push{NotificationKey: "A-1:notify:shipped:push", Token: token, Title: "t", Body: "b"})
			msgCheckMapping(t, err, tc.want, tc.after, tc.maxWait)
			msgNoRecipient(t, err, token)
		})
	}
}

// Recorded FCM answers and the test project.
const (
	fcmProject         = "everywhere-test"
	fcmUnregistered    = `{"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}`
	fcmQuotaExceeded   = `{"error":{"code":429,"message":"Quota exceeded for quota metric 'Send requests' and limit 'Send requests per minute' of service 'fcm.googleapis.com'.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"QUOTA_EXCEEDED"}]}}`
	fcmInvalidArgument = `{"error":{"code":400,"message":"The registration token is not a valid FCM registration token","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"INVALID_ARGUMENT"},{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.token","description":"Invalid value at 'message.token' (TYPE_STRING), \"fcm-token-secret-1\""}]}]}}`
)

// fcmError is FCM's error body: a Google API error with an FcmError detail.
func fcmError(code int, status, message, fcmCode string) string {
	return fmt.Sprintf(`{"error":{"code":%d,"message":%q,"status":%q,"details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":%q}]}}`, code, message, status, fcmCode)
}

// fcmRequest is the part of an FCM v1 send body the fake checks.
type fcmRequest struct {
	ValidateOnly bool `json:"validate_only"`
	Message      struct {
		Token        string                       `json:"token"`
		Topic        string                       `json:"topic"`
		Notification struct{ Title, Body string } `json:"notification"`
		Data         map[string]string            `json:"data"`
	} `json:"message"`
}

// fcmFake is FCM's HTTP v1 send endpoint as the adapter sees it. It checks every
// request and answers as FCM does: 200 with the message name, 404 UNREGISTERED
// for a token containing "unregistered", 429 QUOTA_EXCEEDED with Retry-After for
// the first attempt of each notification key to a "ratelimit" token.
type fcmFake struct {
	srv *httptest.Server

	mu       sync.Mutex
	ok       []activities.Push
	attempts map[string]int
}

func newFCMFake(t *testing.T) *fcmFake {
	f := &fcmFake{attempts: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f.serve(t, w, r) }))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fcmFake) serve(t *testing.T, w http.ResponseWriter, r *http.Request) {
	if want := "/v1/projects/" + fcmProject + "/messages:send"; r.Method != http.MethodPost || r.URL.Path != want {
		t.Errorf("FCM fake: %s %s, want POST %s", r.Method, r.URL.Path, want)
	}
	if got := r.Header.Get("Authorization"); got != "" {
		t.Errorf("FCM fake: Authorization %q, want none (WithoutAuthentication)", got)
	}
	if got := r.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("FCM fake: Content-Type %q, want application/json", got)
	}
	var req fcmRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		t.Errorf("FCM fake: body: %v", err)
	}
	m := req.Message
	key := m.Data["notification_key"]
	if m.Token == "" || m.Topic != "" || req.ValidateOnly || key == "" {
		t.Errorf("FCM fake: message %+v, validate_only %v; want a token, no topic, a real send and the notification key in data", m, req.ValidateOnly)
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts[key]++
	switch {
	case strings.Contains(m.Token, sandbox.TokenUnregistered):
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(fcmUnregistered)) // a short body fails the adapter's call, which the test sees
		return
	case strings.Contains(m.Token, sandbox.RecipientRateLimited) && f.attempts[key] == 1:
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(fcmQuotaExceeded)) // as above
		return
	}
	f.ok = append(f.ok, activities.Push{NotificationKey: key, Token: m.Token, Title: m.Notification.Title, Body: m.Notification.Body})
	_, _ = fmt.Fprintf(w, `{"name": "projects/%s/messages/0:15004153144552%02d%%31bd1c9631bd1c96"}`, fcmProject, len(f.ok)) // as above
}

func (f *fcmFake) accepted() []activities.Push {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]activities.Push(nil), f.ok...)
}

func newFCM(t *testing.T, baseURL string) *fcm.Push {
	t.Helper()
	p, err := fcm.New(t.Context(), fcmProject,
		option.WithEndpoint(baseURL+"/v1"),
		option.WithoutAuthentication(),
		option.WithHTTPClient(&http.Client{Timeout: 10 * time.Second}),
	)
	if err != nil {
		t.Fatalf("fcm.New: %v", err)
	}
	return p
}
