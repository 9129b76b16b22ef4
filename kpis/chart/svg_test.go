package chart

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/kpis/band"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// element is a parsed SVG element: its name, attributes and the text directly in it.
type element struct {
	name  string
	attrs map[string]string
	text  string
}

// parse reads an SVG with encoding/xml (which fails on anything not well
// formed) and returns its elements in document order.
func parse(t *testing.T, svg string) []element {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(svg))
	dec.Strict = true
	var out []element
	var stack []int
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, svg)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			e := element{name: tok.Name.Local, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				e.attrs[a.Name.Local] = a.Value
			}
			out = append(out, e)
			stack = append(stack, len(out)-1)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				out[stack[len(stack)-1]].text += string(tok)
			}
		}
	}
	return out
}

func withClass(es []element, class string) []element {
	var out []element
	for _, e := range es {
		for _, c := range strings.Fields(e.attrs["class"]) {
			if c == class {
				out = append(out, e)
			}
		}
	}
	return out
}

func textOf(es []element, name string) string {
	for _, e := range es {
		if e.name == name {
			return e.text
		}
	}
	return ""
}

// series is 42 days of a count steady around 10, the last day 40.
func series() []band.Day {
	days := make([]band.Day, 42)
	for i := range days {
		days[i] = band.Day{Value: float64(9 + i%3), OK: true}
	}
	days[41].Value = 40
	return days
}

var start = time.Date(2026, 2, 16, 0, 0, 0, 0, time.UTC)

// last28 is the chart input of the last 28 of the 42 days.
func last28(kpi, lang string, alarms []records.Alarm) Input {
	days := series()
	bands := band.Compute(band.KindOf(kpi), days)
	return Input{KPI: kpi, Lang: lang, ID: "c-" + kpi, Start: start.AddDate(0, 0, 14), Values: days[14:], Bands: bands[14:],
		Alarms: alarms, Now: start.AddDate(0, 0, 42)}
}

func TestSVGBandPointsAndAlarm(t *testing.T) {
	opened := start.AddDate(0, 0, 41).Add(15 * time.Hour)
	resolved := start.AddDate(0, 0, 30)
	alarms := []records.Alarm{
		{KPI: "orders_placed", Signal: "orders_placed", StoreID: "berlin-mitte", Direction: "up", OpenedAt: opened, WindowHours: 6, Observed: 30, Expected: 8, Baseline: "same weekday and hour over the previous 4 weeks"},
		{KPI: "orders_placed", Direction: "down", OpenedAt: start.AddDate(0, 0, 29), ResolvedAt: &resolved, WindowHours: 24, Observed: 1, Expected: 10},
		// Another KPI's alarm is not this chart's.
		{KPI: "expired_pickups", Direction: "up", OpenedAt: opened, WindowHours: 24, Observed: 9, Expected: 2},
	}
	es := parse(t, SVG(last28("orders_placed", English, alarms)))
	if es[0].name != "svg" || es[0].attrs["role"] != "img" || es[0].attrs["data-kpi"] != "orders_placed" {
		t.Errorf("root %+v", es[0])
	}
	if got := textOf(es, "title"); got != "Orders placed" {
		t.Errorf("title %q", got)
	}
	desc := textOf(es, "desc")
	for _, want := range []string{"Daily values from 2 Mar to 29 Mar", "Latest: 29 Mar: 40, expected 10", "Days outside the ordinary range: 1.", "Alarms marked: 2."} {
		if !strings.Contains(desc, want) {
			t.Errorf("desc %q lacks %q", desc, want)
		}
	}
	if n := len(withClass(es, "band")); n != 1 {
		t.Errorf("%d band polygons, want 1 (28 days with a band)", n)
	}
	if n := len(withClass(es, "point")); n != 28 {
		t.Errorf("%d points, want 28", n)
	}
	var out []string
	for i, e := range es {
		if strings.Contains(e.attrs["class"], "out") {
			out = append(out, es[i+1].text) // its title
		}
	}
	if len(out) != 1 || !strings.HasPrefix(out[0], "29 Mar: 40 (expected 10") {
		t.Errorf("outside points %q, want the last day's only", out)
	}
	// Both episodes are shaded; the one opened in range has its marker; the
	// other KPI's alarm is not drawn.
	if n := len(withClass(es, "alarm-span")); n != 2 {
		t.Errorf("%d alarm spans, want 2", n)
	}
	markers := withClass(es, "alarm-marker")
	if len(markers) != 2 {
		t.Fatalf("%d alarm markers, want 2", len(markers))
	}
	var lineX string
	for i, e := range es {
		if e.attrs["class"] == "alarm-marker" && strings.Contains(es[i+1].text, "rose") {
			lineX = es[i+2].attrs["x1"] // title, then the line
		}
	}
	// Opened at 15:00 on the last of 28 days: 27.625 days into the 398-unit
	// wide plot that starts at x=58: 58 + 27.625/28·398.
	if want := "450.7"; lineX != want {
		t.Errorf("the open alarm's marker at x=%s, want %s", lineX, want)
	}
	if len(withClass(es, "band-note")) != 0 || len(withClass(es, "no-values")) != 0 {
		t.Errorf("a band note or a no-values note although every day has a value and a band")
	}
}

func TestSVGTodaySoFar(t *testing.T) {
	in := last28("orders_placed", English, nil)
	in.PartialLast = true
	in.Values[27].Value = 2 // this morning: far below the band, and no alarm for it
	es := parse(t, SVG(in))
	if n := len(withClass(es, "out")); n != 0 {
		t.Errorf("%d days outside the band, want none: today is not over", n)
	}
	if n := len(withClass(es, "partial")); n != 2 {
		t.Errorf("%d partial elements, want today's point and the dashed line to it", n)
	}
	if Latest(in) != 26 || !strings.Contains(textOf(es, "desc"), "Latest: 28 Mar: ") {
		t.Errorf("latest day %d, desc %q: want yesterday", Latest(in), textOf(es, "desc"))
	}
}

func TestSVGWithoutValues(t *testing.T) {
	es := parse(t, SVG(Input{KPI: "delivery_time_p50", Lang: English, ID: "e", Start: start, Values: make([]band.Day, 14), Bands: make([]band.Band, 14)}))
	if notes := withClass(es, "no-values"); len(notes) != 1 || notes[0].text != "no values in these days" {
		t.Errorf("no-values note %+v", notes)
	}
	if len(withClass(es, "point")) != 0 || len(withClass(es, "band-note")) != 0 {
		t.Errorf("points or a band note without values")
	}
}

func TestSVGShortHistoryGerman(t *testing.T) {
	days := series()[:10]
	days[3] = band.Day{} // a rate's day without orders: a gap
	in := Input{KPI: "payment_decline_rate", Lang: German, ID: "r", Start: start, Values: days, Bands: band.Compute(band.Rate, days)}
	for i := range in.Values {
		in.Values[i].Value /= 100
	}
	es := parse(t, SVG(in))
	if n := len(withClass(es, "band")); n != 0 {
		t.Errorf("%d band polygons for a rate without denominators", n)
	}
	notes := withClass(es, "band-note")
	if len(notes) != 1 || notes[0].text != "noch kein Normalbereich: zu wenig Verlauf" {
		t.Errorf("band note %+v", notes)
	}
	if got := textOf(es, "title"); got != "Abgelehnte Zahlungen" {
		t.Errorf("title %q", got)
	}
	var dates, ticks []string
	for _, e := range es {
		if e.name == "text" && e.attrs["class"] == "date" {
			dates = append(dates, e.text)
		}
		if e.name == "text" && e.attrs["text-anchor"] == "end" && e.attrs["class"] == "" {
			ticks = append(ticks, e.text)
		}
	}
	if strings.Join(dates, "|") != "25. Feb.|23. Feb.|21. Feb.|19. Feb.|17. Feb." {
		t.Errorf("German dates %q", dates)
	}
	if strings.Join(ticks, "|") != "0 %|5 %|10 %|15 %" {
		t.Errorf("y ticks %q, want 0 to 15 %% in steps of 5", ticks)
	}
	// The gap splits the line in two.
	if n := len(withClass(es, "value")); n != 2 {
		t.Errorf("%d line segments, want 2 around the gap", n)
	}
}

func TestValueFormats(t *testing.T) {
	for _, tc := range []struct {
		kind band.Kind
		v    float64
		lang string
		want string
	}{
		{band.Count, 12, English, "12"},
		{band.Count, 4.26, German, "4,3"},
		{band.Rate, 0.045, English, "4.5 %"},
		{band.Rate, 0.5, German, "50 %"},
		{band.Duration, 40, English, "40 s"},
		{band.Duration, 35 * 60, English, "35 min"},
		{band.Duration, 80 * 60, German, "1 h 20 min"},
		{band.Duration, 2 * 3600, English, "2 h"},
		{band.Duration, 3 * 86400, German, "3 T"},
	} {
		if got := Value(tc.kind, tc.v, tc.lang); got != tc.want {
			t.Errorf("Value(%d, %v, %s) = %q, want %q", tc.kind, tc.v, tc.lang, got, tc.want)
		}
	}
}

func TestAlarmTextAndLabels(t *testing.T) {
	resolved := time.Date(2026, 3, 3, 6, 0, 0, 0, time.UTC)
	a := records.Alarm{KPI: "expired_pickups", Direction: "up", OpenedAt: time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC), WindowHours: 24,
		Observed: 12, Expected: 5, Baseline: "same weekday over the previous 4 weeks", ResolvedAt: &resolved}
	// An episode recorded before its baseline's parts were kept shows the
	// words it was written with.
	if got, want := AlarmText(a, German, time.UTC), "Abgelaufene Abholfristen gestiegen: 12 statt erwartet 5 (×2,4) in den 24 h bis 2. März 14:00 UTC; Basis: same weekday over the previous 4 weeks; beendet 3. März 06:00 UTC"; got != want {
		t.Errorf("German:\n got %q\nwant %q", got, want)
	}
	// With its parts, the baseline is in the reader's language, and the times
	// in the store's.
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	a.BaselineParts = &records.BaselineParts{Kind: records.BaselineWeekday, Span: 4, Spread: 1.26}
	if got, want := AlarmText(a, German, berlin), "Abgelaufene Abholfristen gestiegen: 12 statt erwartet 5 (×2,4) in den 24 h bis 2. März 15:00 Europe/Berlin; Basis: dieselben Wochentage und Stunden der 4 Wochen davor, Streuung 1,3; beendet 3. März 07:00 Europe/Berlin"; got != want {
		t.Errorf("German with parts, Berlin:\n got %q\nwant %q", got, want)
	}
	for _, tc := range []struct {
		parts  records.BaselineParts
		en, de string
	}{
		{records.BaselineParts{Kind: records.BaselineWeekday, Span: 3, Spread: 1},
			"the same weekday and hours of the previous 3 weeks, dispersion 1",
			"dieselben Wochentage und Stunden der 3 Wochen davor, Streuung 1"},
		{records.BaselineParts{Kind: records.BaselineRate, Span: 28, Events: 41.4, Volume: 812, Spread: 1.52},
			"the store's rate over the previous 28 days (41 of 812) by hour of the week, dispersion 1.5",
			"die Quote der Filiale in den 28 Tagen davor (41 von 812) je Stunde der Woche, Streuung 1,5"},
		{records.BaselineParts{Kind: records.BaselineLevel, Span: 21, Spread: 1.234},
			"the store's level over the previous 21 days by hour of the week, day-to-day spread ×1.23",
			"das Niveau der Filiale in den 21 Tagen davor je Stunde der Woche, Schwankung von Tag zu Tag ×1,23"},
	} {
		if got := BaselineText(tc.parts, English); got != tc.en {
			t.Errorf("%s in English: %q, want %q", tc.parts.Kind, got, tc.en)
		}
		if got := BaselineText(tc.parts, German); got != tc.de {
			t.Errorf("%s in German: %q, want %q", tc.parts.Kind, got, tc.de)
		}
	}
	for _, kpi := range Curated {
		if Title(kpi, English) == kpi || Title(kpi, German) == kpi || Title(kpi, German) == Title(kpi, English) && kpi != "pickups" {
			t.Errorf("%s lacks a German or English title", kpi)
		}
	}
	if got := Available(func(k string) bool { return k != "late_transfer_rate" }); len(got) != len(Curated)-1 {
		t.Errorf("Available dropped %d KPIs, want 1", len(Curated)-len(got))
	}
}
