package contract_test

// The push channel: the sender contract (sender_test.go) for the sandbox.Push fake
// and the FCM adapter, pointed at an httptest fake of the FCM HTTP v1 API that
// checks each request and answers with FCM's recorded response shapes, and what
// only FCM does (its error codes).

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/api/option"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/adapters/fcm"
	"github.com/everywherecommerce/fulfilment/adapters/sandbox"
)

// pushContract is the sender contract of activities.PushSender.
func pushContract() senderContract[activities.Push] {
	return senderContract[activities.Push]{
		sample:      activities.Push{NotificationKey: "A-1:notify:ready-for-pickup:push", Title: "Order A-1 is ready", Body: "Pick it up at Berlin Mitte."},
		to:          func(p activities.Push, token string) activities.Push { p.Token = token; return p },
		recipient:   "fcm-token-ada-1",
		refused:     "fcm-token-" + sandbox.TokenUnregistered,
		refusedErr:  activities.ErrUnregistered,
		rateLimited: "fcm-token-" + sandbox.RecipientRateLimited,
		idShape:     "a message name projects/<project>/messages/<id>",
		validID:     func(id string) bool { return strings.HasPrefix(id, "projects/") && strings.Contains(id, "/messages/") },
		impls: []senderImpl[activities.Push]{
			{"sandbox", func(*testing.T) senderHarness[activities.Push] {
				s := &sandbox.Push{}
				return sandboxHarness(s.SendPush, s.Sent, func(m sandbox.SentPush) activities.Push { return m.Push }, &s.Faults)
			}},
			{"fcm", func(t *testing.T) senderHarness[activities.Push] {
				fake := newFCMFake(t)
				return fake.harness(newFCM(t, fake.srv.URL).SendPush)
			}},
		},
	}
}

// TestFCMErrorMapping: how each FCM answer reaches the activity. A 503 without a
// long Retry-After is left out: the SDK retries it four times itself (about 7s);
// so is a network error, which it retries as well.
func TestFCMErrorMapping(t *testing.T) {
	const token = "fcm-token-secret-1"
	checkErrorMappings(t, "application/json; charset=UTF-8", token, []errorMapping{
		{"404 UNREGISTERED", 404, nil, fcmUnregistered, activities.ErrUnregistered, -1, 0},
		{"400 INVALID_ARGUMENT", 400, nil, fcmInvalidArgument, activities.ErrInvalidRequest, -1, 0},
		{"403 SENDER_ID_MISMATCH", 403, nil, fcmError(403, "PERMISSION_DENIED", "SenderId mismatch", "SENDER_ID_MISMATCH"), activities.ErrInvalidRequest, -1, 0},
		{"401 THIRD_PARTY_AUTH_ERROR", 401, nil, fcmError(401, "UNAUTHENTICATED", "Auth error from APNS or Web Push Service", "THIRD_PARTY_AUTH_ERROR"), activities.ErrInvalidRequest, -1, 0},
		{"401 UNAUTHENTICATED is retried", 401, nil, `{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}`, nil, -1, 0},
		{"429 QUOTA_EXCEEDED with Retry-After", 429, map[string]string{"Retry-After": "10"}, fcmQuotaExceeded, nil, 10 * time.Second, 10 * time.Second},
		{"429 RESOURCE_EXHAUSTED without a hint", 429, nil, fcmQuotaExceeded, nil, 0, 0},
		{"500 INTERNAL", 500, nil, fcmInternal, nil, -1, 0},
		{"502 HTML", 502, map[string]string{"Content-Type": "text/html"}, "<html><body>502 Bad Gateway</body></html>", nil, -1, 0},
		// Longer than the SDK's 2-minute cap, so the SDK hands it over at once.
		{"503 UNAVAILABLE with a long Retry-After", 503, map[string]string{"Retry-After": "300"}, fcmError(503, "UNAVAILABLE", "The service is currently unavailable.", "UNAVAILABLE"), nil, 300 * time.Second, 300 * time.Second},
	}, func(t *testing.T, baseURL string) error {
		_, err := newFCM(t, baseURL).SendPush(t.Context(), activities.Push{NotificationKey: "A-1:notify:shipped:push", Token: token, Title: "t", Body: "b"})
		return err
	})
}

// Recorded FCM answers and the test project.
const (
	fcmProject         = "everywhere-test"
	fcmUnregistered    = `{"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}`
	fcmQuotaExceeded   = `{"error":{"code":429,"message":"Quota exceeded for quota metric 'Send requests' and limit 'Send requests per minute' of service 'fcm.googleapis.com'.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"QUOTA_EXCEEDED"}]}}`
	fcmInternal        = `{"error":{"code":500,"message":"Internal error encountered.","status":"INTERNAL","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"INTERNAL"}]}}`
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
// the first attempt of each notification key to a "ratelimit" token, 500 INTERNAL
// once its outage began (not 503, which the SDK retries for seconds).
type fcmFake struct {
	providerFake[activities.Push]
}

func newFCMFake(t *testing.T) *fcmFake {
	f := &fcmFake{}
	f.start(t, func(w http.ResponseWriter, r *http.Request) { f.serve(t, w, r) })
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
	const contentType = "application/json; charset=UTF-8"
	p := activities.Push{NotificationKey: key, Token: m.Token, Title: m.Notification.Title, Body: m.Notification.Body}
	switch v, n := f.judge(key, m.Token, strings.Contains(m.Token, sandbox.TokenUnregistered), p); v {
	case fakeOutage:
		writeAnswer(w, contentType, http.StatusInternalServerError, nil, fcmInternal)
	case fakeRefused:
		writeAnswer(w, contentType, http.StatusNotFound, nil, fcmUnregistered)
	case fakeRateLimited:
		writeAnswer(w, contentType, http.StatusTooManyRequests, map[string]string{"Retry-After": "1"}, fcmQuotaExceeded)
	default:
		w.Header().Set("Content-Type", contentType)
		_, _ = fmt.Fprintf(w, `{"name": "projects/%s/messages/0:15004153144552%02d%%31bd1c9631bd1c96"}`, fcmProject, n) // a short body fails the adapter's call, which the test sees
	}
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
