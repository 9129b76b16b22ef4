package api

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/everywherecommerce/fulfilment/alarms"
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/kpis/band"
	"github.com/everywherecommerce/fulfilment/kpis/chart"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// chartParams are the query parameters of GET /v1/kpis/charts, in the order
// their errors are reported.
var chartParams = []string{"store_id", "days", "lang"}

// chartDays are the lengths of trend the console offers.
var chartDays = []int{14, 28, 56}

// maxChartAlarms bounds the alarms listed beside the charts: newest first.
const maxChartAlarms = 200

// chartsAnswer is GET /v1/kpis/charts: one SVG per KPI of the console's
// curated set (kpis/chart), and the alarms of the shown days in words.
type chartsAnswer struct {
	StoreID string        `json:"store_id"`
	Days    int           `json:"days"`
	Lang    string        `json:"lang"`
	From    time.Time     `json:"from"`
	To      time.Time     `json:"to"`
	Charts  []chartAnswer `json:"charts"`
	Alarms  []alarmAnswer `json:"alarms"`
}

// chartAnswer is one KPI's trend: its name in the language, its latest day's
// value and the SVG (no script, no external reference).
type chartAnswer struct {
	KPI    string `json:"kpi"`
	Title  string `json:"title"`
	Latest string `json:"latest"`
	SVG    string `json:"svg"`
}

// alarmAnswer is an alarm episode as stored, its KPI's name and the episode
// in words (what moved, by how much, against which baseline) in the language.
type alarmAnswer struct {
	records.Alarm
	Title string `json:"title"`
	Text  string `json:"text"`
}

// kpiCharts answers GET /v1/kpis/charts for the console's KPI page: each
// curated KPI's daily values of the last days (UTC days, all methods), its
// band of ordinary values from the 28 days before each day (kpis/band), and
// the alarm episodes open in those days. Scopes as GET /v1/kpis: support any
// store or the totals ("*", the default); staff their own store only.
func (s *Server) kpiCharts(w http.ResponseWriter, r *http.Request) {
	r, cancel := within(r, s.cfg.ReadTimeout)
	defer cancel()
	q, errs := parseChartQuery(r.URL.RawQuery)
	if len(errs) > 0 {
		s.problem(w, r, validationProblem("Invalid query", errs))
		return
	}
	if !s.ownStore(w, r, &q.store, "KPIs") {
		return
	}
	if q.store == "" {
		q.store = records.KPIAll
	}
	now := s.cfg.Now().UTC()
	end := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)
	first := end.AddDate(0, 0, -q.days)
	history := first.AddDate(0, 0, -band.Lookback)
	kpis := chart.Available(records.ValidKPI)
	vals, err := s.store.KPIs(r.Context(), records.KPIFilter{KPIs: kpis, StoreID: q.store, Method: records.KPIAll,
		Granularity: records.GranularityDay, From: history, To: end, Limit: maxKPIValues})
	if err != nil {
		s.problem(w, r, unavailable("Cannot read the KPIs now.", err))
		return
	}
	alarmStore := q.store
	if alarmStore == records.KPIAll {
		alarmStore = "" // the totals' page lists every store's alarms
	}
	alarms, err := s.store.Alarms(r.Context(), records.AlarmFilter{StoreID: alarmStore, From: first, Limit: maxChartAlarms})
	if err != nil {
		s.problem(w, r, unavailable("Cannot read the alarms now.", err))
		return
	}
	answer := chartsAnswer{StoreID: q.store, Days: q.days, Lang: q.lang, From: first, To: end, Charts: []chartAnswer{}, Alarms: []alarmAnswer{}}
	var storeAlarms []records.Alarm
	zone := s.alarmZones(r.Context(), alarms)
	for _, a := range alarms {
		answer.Alarms = append(answer.Alarms, alarmAnswer{Alarm: a, Title: chart.Title(a.KPI, q.lang), Text: chart.AlarmText(a, q.lang, zone(a.StoreID))})
		if a.StoreID == q.store {
			storeAlarms = append(storeAlarms, a)
		}
	}
	series := dailySeries(vals, history, q.days+band.Lookback)
	for i, kpi := range kpis {
		days := series(kpi)
		bands := band.Compute(band.KindOf(kpi), days)
		in := chart.Input{KPI: kpi, Lang: q.lang, ID: "kpi-" + strconv.Itoa(i), Start: first, Values: days[band.Lookback:], Bands: bands[band.Lookback:],
			Alarms: storeAlarms, Now: now, PartialLast: true} // the last day is today
		latest := "–"
		if li := chart.Latest(in); li >= 0 && in.Values[li].OK {
			latest = chart.Value(band.KindOf(kpi), in.Values[li].Value, q.lang)
		}
		answer.Charts = append(answer.Charts, chartAnswer{KPI: kpi, Title: chart.Title(kpi, q.lang), Latest: latest, SVG: chart.SVG(in)})
	}
	writeJSON(w, http.StatusOK, answer)
}

// alarmZones returns each alarm's store's time zone, read once for the
// request and only when there are alarms to tell: an alarm's times are said in
// its store's time, as the store's staff live them. The totals ("*"), an
// unknown store, or all stores when the zones cannot be read now (logged), are
// in UTC, which the text names.
func (s *Server) alarmZones(ctx context.Context, list []records.Alarm) func(store string) *time.Location {
	var zones map[string]*time.Location
	if len(list) > 0 {
		names, err := s.store.StoreTimeZones(ctx)
		if err != nil {
			s.logger.Warn("read the stores' time zones for their alarms; UTC instead", "error", err)
		}
		zones = alarms.Zones(names, s.logger)
	}
	return func(store string) *time.Location {
		if z, ok := zones[store]; ok {
			return z
		}
		return time.UTC
	}
}

// dailySeries turns one store's day rows into a series per KPI of n days from
// start. A count's day without a row is 0 from the store's first row of any
// KPI on (a missing row means no records), and no value before it; a rate's or
// a duration's day without a row has no value.
func dailySeries(vals []records.KPIValue, start time.Time, n int) func(kpi string) []band.Day {
	byKPI := map[string][]band.Day{}
	firstDay := n
	for _, v := range vals {
		i := int(v.BucketStart.Sub(start) / (24 * time.Hour))
		if i < 0 || i >= n {
			continue
		}
		firstDay = min(firstDay, i)
		if byKPI[v.KPI] == nil {
			byKPI[v.KPI] = make([]band.Day, n)
		}
		d := band.Day{Value: v.Value, OK: true}
		if v.Numerator != nil && v.Denominator != nil {
			d.Num, d.Den = *v.Numerator, *v.Denominator
		}
		byKPI[v.KPI][i] = d
	}
	return func(kpi string) []band.Day {
		days := byKPI[kpi]
		if days == nil {
			days = make([]band.Day, n)
		}
		if band.KindOf(kpi) == band.Count {
			for i := firstDay; i < n; i++ {
				days[i].OK = true // a missing row is a present 0
			}
		}
		return days
	}
}

// chartQuery is a parsed GET /v1/kpis/charts query.
type chartQuery struct {
	store string
	days  int
	lang  string
}

// parseChartQuery reads the parameters of GET /v1/kpis/charts and collects
// every bad one. Each may be given once; an empty value is the default (days
// 28, lang en, the store: staff's own, support's "*").
func parseChartQuery(raw string) (chartQuery, []domain.FieldError) {
	q := chartQuery{days: 28, lang: chart.English}
	errs := queryParams{names: chartParams, unknown: "a parameter of the KPI charts"}.parse(raw, func(name, v string, bad func(string, ...any)) {
		switch name {
		case "store_id":
			if v != records.KPIAll && !domain.ValidID(v) {
				bad("%s, or * for all stores", msgID)
			}
			q.store = v
		case "days":
			n, err := strconv.Atoi(v)
			if err != nil || !slices.Contains(chartDays, n) {
				bad("must be 14, 28 or 56")
			}
			q.days = n
		case "lang":
			if v != chart.English && v != chart.German {
				bad("must be en or de")
			}
			q.lang = v
		}
	}, nil)
	return q, errs
}
