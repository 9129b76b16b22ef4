package records

import "time"

// ContactPreferences is how a customer wants to hear from us, as the checkout and
// PUT /v1/customers/{id}/preferences write it: kept apart from any one order so
// that consent can change after checkout.
type ContactPreferences struct {
	CustomerID       string
	Email            string
	Phone            string
	Locale           string
	TimeZone         string
	MarketingConsent bool
	// PushToken is the app's FCM registration token; empty when there is no app.
	PushToken string
	// Channels the customer allows; empty means all (email, sms, push).
	Channels  []string
	UpdatedAt time.Time
	// FromCheckout marks a checkout's write: an empty push token and no channels
	// keep what is stored (a web checkout says nothing about the app), where the
	// preferences API replaces everything.
	FromCheckout bool
}
