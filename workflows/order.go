package workflows

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
)

// TaskQueue is the default task queue the worker polls and the starter starts
// orders on (FULFILMENT_TASK_QUEUE overrides it in both).
const TaskQueue = "fulfilment"

// WorkflowType is the registered name of OrderFulfilment: part of every history,
// so it never changes.
const WorkflowType = "OrderFulfilment"

// WorkflowID is the order's workflow ID: a function of the business key, so the
// same order can never run twice at once.
func WorkflowID(orderID string) string { return "order:" + orderID }

// Order is what the checkout service sends. It is personal data: payloads are
// encrypted by the payload codec.
type Order struct {
	OrderID         string              `json:"order_id"`
	Customer        activities.Customer `json:"customer"`
	Method          activities.Method   `json:"method"`
	StoreID         string              `json:"store_id,omitempty"`
	Address         *activities.Address `json:"address,omitempty"`
	Currency        string              `json:"currency"`
	PaymentIntentID string              `json:"payment_intent_id"`
	Lines           []activities.Line   `json:"lines"`
	PlacedAt        time.Time           `json:"placed_at"`
}

// Total is the order's value in minor units.
func (o Order) Total() int64 {
	var t int64
	for _, l := range o.Lines {
		t += l.Total()
	}
	return t
}

// Items is the number of pieces ordered.
func (o Order) Items() int {
	n := 0
	for _, l := range o.Lines {
		n += l.Quantity
	}
	return n
}

// Policy holds the order's timings and allocation rules. The starter fills it from
// configuration; it travels in the workflow input so a change affects new orders
// only, and tests shrink a week to seconds.
type Policy struct {
	// DistributionCentre is the location that serves home deliveries and ship-to-store
	// orders the pickup store cannot serve from its own stock.
	DistributionCentre string `json:"distribution_centre"`
	// PickingSLA is how long picking may take before the order needs attention.
	PickingSLA time.Duration `json:"picking_sla"`
	// TransferTimeout is how long a store transfer may travel before it needs attention.
	TransferTimeout time.Duration `json:"transfer_timeout"`
	// PickupWindow is how long a ready order waits for the customer.
	PickupWindow time.Duration `json:"pickup_window"`
	// PickupReminders are the times after ready at which an uncollected order's
	// customer is reminded; extending the deadline moves them with it.
	PickupReminders []time.Duration `json:"pickup_reminders"`
	// DeliveryTimeout is how long a parcel may travel before it needs attention.
	DeliveryTimeout time.Duration `json:"delivery_timeout"`
	// ReviewDelay is the wait between handover or delivery and the review request.
	ReviewDelay time.Duration `json:"review_delay"`
	// QuietHours, in the customer's time zone, defer messages that can wait (the
	// review request); equal From and To switch them off.
	QuietHours activities.QuietHours `json:"quiet_hours"`
	// StoreReadyLead is the promised time from checkout to ready when the pickup
	// store has the goods (within its opening hours); TransferDays the store's
	// opening days a transfer from the distribution centre takes.
	StoreReadyLead time.Duration `json:"store_ready_lead"`
	TransferDays   int           `json:"transfer_days"`
	// StuckAfter is how long a step's activity may keep failing with retryable
	// errors (an outage) before the order needs attention; it keeps retrying and
	// the flag clears when it succeeds. 0 means DefaultStuckAfter.
	StuckAfter time.Duration `json:"stuck_after,omitempty"`
}

// DefaultPolicy is the production policy: a day to pick, a week to collect, a week
// until the review request.
func DefaultPolicy() Policy {
	const day = 24 * time.Hour
	return Policy{
		DistributionCentre: "dc-erfurt",
		PickingSLA:         day,
		TransferTimeout:    5 * day,
		PickupWindow:       7 * day,
		PickupReminders:    []time.Duration{2 * day, 5 * day},
		DeliveryTimeout:    10 * day,
		ReviewDelay:        7 * day,
		QuietHours:         activities.DefaultQuietHours(),
		StoreReadyLead:     2 * time.Hour,
		TransferDays:       2,
		StuckAfter:         DefaultStuckAfter,
	}
}

// Input is the workflow's input.
type Input struct {
	Order  Order  `json:"order"`
	Policy Policy `json:"policy"`
	// RequestHash is the checkout service's request fingerprint, returned with the
	// checkout result so a different body for the same order can be told apart.
	RequestHash string `json:"request_hash"`
	// PlacedBy is the checkout service that placed the order (its token's
	// subject), recorded as the actor of the first stage.
	PlacedBy string `json:"placed_by,omitempty"`
}

// FieldError names one bad field of an order and what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

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
	case activities.MethodShipToStore:
		if !idPattern.MatchString(o.StoreID) {
			bad("store_id", "is required for ship_to_store")
		}
	case activities.MethodHomeDelivery:
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

func validateAddress(a *activities.Address, bad func(string, string, ...any), text func(string, string, bool)) {
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

func validateLines(lines []activities.Line, bad func(string, string, ...any), text func(string, string, bool)) {
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
