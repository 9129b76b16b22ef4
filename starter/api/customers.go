package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// maxPushToken bounds an FCM registration token (they are about 160 characters).
const maxPushToken = 4096

// preferencesBody is the body of PUT /v1/customers/{id}/preferences: the whole
// set of a customer's contact preferences (what is left out is cleared).
type preferencesBody struct {
	Email            string   `json:"email"`
	Phone            string   `json:"phone"`
	PushToken        string   `json:"push_token"`
	Locale           string   `json:"locale"`
	TimeZone         string   `json:"time_zone"`
	MarketingConsent bool     `json:"marketing_consent"`
	Channels         []string `json:"channels"`
}

// preferencesResponse is what the customer's preferences are now. The push token
// is a credential of the device: the answer only says whether there is one.
type preferencesResponse struct {
	CustomerID       string    `json:"customer_id"`
	Email            string    `json:"email"`
	Phone            string    `json:"phone,omitempty"`
	AppInstalled     bool      `json:"app_installed"`
	Locale           string    `json:"locale"`
	TimeZone         string    `json:"time_zone"`
	MarketingConsent bool      `json:"marketing_consent"`
	Channels         []string  `json:"channels"`
	UpdatedAt        time.Time `json:"updated_at"`
}

// validateContact adds the errors of the contact fields shared by the checkout and
// the preferences API: the push token and the allowed channels.
func validateContact(prefix, pushToken string, channels []string, errs *[]domain.FieldError) {
	if len(pushToken) > maxPushToken {
		*errs = append(*errs, domain.FieldError{Field: prefix + "push_token", Message: fmt.Sprintf("must be at most %d characters", maxPushToken)})
	}
	if channels == nil {
		return
	}
	email, seen := false, map[string]bool{}
	for i, ch := range channels {
		switch {
		case !domain.Channel(ch).Valid():
			*errs = append(*errs, domain.FieldError{Field: fmt.Sprintf("%schannels[%d]", prefix, i), Message: `must be "email", "sms" or "push"`})
		case seen[ch]:
			*errs = append(*errs, domain.FieldError{Field: fmt.Sprintf("%schannels[%d]", prefix, i), Message: "is listed twice"})
		}
		seen[ch], email = true, email || domain.Channel(ch) == domain.ChannelEmail
	}
	if !email {
		*errs = append(*errs, domain.FieldError{Field: prefix + "channels", Message: `must include "email": order messages always go by email`})
	}
}

// putPreferences replaces a customer's contact preferences (checkout and support).
// Consent withdrawn here holds for every later marketing message, including the
// review request of an order already placed: notifications read it at send time.
func (s *Server) putPreferences(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id") // a customer ID: auth has checked it (checkPathIDs)
	var body preferencesBody
	if err := decode(w, r, &body); err != nil {
		s.problem(w, r, err)
		return
	}
	var errs []domain.FieldError
	bad := func(field, msg string) { errs = append(errs, domain.FieldError{Field: field, Message: msg}) }
	if !domain.ValidEmail(body.Email) {
		bad("email", "must be an email address")
	}
	if body.Phone != "" && !domain.PhonePattern.MatchString(body.Phone) {
		bad("phone", `must be a phone number in E.164 form such as "+4915112345678"`)
	}
	if !domain.ValidLocale(body.Locale) {
		bad("locale", `must be a language tag such as "de-DE" or "en"`)
	}
	if !validTimeZone(body.TimeZone) {
		bad("time_zone", `must be an IANA time zone such as "Europe/Berlin"`)
	}
	if body.Channels == nil {
		bad("channels", `is required: a list of "email", "sms", "push" that includes "email"`)
	}
	validateContact("", body.PushToken, body.Channels, &errs)
	if len(errs) > 0 {
		s.problem(w, r, validationProblem("Invalid preferences", errs))
		return
	}
	prefs := records.ContactPreferences{
		CustomerID: id, Email: body.Email, Phone: body.Phone, PushToken: body.PushToken, Locale: body.Locale,
		TimeZone: body.TimeZone, MarketingConsent: body.MarketingConsent, Channels: body.Channels, UpdatedAt: s.cfg.Now().UTC(),
	}
	if err := s.store.SavePreferences(r.Context(), prefs); err != nil {
		s.problem(w, r, unavailable("Cannot save the preferences now.", err))
		return
	}
	s.logger.Info("preferences changed", "by", principalFrom(r.Context()).Subject, "marketing_consent", body.MarketingConsent)
	saved, err := s.store.Preferences(r.Context(), id)
	if err != nil && !errors.Is(err, activities.ErrNotFound) {
		s.problem(w, r, unavailable("Cannot read the preferences now.", err))
		return
	}
	writeJSON(w, http.StatusOK, preferencesResponse{
		CustomerID: id, Email: saved.Email, Phone: saved.Phone, AppInstalled: saved.PushToken != "", Locale: saved.Locale,
		TimeZone: saved.TimeZone, MarketingConsent: saved.MarketingConsent, Channels: saved.Channels, UpdatedAt: saved.UpdatedAt,
	})
}
