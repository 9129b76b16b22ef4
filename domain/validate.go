package domain

import (
	"fmt"
	"regexp"
	"strings"
)

// FieldError names one bad field of an order and what is wrong with it. The
// starter answers 400 with a list of them, and the workflow's update validators
// return one, so that both speak of a field the same way.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is "field: message", the text an update validator's rejection carries.
func (e FieldError) Error() string { return e.Field + ": " + e.Message }

var (
	idPattern       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
	localePattern   = regexp.MustCompile(`^[a-z]{2}(-[A-Z]{2})?$`)
	// PhonePattern is E.164, the form SMS providers take.
	PhonePattern = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
)

// ValidID reports whether s is a valid order, customer, store or SKU ID.
func ValidID(s string) bool { return idPattern.MatchString(s) }

// ValidEmail reports whether s looks like an email address: something@something,
// at most 200 characters. The provider is the judge of the rest (a bounce).
func ValidEmail(s string) bool {
	at := strings.LastIndex(s, "@")
	return at >= 1 && at < len(s)-1 && len(s) <= maxFieldLength
}

// ValidLocale reports whether s is a language tag such as "de-DE" or "en".
func ValidLocale(s string) bool { return localePattern.MatchString(s) }

// Limits on an order's size: a checkout beyond them is a bug or an attack.
const (
	MaxLines       = 50
	MaxQuantity    = 99
	MaxUnitPrice   = 10_000_000 // 100 000.00 in a two-decimal currency
	maxFieldLength = 200
)

// ValidateOrder returns every bad field of the order, in field order. The starter
// uses it to answer 400 and the checkout update's validator to reject.
func ValidateOrder(o Order) []FieldError {
	var errs []FieldError
	bad := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	text := func(field, v string, required bool) {
		switch {
		case required && strings.TrimSpace(v) == "":
			bad(field, "is required")
		case len(v) > maxFieldLength:
			bad(field, "must be at most %d characters", maxFieldLength)
		}
	}
	if !idPattern.MatchString(o.OrderID) {
		bad("order_id", "must be 1-64 letters, digits, '-' or '_', starting with a letter or digit")
	}
	if !idPattern.MatchString(o.Customer.ID) {
		bad("customer.id", "must be 1-64 letters, digits, '-' or '_', starting with a letter or digit")
	}
	text("customer.name", o.Customer.Name, true)
	if !ValidEmail(o.Customer.Email) {
		bad("customer.email", "must be an email address")
	}
	if o.Customer.Phone != "" && !PhonePattern.MatchString(o.Customer.Phone) {
		bad("customer.phone", "must be a phone number in E.164 form such as \"+4915112345678\"")
	}
	if !localePattern.MatchString(o.Customer.Locale) {
		bad("customer.locale", "must be a language tag such as \"de-DE\" or \"en\"")
	}
	text("customer.time_zone", o.Customer.TimeZone, true)
	switch o.Method {
	case MethodShipToStore:
		if !idPattern.MatchString(o.StoreID) {
			bad("store_id", "is required for ship_to_store")
		}
	case MethodHomeDelivery:
		validateAddress(o.Address, bad, text)
	default:
		bad("method", "must be \"ship_to_store\" or \"home_delivery\"")
	}
	if !currencyPattern.MatchString(o.Currency) {
		bad("currency", "must be an ISO 4217 code such as \"EUR\"")
	}
	text("payment_intent_id", o.PaymentIntentID, true)
	validateLines(o.Lines, bad, text)
	return errs
}

func validateAddress(a *Address, bad func(string, string, ...any), text func(string, string, bool)) {
	if a == nil {
		bad("address", "is required for home_delivery")
		return
	}
	text("address.name", a.Name, true)
	text("address.line1", a.Line1, true)
	text("address.line2", a.Line2, false)
	text("address.postal_code", a.PostalCode, true)
	text("address.city", a.City, true)
	if len(a.Country) != 2 || strings.ToUpper(a.Country) != a.Country {
		bad("address.country", "must be an ISO 3166-1 alpha-2 code such as \"DE\"")
	}
}

func validateLines(lines []Line, bad func(string, string, ...any), text func(string, string, bool)) {
	if len(lines) == 0 || len(lines) > MaxLines {
		bad("lines", "must hold 1 to %d lines", MaxLines)
	}
	seen := make(map[string]bool, len(lines))
	for i, l := range lines {
		p := fmt.Sprintf("lines[%d]", i)
		switch {
		case !idPattern.MatchString(l.SKU):
			bad(p+".sku", "must be 1-64 letters, digits, '-' or '_'")
		case seen[l.SKU]:
			bad(p+".sku", "repeats SKU %s: use one line per SKU", l.SKU)
		}
		seen[l.SKU] = true
		text(p+".name", l.Name, true)
		if l.Quantity < 1 || l.Quantity > MaxQuantity {
			bad(p+".quantity", "must be between 1 and %d", MaxQuantity)
		}
		if l.UnitPrice < 0 || l.UnitPrice > MaxUnitPrice {
			bad(p+".unit_price", "must be between 0 and %d minor units", MaxUnitPrice)
		}
	}
}
