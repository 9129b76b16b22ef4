package journeygen

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Rates are the base behaviour: probabilities of each outcome and the typical
// durations. Shifts multiply them.
type Rates struct {
	Decline   float64 `json:"decline"`    // payment declined at checkout
	Cancel    float64 `json:"cancel"`     // the customer cancels (through support) before handover or shipping
	ShortPick float64 `json:"short_pick"` // one piece could not be picked (nothing at all: cancelled)
	SLAMiss   float64 `json:"sla_miss"`   // picked after due_at (created + PickingSLA)
	// LateReady is the probability that a store-picked ship-to-store order is
	// ready after its promise; at least SLAMiss (a pick after its SLA is also
	// late: the promise is 2 hours, the SLA a day).
	LateReady float64 `json:"late_ready"`
	// LateTransfer and EarlyTransfer: a transferred order ready after its
	// promise, or a day or more before it.
	LateTransfer  float64 `json:"late_transfer"`
	EarlyTransfer float64 `json:"early_transfer"`
	Expiry        float64 `json:"expiry"` // a ready order never collected
	// Message fates: an email or SMS bounces or fails after it was sent (a
	// SendGrid or Twilio webhook); a send fails (status failed) or is refused for
	// good (undeliverable); the rest is sent.
	Bounce        float64 `json:"bounce"`
	SMSFailure    float64 `json:"sms_failure"`
	SendFailed    float64 `json:"send_failed"`
	Undeliverable float64 `json:"undeliverable"`
	// Customers: marketing consent (review requests go only then), the app
	// (push instead of SMS), a phone number.
	Consent float64 `json:"consent"`
	App     float64 `json:"app"`
	Phone   float64 `json:"phone"`
	// PickupMedian is the median time from ready to pickup (log-normal, sd of
	// the log 1.0, capped by the pickup window); DeliveryMin and DeliveryMax
	// bound the carrier's time from label to doorstep.
	PickupMedian time.Duration `json:"pickup_median"`
	DeliveryMin  time.Duration `json:"delivery_min"`
	DeliveryMax  time.Duration `json:"delivery_max"`
	// Policy: the workflow's timings (workflows.DefaultPolicy).
	PickingSLA     time.Duration `json:"picking_sla"`
	PickupWindow   time.Duration `json:"pickup_window"`
	ReviewDelay    time.Duration `json:"review_delay"`
	StoreReadyLead time.Duration `json:"store_ready_lead"`
	TransferDays   int           `json:"transfer_days"`
	// DailySD is the standard deviation of the day's volume factor (gamma
	// distributed, mean 1): the overdispersion of daily counts over Poisson.
	DailySD float64 `json:"daily_sd"`
	// RateDaySD is the standard deviation of a factor (gamma, mean 1) drawn
	// for each store, UTC day and probability (declines, SLA misses, lateness,
	// expiries, bounces, SMS failures): real rates wander from day to day more
	// than binomial noise alone, and a detector must not take that for a shift.
	RateDaySD float64 `json:"rate_day_sd"`
}

// DefaultRates: the brief's figures (3 % declines, 8 % SLA misses, ~92 % ready
// on time, 5 % expired pickups, 1.5 % email bounces) and the production policy.
func DefaultRates() Rates {
	const day = 24 * time.Hour
	return Rates{
		Decline: 0.03, Cancel: 0.01, ShortPick: 0.02, SLAMiss: 0.08,
		LateReady: 0.10, LateTransfer: 0.06, EarlyTransfer: 0.12, Expiry: 0.05,
		Bounce: 0.015, SMSFailure: 0.01, SendFailed: 0.02, Undeliverable: 0.01,
		Consent: 0.55, App: 0.35, Phone: 0.85,
		PickupMedian: 20 * time.Hour, DeliveryMin: day, DeliveryMax: 3 * day,
		PickingSLA: day, PickupWindow: 7 * day, ReviewDelay: 7 * day, StoreReadyLead: 2 * time.Hour, TransferDays: 2,
		DailySD: 0.10, RateDaySD: 0.10,
	}
}

func (r Rates) validate() error {
	var errs []error
	for name, p := range map[string]float64{
		"decline": r.Decline, "cancel": r.Cancel, "short_pick": r.ShortPick, "sla_miss": r.SLAMiss,
		"late_ready": r.LateReady, "late_transfer": r.LateTransfer, "early_transfer": r.EarlyTransfer,
		"expiry": r.Expiry, "bounce": r.Bounce, "sms_failure": r.SMSFailure, "send_failed": r.SendFailed,
		"undeliverable": r.Undeliverable, "consent": r.Consent, "app": r.App, "phone": r.Phone, "daily_sd": r.DailySD,
		"rate_day_sd": r.RateDaySD,
	} {
		if p < 0 || p > 1 || math.IsNaN(p) {
			errs = append(errs, fmt.Errorf("rate %s %g must be 0 to 1", name, p))
		}
	}
	if r.LateTransfer+r.EarlyTransfer > 1 || r.SendFailed+r.Undeliverable > 1 {
		errs = append(errs, errors.New("rates late_transfer + early_transfer and send_failed + undeliverable must be at most 1"))
	}
	if r.PickupMedian <= 0 || r.DeliveryMin <= 0 || r.DeliveryMax < r.DeliveryMin || r.PickingSLA <= 0 ||
		r.PickupWindow <= 0 || r.ReviewDelay <= 0 || r.StoreReadyLead <= 0 || r.TransferDays < 1 {
		errs = append(errs, errors.New("rates: durations must be positive (delivery_max at least delivery_min, transfer_days at least 1)"))
	}
	return errors.Join(errs...)
}

// hourProfile is the share of a day's orders in each local hour: quiet nights,
// a morning ramp, a busy day and the evening peak (19–21 h). Sums to 1.
var hourProfile = normalised([]float64{
	0.30, 0.20, 0.12, 0.08, 0.08, 0.15, 0.30, 0.55, 0.85, 1.05, 1.20, 1.30,
	1.35, 1.30, 1.25, 1.25, 1.30, 1.45, 1.70, 1.95, 2.00, 1.70, 1.10, 0.60,
})

// weekdayFactor multiplies a day's mean volume, Sunday first: Saturday is the
// peak, Sunday the low (stores closed, online only). Means 1 over a week.
var weekdayFactor = scaled([]float64{0.62, 0.98, 0.94, 0.95, 1.02, 1.14, 1.35})

func normalised(v []float64) []float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = x / s
	}
	return out
}

func scaled(v []float64) []float64 {
	out := normalised(v)
	for i := range out {
		out[i] *= float64(len(v))
	}
	return out
}

// WeekdayFactor and HourShare expose the seasonality for tests and the doc.
func WeekdayFactor(d time.Weekday) float64 { return weekdayFactor[d] }

// HourShare is the share of a day's orders placed in the local hour h.
func HourShare(h int) float64 { return hourProfile[h] }

// storeOpen and storeClose are the stores' opening hours (local), Monday to
// Saturday; Sunday closed. They shape the promise, as activities.PromiseReady
// does with a store's hours.
const storeOpen, storeClose = 10, 20
