package api_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/everywherecommerce/fulfilment/kpis/chart"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// kpiPageNow is the starter's clock in the KPI page's tests: noon (UTC) today,
// so that the seeded days are the last ones the page draws.
func kpiPageNow() time.Time {
	return time.Now().UTC().Truncate(24 * time.Hour).Add(12 * time.Hour)
}

// withClock sets the starter's clock.
func withClock(now time.Time) systemOption {
	return func(st *systemSettings) { st.api.Now = func() time.Time { return now } }
}

// seedKPIHistory writes 84 days of day values (all methods) as the kpis
// schedule would have: Berlin Mitte with a weekly rhythm, a jump in orders and
// expired pickups on the last days, a KPI with five days of history only;
// Hamburg Altona; and the totals. And three alarm episodes as the detector
// would have written them: Berlin's expired pickups (open), Berlin's orders
// (resolved) and Hamburg's declines (open).
func seedKPIHistory(t *testing.T, s *system, now time.Time) {
	t.Helper()
	today := now.Truncate(24 * time.Hour)
	insert := func(kpi, store string, day time.Time, value float64, num, den any, samples int) {
		if _, err := s.db.Exec(t.Context(), `insert into kpi_values (kpi, store_id, method, granularity, bucket_start, value, numerator, denominator, samples, computed_at)
			values ($1, $2, '*', 'day', $3, $4, $5, $6, $7, $8)`, kpi, store, day, value, num, den, samples, now); err != nil {
			t.Fatal(err)
		}
	}
	weekly := []float64{20, 22, 21, 23, 30, 35, 12}
	for i := 83; i >= 0; i-- {
		day := today.AddDate(0, 0, -i)
		orders := weekly[int(day.Weekday())] + float64((i*7)%5-2)
		expired := float64(1 + i%2)
		if i <= 1 {
			orders, expired = orders*2.5, 8
		}
		declines := math.Round(orders * 0.04)
		if i%9 == 0 {
			declines++
		}
		insert("orders_placed", "berlin-mitte", day, orders, nil, nil, int(orders))
		insert("payment_decline_rate", "berlin-mitte", day, declines/orders, declines, orders, int(orders))
		insert("expired_pickups", "berlin-mitte", day, expired, nil, nil, int(expired))
		insert("pickups", "berlin-mitte", day, orders-3, nil, nil, int(orders-3))
		insert("time_to_pick_p50", "berlin-mitte", day, float64(1800+(i%5)*150), nil, nil, int(orders))
		insert("time_to_pickup_p50", "berlin-mitte", day, float64(26*3600+(i%4)*1800), nil, nil, int(orders-3))
		insert("orders_placed", "hamburg-altona", day, 10+float64(i%3), nil, nil, 10)
		insert("orders_placed", "*", day, orders+10+float64(i%3), nil, nil, int(orders)+10)
		if i < 5 { // a KPI new to the store: no band yet
			insert("ready_early_rate", "berlin-mitte", day, 0.25, 2.0, 8.0, 8)
		}
	}
	// parts: the baseline in parts as the detector writes it; nil as an
	// episode opened before the parts were kept (English words only).
	alarm := func(store, kpi, dir string, opened time.Time, resolved any, observed, expected float64, parts any) {
		if _, err := s.db.Exec(t.Context(), `insert into alarms (signal, kpi, store_id, direction, opened_at, resolved_at, window_hours,
			observed, expected, observed_events, expected_events, volume, baseline, baseline_parts, p_value, peak_ratio, last_evaluated_at, last_observed, last_expected)
			values ($1, $1, $2, $3, $4, $5, 24, $6, $7, $6, $7, 0, 'same weekday over the previous 4 weeks', $9, 0.0001, $8, $4, $6, $7)`,
			kpi, store, dir, opened, resolved, observed, expected, observed/expected, parts); err != nil {
			t.Fatal(err)
		}
	}
	alarm("berlin-mitte", "expired_pickups", "up", today.Add(-10*time.Hour), nil, 8, 1.5, records.BaselineParts{Kind: records.BaselineWeekday, Span: 4, Spread: 1.2})
	alarm("berlin-mitte", "orders_placed", "down", today.AddDate(0, 0, -10), today.AddDate(0, 0, -9), 6, 20, nil)
	alarm("hamburg-altona", "payment_decline_rate", "up", today.AddDate(0, 0, -2), nil, 0.2, 0.04, nil)
}

// chartSVG parses the SVG of the answer's chart of kpi and returns the class
// attributes of its elements; the SVG must be well-formed XML.
func chartSVG(t *testing.T, body map[string]any, kpi string) []string {
	t.Helper()
	charts, _ := body["charts"].([]any)
	for _, c := range charts {
		m := c.(map[string]any)
		if m["kpi"] != kpi {
			continue
		}
		dec := xml.NewDecoder(strings.NewReader(m["svg"].(string)))
		var classes []string
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				return classes
			}
			if err != nil {
				t.Fatalf("%s: not well-formed SVG: %v", kpi, err)
			}
			if se, ok := tok.(xml.StartElement); ok {
				for _, a := range se.Attr {
					if a.Name.Local == "class" {
						classes = append(classes, a.Value)
					}
				}
			}
		}
	}
	t.Fatalf("no chart of %s in %v", kpi, body)
	return nil
}

func alarmStores(body map[string]any) []string {
	var out []string
	alarms, _ := body["alarms"].([]any)
	for _, a := range alarms {
		m := a.(map[string]any)
		out = append(out, m["store_id"].(string)+" "+m["kpi"].(string))
	}
	slices.Sort(out)
	return out
}

func TestKPIPageChartsAPI(t *testing.T) {
	t.Parallel()
	now := kpiPageNow()
	s := newSystem(t, fastPolicy(), withClock(now))
	seedKPIHistory(t, s, now)
	wantCharts := len(chart.Available(records.ValidKPI))

	t.Run("support, all stores", func(t *testing.T) {
		status, h, body := s.getRaw("/v1/kpis/charts", s.tokens["support"])
		if status != http.StatusOK || h.Get("Content-Type") != "application/json" {
			t.Fatalf("%d %s %v", status, h.Get("Content-Type"), body)
		}
		if body["store_id"] != "*" || body["days"] != 28.0 || body["lang"] != "en" || len(body["charts"].([]any)) != wantCharts {
			t.Errorf("store %v days %v lang %v, %d charts (want *, 28, en, %d)", body["store_id"], body["days"], body["lang"], len(body["charts"].([]any)), wantCharts)
		}
		if got, want := alarmStores(body), []string{"berlin-mitte expired_pickups", "berlin-mitte orders_placed", "hamburg-altona payment_decline_rate"}; !slices.Equal(got, want) {
			t.Errorf("alarms %q, want %q (every store's on the totals' page)", got, want)
		}
		// The totals have a band, and no alarm of their own to mark.
		classes := chartSVG(t, body, "orders_placed")
		if !slices.Contains(classes, "band") || slices.Contains(classes, "alarm-marker") || !slices.Contains(classes, "point partial") {
			t.Errorf("the totals' orders chart: %q", classes)
		}
		// No declines are computed for the totals: the chart says so.
		if declines := chartSVG(t, body, "payment_decline_rate"); !slices.Contains(declines, "no-values") || slices.Contains(declines, "point") {
			t.Errorf("the totals' declines chart without values: %q", declines)
		}
	})
	t.Run("support, one store, German", func(t *testing.T) {
		status, _, body := s.getRaw("/v1/kpis/charts?store_id=berlin-mitte&days=56&lang=de", s.tokens["support"])
		if status != http.StatusOK {
			t.Fatalf("%d %v", status, body)
		}
		if got, want := alarmStores(body), []string{"berlin-mitte expired_pickups", "berlin-mitte orders_placed"}; !slices.Equal(got, want) {
			t.Errorf("alarms %q, want %q", got, want)
		}
		expired := chartSVG(t, body, "expired_pickups")
		for _, want := range []string{"band", "expected", "value", "point out", "alarm-span", "alarm-marker"} {
			if !slices.Contains(expired, want) {
				t.Errorf("the expired pickups' chart has no %q: %q", want, expired)
			}
		}
		// The resolved dip in orders 10 days ago is shaded and marked.
		if orders := chartSVG(t, body, "orders_placed"); !slices.Contains(orders, "alarm-span") || !slices.Contains(orders, "alarm-marker") {
			t.Errorf("the orders' chart: %q", orders)
		}
		// Five days of history: no band, and the chart says why.
		if early := chartSVG(t, body, "ready_early_rate"); slices.Contains(early, "band") || !slices.Contains(early, "band-note") {
			t.Errorf("the ready-early chart with 5 days of history: %q", early)
		}
		for _, c := range body["charts"].([]any) {
			if m := c.(map[string]any); m["kpi"] == "expired_pickups" && (m["title"] != "Abgelaufene Abholfristen" || m["latest"] != "8") {
				t.Errorf("German expired pickups chart: title %v latest %v", m["title"], m["latest"])
			}
		}
		for _, a := range body["alarms"].([]any) {
			if m := a.(map[string]any); m["kpi"] == "expired_pickups" && (!strings.Contains(m["text"].(string), "Abgelaufene Abholfristen gestiegen: 8 statt erwartet 1,5") ||
				!strings.Contains(m["text"].(string), " Europe/Berlin; Basis: dieselben Wochentage und Stunden der 4 Wochen davor, Streuung 1,2; offen")) {
				t.Errorf("German alarm text %q", m["text"])
			}
		}
	})
	t.Run("staff see their own store", func(t *testing.T) {
		for _, q := range []string{"", "?store_id=berlin-mitte"} {
			status, _, body := s.getRaw("/v1/kpis/charts"+q, s.tokens["berlin"])
			if status != http.StatusOK || body["store_id"] != "berlin-mitte" {
				t.Fatalf("%q: %d %v", q, status, body["store_id"])
			}
			if got, want := alarmStores(body), []string{"berlin-mitte expired_pickups", "berlin-mitte orders_placed"}; !slices.Equal(got, want) {
				t.Errorf("%q: alarms %q, want %q", q, got, want)
			}
		}
	})
	t.Run("refused", func(t *testing.T) {
		s.checkStoreScope(t, "/v1/kpis/charts")
	})
	t.Run("bad query names every field", func(t *testing.T) {
		status, h, body := s.getRaw("/v1/kpis/charts?store_id=no%20such&days=7&lang=fr&colour=red&days=14", s.tokens["support"])
		if status != http.StatusBadRequest || h.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("%d %s %v", status, h.Get("Content-Type"), body)
		}
		fields := problemFields(body)
		if want := []string{"store_id", "days", "lang", "colour"}; !slices.Equal(fields, want) {
			t.Errorf("fields %q, want %q: %v", fields, want, body)
		}
	})
}

// TestKPIPageInBrowser opens the console's KPI page in headless Chromium: as
// support over all stores and then Berlin Mitte (the alarm marked on its
// chart and listed in words), in English and German, then as Berlin's staff.
// Screenshots go to testdata/artefacts/kpi-*.png.
func TestKPIPageInBrowser(t *testing.T) {
	t.Parallel()
	now := kpiPageNow()
	s := newSystem(t, fastPolicy(), withClock(now))
	seedKPIHistory(t, s, now)
	wantCharts := len(chart.Available(records.ValidKPI))
	b := newBrowser(t)
	loaded := func(what string) {
		b.t.Helper()
		b.waitFor("the charts of "+what, fmt.Sprintf(`document.querySelector("#charts").dataset.loaded === %s && document.querySelectorAll("#charts svg.kpi-chart").length === %d`, jsString(what), wantCharts),
			`document.querySelector("#charts").dataset.loaded + " " + document.querySelectorAll("#charts svg").length + " " + document.querySelector("#load-error").textContent`)
	}

	// 1. The console's main page links to the KPIs; support signs in there.
	b.do("open the console", chromedp.Navigate(s.url+"/store/"), chromedp.WaitVisible(chromedp.ID("token")))
	b.do("follow the KPI link", chromedp.Click(chromedp.CSS(`header a[href="kpis.html"]`)), chromedp.WaitVisible(chromedp.ID("token")))
	b.waitText("h1", "Store KPIs")
	b.do("sign in as support", chromedp.SendKeys(chromedp.ID("token"), s.tokens["support"]), chromedp.Click(chromedp.CSS("#signin button[type=submit]")))
	loaded("*/28/en")
	b.waitFor("every store's alarms listed", `document.querySelectorAll("#alarms li.alarm").length === 3 && document.querySelectorAll("#alarms li.open").length === 2`,
		`document.querySelector("#alarms").innerText`)
	b.checkTouchTargets()
	b.checkNoHorizontalScroll()
	b.screenshot("kpi-01-support-all-stores")

	// 2. Berlin Mitte: the open alarm on the expired pickups' chart, in words above.
	b.do("choose Berlin Mitte", chromedp.SetValue(chromedp.ID("store"), "berlin-mitte"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#store").dispatchEvent(new Event("change"))`))
	loaded("berlin-mitte/28/en")
	expired := `#charts figure[data-kpi="expired_pickups"]`
	b.waitFor("the alarm marked on the expired pickups' chart", fmt.Sprintf(`document.querySelectorAll(%s).length === 1 && document.querySelectorAll(%s).length === 1`,
		jsString(expired+" .alarm-marker"), jsString(expired+" .band")), `document.querySelector(`+jsString(expired)+`).innerHTML.slice(0, 300)`)
	if text := b.eval(`document.querySelector("#alarms li.open").textContent`); !strings.Contains(text, "Expired pickups rose: 8 instead of the expected 1.5 (×5.3) in the 24 h to ") ||
		!strings.Contains(text, " Europe/Berlin; baseline: the same weekday and hours of the previous 4 weeks, dispersion 1.2") {
		t.Errorf("the open alarm says %q", text)
	}
	if title := b.eval(`document.querySelector(` + jsString(expired+" svg title") + `).textContent`); title != "Expired pickups" {
		t.Errorf("the chart's title %q", title)
	}
	// The chart draws at its column's width, not as a stamp.
	if w, err := strconv.Atoi(b.eval(`String(Math.round(document.querySelector(` + jsString(expired+" svg") + `).getBoundingClientRect().width))`)); err != nil || w < 400 {
		t.Errorf("the chart is %d pixels wide (%v), want its column's 400 or more", w, err)
	}
	b.checkNoHorizontalScroll()
	b.screenshot("kpi-02-support-berlin")
	b.elementScreenshot("kpi-03-expired-pickups", expired)
	b.elementScreenshot("kpi-03b-orders-placed", `#charts figure[data-kpi="orders_placed"]`)

	// 3. Deutsch, 56 Tage.
	b.do("switch to German", chromedp.Click(chromedp.ID("lang")))
	loaded("berlin-mitte/28/de")
	b.do("56 days", chromedp.Click(chromedp.CSS(`button[data-days="56"]`)))
	loaded("berlin-mitte/56/de")
	b.waitText("h1", "Filial-Kennzahlen")
	b.waitText(expired+" h3", "Abgelaufene Abholfristen")
	if text := b.eval(`document.querySelector("#alarms li.open").textContent`); !strings.Contains(text, "Abgelaufene Abholfristen gestiegen: 8 statt erwartet 1,5") ||
		!strings.Contains(text, "Basis: dieselben Wochentage und Stunden der 4 Wochen davor, Streuung 1,2") {
		t.Errorf("the open alarm in German says %q", text)
	}
	if note := b.eval(`document.querySelector('#charts figure[data-kpi="ready_early_rate"] .band-note')?.textContent ?? ""`); note != "noch kein Normalbereich: zu wenig Verlauf" {
		t.Errorf("the ready-early chart's note %q", note)
	}
	b.checkTouchTargets()
	b.checkNoHorizontalScroll()
	b.screenshot("kpi-04-support-berlin-deutsch-56")

	// 4. Berlin's staff: their store only, no store choice.
	b.do("sign out", chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("token")))
	b.do("sign in as Berlin's staff", chromedp.SendKeys(chromedp.ID("token"), s.tokens["berlin"]), chromedp.Click(chromedp.CSS("#signin button[type=submit]")))
	loaded("berlin-mitte/56/de")
	b.waitText("#who", "Berlin Mitte")
	if hidden := b.eval(`String(document.querySelector("#store-choice").hidden)`); hidden != "true" {
		t.Errorf("staff are offered a store choice")
	}
	b.waitFor("Berlin's alarms only", `document.querySelectorAll("#alarms li.alarm").length === 2`, `document.querySelector("#alarms").innerText`)
	b.do("back to 28 days, in English", chromedp.Click(chromedp.CSS(`button[data-days="28"]`)), chromedp.Click(chromedp.ID("lang")))
	loaded("berlin-mitte/28/en")
	b.screenshot("kpi-05-staff-berlin")
	b.checkConsole()
}

// elementScreenshot saves one element, at twice the pixels, as
// testdata/artefacts/<name>.png: a chart up close.
func (b *browser) elementScreenshot(name, sel string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.ScreenshotScale(chromedp.CSS(sel), 2))
	if err != nil {
		b.fail("screenshot "+sel, err)
	}
	if err := os.WriteFile(filepath.Join(b.artefacts, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}
