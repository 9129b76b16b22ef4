package activities

import "time"

// QuietHours is a daily window, in the customer's time zone, in which messages
// that can wait are deferred. From > To wraps midnight (21:00–08:00).
type QuietHours struct {
	From time.Duration `json:"from"` // since midnight
	To   time.Duration `json:"to"`
}

// DefaultQuietHours is 21:00–08:00.
func DefaultQuietHours() QuietHours { return QuietHours{From: 21 * time.Hour, To: 8 * time.Hour} }

// OutsideQuietHours returns t, or the end of the quiet hours t falls into, in the
// time zone tz (UTC if unknown).
func OutsideQuietHours(t time.Time, tz string, q QuietHours) time.Time {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	local := t.In(loc)
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	since := local.Sub(midnight)
	at := func(day time.Time, d time.Duration) time.Time {
		return time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, loc).Add(d)
	}
	switch {
	case q.From == q.To:
		return t
	case q.From > q.To && since >= q.From: // evening part of a window over midnight
		return at(midnight.AddDate(0, 0, 1), q.To)
	case q.From > q.To && since < q.To: // morning part
		return at(midnight, q.To)
	case q.From < q.To && since >= q.From && since < q.To:
		return at(midnight, q.To)
	}
	return t
}
