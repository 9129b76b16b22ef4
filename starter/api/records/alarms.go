package records

import "time"

// Alarm is one episode of the alarm bell (docs/alarms.md): a signal of a store
// (or of all stores, "*") that moved away from its own baseline, from the end
// of the first window that showed it until the window in which it had returned.
type Alarm struct {
	ID     int64  `json:"id"`
	Signal string `json:"signal"`
	// KPI is the KPI the signal is read from (docs/kpis.md).
	KPI     string `json:"kpi"`
	StoreID string `json:"store_id"`
	// Direction is "up" (the signal rose) or "down" (it fell).
	Direction  string     `json:"direction"`
	OpenedAt   time.Time  `json:"opened_at"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
	// WindowHours is the length of the window that showed the shift; it ends at
	// OpenedAt.
	WindowHours int `json:"window_hours"`
	// Observed and Expected are the window's value and the baseline's value for
	// the same window: a count, a rate (0-1) or seconds, as the signal's KPI.
	Observed float64 `json:"observed"`
	Expected float64 `json:"expected"`
	// ObservedEvents and ExpectedEvents are the counted events behind them (the
	// rate's numerator, the count, or the durations' samples); Volume is the
	// rate's denominator in the window.
	ObservedEvents float64 `json:"observed_events"`
	ExpectedEvents float64 `json:"expected_events"`
	Volume         float64 `json:"volume"`
	// Baseline says how Expected was formed, e.g. "same weekday and hour over
	// the previous 4 weeks".
	Baseline string `json:"baseline"`
	// BaselineParts is Baseline in parts, for the console to say it in the
	// reader's language (kpis/chart BaselineText); nil for episodes recorded
	// before the parts were kept, which show Baseline as it was written.
	BaselineParts *BaselineParts `json:"-"`
	PValue        float64        `json:"p_value"`
	// PeakRatio is the largest observed/expected of the episode so far (the
	// smallest for a signal that fell).
	PeakRatio       float64   `json:"peak_ratio"`
	LastEvaluatedAt time.Time `json:"last_evaluated_at"`
	LastObserved    float64   `json:"last_observed"`
	LastExpected    float64   `json:"last_expected"`
}

// BaselineParts are what a baseline was formed from, by the signal's kind:
//   - BaselineWeekday: a count against the same weekday and hours of the
//     previous Span weeks;
//   - BaselineRate: a rate against the store's Events of Volume over the
//     previous Span days, by hour of the week;
//   - BaselineLevel: a duration against the store's level over the previous
//     Span days, by hour of the week.
//
// Spread is the dispersion (weekday, rate) or the day-to-day spread as a factor
// (level).
type BaselineParts struct {
	Kind   string  `json:"kind"`
	Span   int     `json:"span"`
	Events float64 `json:"events,omitempty"`
	Volume float64 `json:"volume,omitempty"`
	Spread float64 `json:"spread"`
}

// The kinds of baseline.
const (
	BaselineWeekday = "weekday"
	BaselineRate    = "rate"
	BaselineLevel   = "level"
)

// Open reports whether the episode is still going on.
func (a Alarm) Open() bool { return a.ResolvedAt == nil }

// AlarmFilter selects alarms for GET /v1/alarms and the console; empty fields
// match all. From and To bound OpenedAt (To exclusive); an episode still open
// at From is included too when OpenOnly is false.
type AlarmFilter struct {
	StoreID  string
	Signal   string
	OpenOnly bool
	From     time.Time
	To       time.Time
	Limit    int
}

// AlarmState is what the detector starts from: how far it has evaluated (zero
// before the first evaluation) and the episodes that may matter (open ones and
// those resolved since the time asked for).
type AlarmState struct {
	EvaluatedThrough time.Time
	Known            []Alarm
}

// AlarmEpisode is an episode as an evaluation left it: New when it opened in
// the evaluation, NewlyResolved when it resolved in it.
type AlarmEpisode struct {
	Alarm         Alarm
	New           bool
	NewlyResolved bool
}

// AlarmApply is one evaluation's outcome, written in one transaction if the
// watermark is still ExpectedThrough: the episodes, a notification row per
// opened or resolved episode and channel (status NotifyStatus), and the new
// watermark Through. ResetFrom, when set, first removes the alarms opened at
// or after it and reopens those resolved at or after it (a replay).
type AlarmApply struct {
	ExpectedThrough time.Time
	Through         time.Time
	ResetFrom       time.Time
	Episodes        []AlarmEpisode
	Channels        []string
	NotifyStatus    string
}

// AlarmNotification is one message about an alarm to send: the alarm, whether
// it opened or resolved, the channel (webhook, email), and how many attempts
// were made (this one included).
type AlarmNotification struct {
	Alarm    Alarm
	Event    string
	Channel  string
	Attempts int
}

// WorkflowTaskFailure is an order whose workflow task failed: the worker could
// not run its workflow code (a panic, or a non-determinism error after a
// deploy). The server retries the task; the order makes no progress meanwhile.
type WorkflowTaskFailure struct {
	WorkflowID    string    `json:"workflow_id"`
	RunID         string    `json:"run_id"`
	WorkflowType  string    `json:"workflow_type"`
	Attempt       int       `json:"attempt"`
	Error         string    `json:"error"`
	FirstFailedAt time.Time `json:"first_failed_at"`
	LastFailedAt  time.Time `json:"last_failed_at"`
}
