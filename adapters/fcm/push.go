// Package fcm sends app push notifications through Firebase Cloud Messaging
// (HTTP v1). It implements activities.PushSender and maps FCM's answers to the
// activities sentinels; nothing else belongs here.
package fcm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/errorutils"
	"firebase.google.com/go/v4/messaging"
	"google.golang.org/api/option"

	"github.com/everywherecommerce/fulfilment/activities"
)

// DataNotificationKey is the data key that carries our notification key to the
// app, so that it can drop a duplicate delivered after a retried send.
const DataNotificationKey = "notification_key"

// SendTimeout bounds one SendPush. The Google transport's client has no timeout of
// its own and the SDK retries network errors and 503s up to four times inside one
// call (about 7 s of back-off); 30 s leaves room for that and still ends a hung
// request well before a typical activity timeout.
const SendTimeout = 30 * time.Second

// Push sends app push notifications through FCM. It is safe for concurrent use.
type Push struct {
	client *messaging.Client
}

var _ activities.PushSender = (*Push)(nil)

// New builds the FCM client for a Firebase project. opts carry the credentials
// (option.WithCredentialsFile, or Application Default Credentials when none are
// given); tests pass option.WithEndpoint, option.WithoutAuthentication and
// option.WithHTTPClient. The project ID is required: without it the SDK would look
// in the environment, and adapters read nothing from there.
func New(ctx context.Context, projectID string, opts ...option.ClientOption) (*Push, error) {
	if projectID == "" {
		return nil, errors.New("fcm: project ID is required")
	}
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: projectID}, opts...)
	if err != nil {
		return nil, fmt.Errorf("fcm: app for project %s: %w", projectID, err)
	}
	c, err := app.Messaging(ctx)
	if err != nil {
		return nil, fmt.Errorf("fcm: messaging client for project %s: %w", projectID, err)
	}
	return &Push{client: c}, nil
}

// SendPush sends one notification to one device token and returns the message
// name ("projects/<project>/messages/<id>"). A token that is gone yields
// ErrUnregistered, which tells the caller to drop the push channel. FCM has no
// idempotency key: the notifications row guards against duplicates, and the key
// travels in the data so the app can drop one that slips through.
func (p *Push) SendPush(ctx context.Context, m activities.Push) (string, error) {
	if m.Token == "" || m.NotificationKey == "" || (m.Title == "" && m.Body == "") {
		return "", fmt.Errorf("fcm push %s: token, notification key and a title or body are required: %w", m.NotificationKey, activities.ErrInvalidRequest)
	}
	ctx, cancel := context.WithTimeout(ctx, SendTimeout)
	defer cancel()
	name, err := p.client.Send(ctx, &messaging.Message{
		Token:        m.Token,
		Notification: &messaging.Notification{Title: m.Title, Body: m.Body},
		Data:         map[string]string{DataNotificationKey: m.NotificationKey},
	})
	if err != nil {
		return "", classify(ctx, m.NotificationKey, err)
	}
	return name, nil
}

// sdkError keeps the SDK's error in the chain for errors.As while leaving its
// text, which can echo request fields (a token) back, out of the message.
type sdkError struct {
	status int
	code   string
	err    error
}

func (e sdkError) Error() string {
	if e.status == 0 {
		return "fcm " + e.code
	}
	return fmt.Sprintf("fcm status %d %s", e.status, e.code)
}
func (e sdkError) Unwrap() error { return e.err }

// classify maps the SDK's error to the activities sentinels:
//
//	UNREGISTERED (404)                         ErrUnregistered (permanent; drop the channel)
//	INVALID_ARGUMENT, SENDER_ID_MISMATCH,
//	THIRD_PARTY_AUTH_ERROR, other 4xx          ErrInvalidRequest (permanent)
//	QUOTA_EXCEEDED / RESOURCE_EXHAUSTED (429),
//	UNAVAILABLE (503) with Retry-After         *RetryAfterError
//	UNAVAILABLE, INTERNAL, UNAUTHENTICATED
//	(our credentials), network                 retryable
//	cancelled or expired ctx                   ctx.Err()
//
// The SDK's predicates use a type assertion, so they are asked about err itself,
// never a wrapped copy.
func classify(ctx context.Context, key string, err error) error {
	if ctx.Err() != nil {
		// The SDK turns a cancelled request into its own error and drops the cause.
		return fmt.Errorf("fcm push %s: %w", key, ctx.Err())
	}
	resp := errorutils.HTTPResponse(err)
	se := sdkError{code: code(err), err: err}
	if resp != nil {
		se.status = resp.StatusCode
	}
	switch {
	case messaging.IsUnregistered(err):
		return fmt.Errorf("fcm push %s: %w: %w", key, se, activities.ErrUnregistered)
	case messaging.IsQuotaExceeded(err), errorutils.IsResourceExhausted(err),
		(messaging.IsUnavailable(err) || errorutils.IsUnavailable(err)) && retryAfter(resp) > 0:
		return &activities.RetryAfterError{After: retryAfter(resp), Err: fmt.Errorf("fcm push %s: %w", key, se)}
	case messaging.IsInvalidArgument(err), messaging.IsSenderIDMismatch(err), messaging.IsThirdPartyAuthError(err):
		return fmt.Errorf("fcm push %s: %w: %w", key, se, activities.ErrInvalidRequest)
	case errorutils.IsUnauthenticated(err):
		// Our credentials are an operator's problem (an expired or rotated service
		// account); failing permanently would drop every push meanwhile.
		return fmt.Errorf("fcm push %s: %w", key, se)
	case errorutils.IsInvalidArgument(err), se.status >= 400 && se.status < 500:
		return fmt.Errorf("fcm push %s: %w: %w", key, se, activities.ErrInvalidRequest)
	}
	return fmt.Errorf("fcm push %s: %w", key, se) // INTERNAL, UNAVAILABLE, network: retryable
}

// code names the error for the message: FCM's own error code when it sent one,
// else the platform code (NOT_FOUND, INTERNAL, ...), else "error".
func code(err error) string {
	for _, c := range []struct {
		is   func(error) bool
		name string
	}{
		{messaging.IsUnregistered, "UNREGISTERED"},
		{messaging.IsQuotaExceeded, "QUOTA_EXCEEDED"},
		{messaging.IsSenderIDMismatch, "SENDER_ID_MISMATCH"},
		{messaging.IsThirdPartyAuthError, "THIRD_PARTY_AUTH_ERROR"},
		{messaging.IsInvalidArgument, "INVALID_ARGUMENT"},
		{messaging.IsUnavailable, "UNAVAILABLE"},
		{messaging.IsInternal, "INTERNAL"},
		{errorutils.IsInvalidArgument, "INVALID_ARGUMENT"},
		{errorutils.IsUnauthenticated, "UNAUTHENTICATED"},
		{errorutils.IsPermissionDenied, "PERMISSION_DENIED"},
		{errorutils.IsNotFound, "NOT_FOUND"},
		{errorutils.IsResourceExhausted, "RESOURCE_EXHAUSTED"},
		{errorutils.IsUnavailable, "UNAVAILABLE"},
		{errorutils.IsInternal, "INTERNAL"},
		{errorutils.IsDeadlineExceeded, "DEADLINE_EXCEEDED"},
		{errorutils.IsUnknown, "UNKNOWN"},
	} {
		if c.is(err) {
			return c.name
		}
	}
	return "error"
}

// retryAfter reads Retry-After (seconds or an HTTP date) from FCM's answer; zero
// when absent (the retry policy then decides).
func retryAfter(resp *http.Response) time.Duration {
	if resp == nil {
		return 0
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if secs, err := strconv.Atoi(v); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}
