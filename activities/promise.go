package activities

import (
	"strings"
	"time"
)

// PromiseReady is when an order will be ready at store: lead after placedAt on the
// same day if the store is open long enough (store stock), or lead after opening
// on the transferDays-th opening day after the order's day (a transfer from the
// distribution centre). Times are in the store's time zone; a store without hours
// is taken as always open.
func PromiseReady(store Location, placedAt time.Time, lead time.Duration, transferDays int) time.Time {
	loc, err := time.LoadLocation(store.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	local := placedAt.In(loc)
	if len(store.Hours) == 0 {
		return placedAt.Add(lead + time.Duration(transferDays)*24*time.Hour)
	}
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	if transferDays == 0 {
		if open, shut, ok := hoursOn(store, day); ok {
			start := local
			if start.Before(open) {
				start = open
			}
			if ready := start.Add(lead); !ready.After(shut) {
				return ready
			}
		}
		transferDays = 1 // too late today: the next opening day
	}
	for n := 0; n < 14; {
		day = day.AddDate(0, 0, 1)
		if open, _, ok := hoursOn(store, day); ok {
			n++
			if n == transferDays {
				return open.Add(lead)
			}
		}
	}
	return placedAt.Add(lead + time.Duration(transferDays)*24*time.Hour) // a store closed for two weeks
}

// hoursOn returns a day's opening and closing time, if the store opens that day.
func hoursOn(store Location, day time.Time) (open, shut time.Time, ok bool) {
	key := strings.ToLower(day.Weekday().String()[:3])
	from, to, found := strings.Cut(store.Hours[key], "-")
	if !found {
		return time.Time{}, time.Time{}, false
	}
	o, err1 := time.ParseInLocation("15:04", strings.TrimSpace(from), day.Location())
	c, err2 := time.ParseInLocation("15:04", strings.TrimSpace(to), day.Location())
	if err1 != nil || err2 != nil {
		return time.Time{}, time.Time{}, false
	}
	at := func(t time.Time) time.Time {
		return time.Date(day.Year(), day.Month(), day.Day(), t.Hour(), t.Minute(), 0, 0, day.Location())
	}
	return at(o), at(c), true
}
