package records

import "time"

// KPI granularities: UTC hour and UTC day buckets.
const (
	GranularityHour = "hour"
	GranularityDay  = "day"
)

// KPIAll is the store_id or method of a row that totals over all stores or all
// methods.
const KPIAll = "*"

// KPIValue is one computed KPI for a store, a method and a UTC bucket
// (docs/kpis.md). Numerator and Denominator are set for rates; Samples is how
// many records went into the value.
type KPIValue struct {
	KPI         string    `json:"kpi"`
	StoreID     string    `json:"store_id"`
	Method      string    `json:"method"`
	Granularity string    `json:"granularity"`
	BucketStart time.Time `json:"bucket_start"`
	Value       float64   `json:"value"`
	Numerator   *float64  `json:"numerator,omitempty"`
	Denominator *float64  `json:"denominator,omitempty"`
	Samples     int64     `json:"samples"`
	ComputedAt  time.Time `json:"computed_at"`
}

// KPIFilter selects KPI values for GET /v1/kpis; empty fields match all. From is
// inclusive and To exclusive on the bucket start.
type KPIFilter struct {
	KPIs        []string
	StoreID     string
	Method      string
	Granularity string
	From, To    time.Time
	Limit       int
}

// KPIWindow is what one recomputation covers: the hour buckets from HoursFrom
// and the day buckets from DaysFrom (UTC bucket starts), stamped At.
type KPIWindow struct {
	HoursFrom time.Time `json:"hours_from"`
	DaysFrom  time.Time `json:"days_from"`
	At        time.Time `json:"at"`
}

// NewKPIWindow is the sliding window ending at now: the last hours hour buckets
// and the last days day buckets, the current ones included.
func NewKPIWindow(now time.Time, hours, days int) KPIWindow {
	now = now.UTC()
	return KPIWindow{
		HoursFrom: now.Truncate(time.Hour).Add(-time.Duration(hours-1) * time.Hour),
		DaysFrom:  time.Date(now.Year(), now.Month(), now.Day()-(days-1), 0, 0, 0, 0, time.UTC),
		At:        now,
	}
}

// KPINames are the KPIs computed (docs/kpis.md), besides the message counts
// messages_<status>_<channel> (ValidKPI).
func KPINames() []string {
	return []string{
		"orders_placed", "payment_decline_rate", "cancellations", "cancellation_rate", "expired_pickups",
		"pickup_expiry_rate", "ready_on_time_rate", "ready_early_rate",
		"transfer_time_p50", "transfer_time_p90", "late_transfer_rate", "placed_to_ready_p50", "placed_to_ready_p90",
		"pickups", "time_to_pickup_p50", "time_to_pickup_p90",
		"deliveries", "delivery_time_p50", "delivery_time_p90", "review_requests",
		"time_to_pick_p50", "time_to_pick_p90", "picking_sla_miss_rate", "short_picks", "short_pick_rate",
		"carrier_problems", "orders_needing_attention", "attention_age_p50", "attention_age_max", "marketing_consent_rate",
		"message_failure_rate_email", "message_failure_rate_sms", "message_failure_rate_push", "email_bounce_rate",
		"messages_bounced_email", "messages_bounced_sms",
	}
}

// KPIMessageStatuses and KPIMessageChannels make the message counts'
// names: messages_<status>_<channel>, e.g. messages_undeliverable_email.
var (
	kpiMessageStatuses = []string{"sent", "failed", "undeliverable", "unconfirmed"}
	kpiMessageChannels = []string{"email", "sms", "push"}
)

// ValidKPI reports whether name is a KPI that is computed.
func ValidKPI(name string) bool {
	for _, n := range KPINames() {
		if n == name {
			return true
		}
	}
	for _, st := range kpiMessageStatuses {
		for _, ch := range kpiMessageChannels {
			if name == "messages_"+st+"_"+ch {
				return true
			}
		}
	}
	return false
}
