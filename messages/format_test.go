package messages_test

import (
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/messages"
)

func TestMoneyPerLocale(t *testing.T) {
	for _, tc := range []struct {
		locale   string
		minor    int64
		currency string
		want     string
	}{
		{"de-DE", 24900, "EUR", "249,00 €"},
		{"en", 24900, "EUR", "€249.00"},
		{"de", 123456789, "EUR", "1.234.567,89 €"},
		{"en-GB", 123456789, "GBP", "£1,234,567.89"},
		{"de-CH", 5, "CHF", "0,05 CHF"},
		{"fr", 1000, "JPY", "1,000 JPY"},
		{"de", -3900, "EUR", "-39,00 €"},
	} {
		if got := messages.Money(tc.locale, tc.minor, tc.currency); got != tc.want {
			t.Errorf("Money(%s, %d, %s) = %q, want %q", tc.locale, tc.minor, tc.currency, got, tc.want)
		}
	}
}

func TestDatesPerLocale(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 24, 10, 0, 0, 0, berlin)
	for _, tc := range []struct{ got, want string }{
		{messages.DateTime("de-DE", at), "Dienstag, 24. November, 10:00 Uhr"},
		{messages.DateTime("en", at), "Tuesday, 24 November, 10:00"},
		{messages.Date("de", at.AddDate(0, 3, 0)), "Mittwoch, 24. Februar"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestOpeningHoursJoinDaysWithTheSameHours(t *testing.T) {
	hours := map[string]string{"mon": "10:00-20:00", "tue": "10:00-20:00", "wed": "10:00-20:00", "thu": "10:00-20:00",
		"fri": "10:00-20:00", "sat": "10:00-18:00"}
	got := messages.OpeningHours("de", hours)
	want := []string{"Montag–Freitag: 10:00–20:00 Uhr", "Samstag: 10:00–18:00 Uhr"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("OpeningHours(de) = %q, want %q", got, want)
	}
	if got := messages.OpeningHours("en", hours); got[0] != "Monday–Friday: 10:00–20:00" {
		t.Errorf("OpeningHours(en) = %q", got)
	}
}
