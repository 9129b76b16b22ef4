package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/twilio/twilio-go/client"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

// twilioSignatureHeader carries Twilio's signature: base64 HMAC-SHA1, under the
// account's auth token, of the public URL followed by every form parameter's name
// and value in name order.
const twilioSignatureHeader = "X-Twilio-Signature"

// twilioFailures are the terminal message statuses after which the number is not
// worth another try. Queued, sent and delivered change nothing.
var twilioFailures = map[string]bool{"failed": true, "undelivered": true}

// errNoPublicURL is the configuration error of a Twilio route without PublicURL:
// Twilio signs the public URL, which the starter cannot know by itself.
var errNoPublicURL = errors.New("twilio webhook: TwilioAuthToken is set but PublicURL is not an absolute URL")

// twilioWebhook handles SMS status callbacks (form-encoded: MessageSid,
// MessageStatus, ErrorCode, ...). A failed or undelivered message adds a journey
// entry and marks the customer's SMS channel undeliverable, once per message and
// status.
func (s *Server) twilioWebhook(w http.ResponseWriter, r *http.Request) {
	base, err := url.Parse(s.cfg.PublicURL)
	if err != nil || !base.IsAbs() || base.Host == "" {
		s.problem(w, r, errNoPublicURL)
		return
	}
	body, err := readWebhookBody(w, r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		s.problem(w, r, malformedEvent("The body must be form-encoded."))
		return
	}
	// Twilio signs with the first value of each parameter, as the SDK validates.
	params := make(map[string]string, len(form))
	for k, v := range form {
		params[k] = v[0]
	}
	// The URL Twilio posted to: our public base (behind the proxy that terminates
	// TLS) with the request's path and query.
	signedURL := strings.TrimSuffix(s.cfg.PublicURL, "/") + r.URL.RequestURI()
	validator := client.NewRequestValidator(s.cfg.TwilioAuthToken)
	if !validator.Validate(signedURL, params, r.Header.Get(twilioSignatureHeader)) {
		s.problem(w, r, badSignature())
		return
	}
	sid, status := params["MessageSid"], params["MessageStatus"]
	ref := webhookEvent{provider: providerTwilio, eventType: "message." + status, eventID: sid + ":" + status}
	if sid == "" || !twilioFailures[status] {
		s.ignored(ref, "not a failed message")
		acknowledged(w)
		return
	}
	if !plainRefs(sid) {
		s.problem(w, r, malformedEvent("MessageSid must be text without control characters."))
		return
	}
	err = s.handleOnce(r.Context(), ref, func(ctx context.Context) error {
		rec, err := s.store.NotificationByMessageID(ctx, sid)
		if err != nil {
			return s.unrouted(ref, err)
		}
		return s.undeliverable(ctx, ref, rec.OrderID, domain.ChannelSMS, activities.JourneyEntry{
			OrderID: rec.OrderID, Kind: activities.EntryNotification, Key: "webhook:twilio:" + ref.eventID,
			Detail: twilioDetail(status, params["ErrorCode"]), Actor: providerTwilio, At: s.cfg.Now().UTC(),
		})
	})
	if err != nil {
		s.problem(w, r, err)
		return
	}
	acknowledged(w)
}

// twilioDetail words the journey entry like SendGrid's ("email bounced"):
// "sms undelivered (error 30003)". Twilio's error code is a short number;
// anything else is left out.
func twilioDetail(status, code string) string {
	detail := "sms " + status
	if code != "" && len(code) <= 6 && strings.Trim(code, "0123456789") == "" {
		detail += " (error " + code + ")"
	}
	return detail
}
