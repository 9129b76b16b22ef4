package messages

import (
	"fmt"
	"strings"
	"time"
)

// Lang reduces a locale ("de-DE", "de_AT", "DE") to the language of its templates
// and formats: "de" or "en" (every other language is formatted as English).
func Lang(locale string) string {
	l := strings.ToLower(locale)
	if i := strings.IndexAny(l, "-_"); i >= 0 {
		l = l[:i]
	}
	if l == "de" {
		return "de"
	}
	return "en"
}

var (
	weekdays = map[string][7]string{
		"en": {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
		"de": {"Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"},
	}
	months = map[string][12]string{
		"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
		"de": {"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"},
	}
	// symbols of the currencies written with a symbol; others are written by code.
	symbols = map[string]string{"EUR": "€", "USD": "$", "GBP": "£"}
	// zeroDecimal currencies have no minor unit.
	zeroDecimal = map[string]bool{"JPY": true, "KRW": true}
)

// Money formats an amount in minor units: "249,00 €" in German, "€249.00" in
// English; a currency without a symbol is written by its code ("249,00 CHF").
func Money(locale string, minor int64, currency string) string {
	lang := Lang(locale)
	neg := minor < 0
	if neg {
		minor = -minor
	}
	whole, frac := minor/100, fmt.Sprintf("%02d", minor%100)
	if zeroDecimal[currency] {
		whole, frac = minor, ""
	}
	group, decimal := ",", "."
	if lang == "de" {
		group, decimal = ".", ","
	}
	digits := fmt.Sprint(whole)
	var b strings.Builder
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteString(group)
		}
		b.WriteRune(d)
	}
	number := b.String()
	if frac != "" {
		number += decimal + frac
	}
	sign := ""
	if neg {
		sign = "-"
	}
	sym, ok := symbols[currency]
	switch {
	case lang == "de" && ok:
		return sign + number + " " + sym
	case ok:
		return sign + sym + number
	default:
		return sign + number + " " + currency
	}
}

// Date formats a day: "Dienstag, 24. November" / "Tuesday, 24 November".
func Date(locale string, t time.Time) string {
	lang := Lang(locale)
	if lang == "de" {
		return fmt.Sprintf("%s, %d. %s", weekdays[lang][t.Weekday()], t.Day(), months[lang][t.Month()-1])
	}
	return fmt.Sprintf("%s, %d %s", weekdays[lang][t.Weekday()], t.Day(), months[lang][t.Month()-1])
}

// DateTime formats a day and a time of day in t's location:
// "Dienstag, 24. November, 20:00 Uhr" / "Tuesday, 24 November, 20:00".
func DateTime(locale string, t time.Time) string {
	if Lang(locale) == "de" {
		return Date(locale, t) + ", " + t.Format("15:04") + " Uhr"
	}
	return Date(locale, t) + ", " + t.Format("15:04")
}

// dayKeys are the keys of opening hours, Monday first.
var dayKeys = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// OpeningHours writes a week's opening hours ("mon": "10:00-20:00", an absent day
// closed) as lines, consecutive days with the same hours joined:
// "Montag–Samstag: 10:00–20:00 Uhr" / "Monday–Saturday: 10:00–20:00".
func OpeningHours(locale string, hours map[string]string) []string {
	lang := Lang(locale)
	name := func(i int) string { return weekdays[lang][(i+1)%7] } // dayKeys[0] is Monday
	var out []string
	for i := 0; i < len(dayKeys); {
		h := hours[dayKeys[i]]
		j := i
		for j+1 < len(dayKeys) && hours[dayKeys[j+1]] == h {
			j++
		}
		if h != "" {
			days := name(i)
			if j > i {
				days += "–" + name(j)
			}
			span := strings.Replace(h, "-", "–", 1)
			if lang == "de" {
				span += " Uhr"
			}
			out = append(out, days+": "+span)
		}
		i = j + 1
	}
	return out
}

// reasons are the German words of the reasons the workflow gives in English;
// support's own words (a cancellation's reason) are shown as they were written.
var reasons = map[string]string{
	"the card was declined":                               "die Karte wurde abgelehnt",
	"the payment authorization has expired":               "die Zahlungsfreigabe ist abgelaufen",
	"the payment was already captured outside this order": "die Zahlung wurde bereits außerhalb dieser Bestellung eingezogen",
	"the order was not picked up in time":                 "die Abholfrist ist abgelaufen",
	"nothing could be picked":                             "kein Artikel war verfügbar",
	"the payment provider refused the capture":            "der Zahlungsanbieter hat die Abbuchung abgelehnt",
	"we could not complete the order":                     "wir konnten die Bestellung leider nicht ausführen",
}

// Reason writes one of the workflow's reasons in the locale's language.
func Reason(locale, reason string) string {
	if Lang(locale) == "de" {
		if de, ok := reasons[reason]; ok {
			return de
		}
	}
	return reason
}
