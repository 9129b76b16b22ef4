package api

import (
	"net/http"
	"strings"

	"github.com/everywherecommerce/fulfilment/alarms"
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// alarmParams are the query parameters of GET /v1/alarms, in the order their
// errors are reported.
var alarmParams = []string{"store_id", "signal", "open", "from", "to"}

// alarmView is an alarm with its one-line summary.
type alarmView struct {
	records.Alarm
	Open    bool   `json:"open"`
	Summary string `json:"summary"`
}

type alarmList struct {
	Alarms []alarmView `json:"alarms"`
}

// listAlarms answers GET /v1/alarms (docs/alarms.md): the alarm episodes,
// newest first. Support sees every store and "*"; staff see their own store:
// without store_id the filter is their store, another store (or "*") is a 403.
func (s *Server) listAlarms(w http.ResponseWriter, r *http.Request) {
	r, cancel := within(r, s.cfg.ReadTimeout)
	defer cancel()
	f, errs := parseAlarmQuery(r.URL.RawQuery)
	if len(errs) > 0 {
		s.problem(w, r, validationProblem("Invalid query", errs))
		return
	}
	if !s.ownStore(w, r, &f.StoreID, "alarms") {
		return
	}
	f.Limit = 1000
	list, err := s.store.Alarms(r.Context(), f)
	if err != nil {
		s.problem(w, r, unavailable("Cannot read the alarms now.", err))
		return
	}
	out := alarmList{Alarms: []alarmView{}}
	for _, a := range list {
		out.Alarms = append(out.Alarms, alarmView{Alarm: a, Open: a.Open(), Summary: alarms.Summary(a)})
	}
	writeJSON(w, http.StatusOK, out)
}

// parseAlarmQuery reads the filters of GET /v1/alarms and names every bad
// parameter; each may be given once, an empty value is no filter.
func parseAlarmQuery(raw string) (records.AlarmFilter, []domain.FieldError) {
	var f records.AlarmFilter
	signals := map[string]bool{}
	var names []string
	for _, sig := range alarms.Signals() {
		signals[sig.Name] = true
		names = append(names, sig.Name)
	}
	errs := queryParams{names: alarmParams, unknown: "a filter of the alarms"}.parse(raw, func(name, v string, bad func(string, ...any)) {
		switch name {
		case "store_id":
			if v != records.KPIAll && !domain.ValidID(v) {
				bad("%s, or * for all stores together", msgID)
			}
			f.StoreID = v
		case "signal":
			if !signals[v] {
				bad("unknown signal %q; one of %s", v, strings.Join(names, ", "))
			}
			f.Signal = v
		case "open":
			if v != "true" && v != "false" {
				bad("must be true (open alarms only) or false")
			}
			f.OpenOnly = v == "true"
		case "from":
			f.From = queryTime(v, bad)
		case "to":
			f.To = queryTime(v, bad)
		}
	}, func(bad func(string, string, ...any)) { toAfterFrom(f.From, f.To, bad) })
	return f, errs
}
