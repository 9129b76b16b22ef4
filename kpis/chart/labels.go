package chart

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/everywherecommerce/fulfilment/kpis/band"
)

// Languages of the labels: the console's.
const (
	German  = "de"
	English = "en"
)

// Curated are the KPIs the console's page draws, in its order: what a store
// manager looks at first. Those a deployment does not compute yet (the
// transfer KPIs) are left out by Available.
var Curated = []string{
	"orders_placed", "payment_decline_rate", "picking_sla_miss_rate", "time_to_pick_p50",
	"ready_on_time_rate", "ready_early_rate", "pickups", "expired_pickups", "pickup_expiry_rate",
	"time_to_pickup_p50", "deliveries", "delivery_time_p50", "late_transfer_rate", "transfer_time_p50",
	"messages_bounced_email", "cancellations", "review_requests",
}

// Available is Curated without the KPIs valid rejects (records.ValidKPI).
func Available(valid func(string) bool) []string {
	var out []string
	for _, k := range Curated {
		if valid(k) {
			out = append(out, k)
		}
	}
	return out
}

// titles are the KPIs' names in each language.
var titles = map[string][2]string{ // en, de
	"orders_placed":          {"Orders placed", "Bestellungen"},
	"payment_decline_rate":   {"Payment declines", "Abgelehnte Zahlungen"},
	"picking_sla_miss_rate":  {"Picks past their due time", "Picks nach Fälligkeit"},
	"time_to_pick_p50":       {"Time to pick (median)", "Pickdauer (Median)"},
	"ready_on_time_rate":     {"Ready on time", "Pünktlich abholbereit"},
	"ready_early_rate":       {"Ready a day early", "Einen Tag früher abholbereit"},
	"pickups":                {"Pickups", "Abholungen"},
	"expired_pickups":        {"Expired pickups", "Abgelaufene Abholfristen"},
	"pickup_expiry_rate":     {"Share of pickups expiring", "Anteil abgelaufener Abholfristen"},
	"time_to_pickup_p50":     {"Time to pickup (median)", "Zeit bis zur Abholung (Median)"},
	"deliveries":             {"Deliveries", "Zustellungen"},
	"delivery_time_p50":      {"Delivery time (median)", "Lieferzeit (Median)"},
	"late_transfer_rate":     {"Late transfers to the store", "Verspätete Lieferungen in die Filiale"},
	"transfer_time_p50":      {"Transfer time to the store (median)", "Lieferzeit in die Filiale (Median)"},
	"messages_bounced_email": {"Bounced emails", "Unzustellbare E-Mails"},
	"cancellations":          {"Cancellations", "Stornierungen"},
	"review_requests":        {"Review requests sent", "Bewertungsanfragen"},
}

// Title is a KPI's name in lang; an unknown KPI is named as it is.
func Title(kpi, lang string) string {
	t, ok := titles[kpi]
	if !ok {
		return kpi
	}
	if lang == German {
		return t[1]
	}
	return t[0]
}

var months = [2][12]string{
	{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
	{"Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sep.", "Okt.", "Nov.", "Dez."},
}

func langIndex(lang string) int {
	if lang == German {
		return 1
	}
	return 0
}

// Date is a day in lang: "2 Mar" or "2. März".
func Date(t time.Time, lang string) string {
	m := months[langIndex(lang)][t.Month()-1]
	if lang == German {
		return fmt.Sprintf("%d. %s", t.Day(), m)
	}
	return fmt.Sprintf("%d %s", t.Day(), m)
}

// DateTime is a time in lang, in t's zone: "2 Mar 14:05" or "2. März 14:05".
func DateTime(t time.Time, lang string) string {
	return Date(t, lang) + " " + t.Format("15:04")
}

// number formats v with up to decimals decimals (trailing zeros dropped), with
// the decimal comma in German.
func number(v float64, decimals int, lang string) string {
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	if lang == German {
		s = strings.ReplaceAll(s, ".", ",")
	}
	return s
}

// Value formats a KPI's value with its unit: a count ("12", "4.5" for an
// average), a rate in percent ("4.5 %"), a duration in hours and minutes
// ("1 h 20 min", "35 min", "40 s").
func Value(kind band.Kind, v float64, lang string) string {
	switch kind {
	case band.Rate:
		return number(v*100, 1, lang) + " %"
	case band.Duration:
		return duration(v, lang)
	}
	return number(v, 1, lang)
}

func duration(seconds float64, lang string) string {
	s := int64(math.Round(seconds))
	switch {
	case s == 0:
		return "0"
	case s < 60:
		return fmt.Sprintf("%d s", s)
	case s < 3600:
		return fmt.Sprintf("%d min", (s+30)/60)
	case s < 48*3600:
		h, m := s/3600, (s%3600+30)/60
		if m == 60 {
			h, m = h+1, 0
		}
		if m == 0 {
			return fmt.Sprintf("%d h", h)
		}
		return fmt.Sprintf("%d h %d min", h, m)
	}
	d := "d"
	if lang == German {
		d = "T"
	}
	return number(seconds/86400, 1, lang) + " " + d
}

// text are the chart's words in each language.
var text = map[string][2]string{ // en, de
	"noBand":      {"no baseline band yet: the history is too short", "noch kein Normalbereich: zu wenig Verlauf"},
	"partialBand": {"no band for %d days: history too short", "%d Tage ohne Normalbereich: zu wenig Verlauf"},
	"desc":        {"Daily values from %s to %s (UTC days).", "Tageswerte vom %s bis %s (UTC-Tage)."},
	"latest":      {"Latest: %s.", "Zuletzt: %s."},
	"expected":    {"expected %s, ordinary range %s to %s", "erwartet %s, Normalbereich %s bis %s"},
	"noValue":     {"no value", "kein Wert"},
	"noValues":    {"no values in these days", "keine Werte in diesen Tagen"},
	"soFar":       {"today so far", "heute bis jetzt"},
	"outside":     {"Days outside the ordinary range: %d.", "Tage außerhalb des Normalbereichs: %d."},
	"alarms":      {"Alarms marked: %d.", "Markierte Alarme: %d."},
	"alarm":       {"Alarm", "Alarm"},
	"up":          {"rose", "gestiegen"},
	"down":        {"fell", "gefallen"},
	"observed":    {"%s instead of the expected %s", "%s statt erwartet %s"},
	"window":      {"in the %d h to %s", "in den %d h bis %s"},
	"baseline":    {"baseline: %s", "Basis: %s"},
	// The baselines' words (BaselineText); the English ones are also what the
	// detector writes as an alarm's Baseline, for the notifications.
	"baseWeekday": {"the same weekday and hours of the previous %d weeks, dispersion %s",
		"dieselben Wochentage und Stunden der %d Wochen davor, Streuung %s"},
	"baseRate": {"the store's rate over the previous %d days (%s of %s) by hour of the week, dispersion %s",
		"die Quote der Filiale in den %d Tagen davor (%s von %s) je Stunde der Woche, Streuung %s"},
	"baseLevel": {"the store's level over the previous %d days by hour of the week, day-to-day spread ×%s",
		"das Niveau der Filiale in den %d Tagen davor je Stunde der Woche, Schwankung von Tag zu Tag ×%s"},
	"open":     {"open", "offen"},
	"resolved": {"resolved %s", "beendet %s"},
}

func tr(key, lang string, args ...any) string {
	s := text[key][langIndex(lang)]
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}
