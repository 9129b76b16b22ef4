package api

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

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
	if p := principalFrom(r.Context()); p.Role == records.RoleStaff {
		if f.StoreID != "" && f.StoreID != p.StoreID {
			s.problem(w, r, newProblem(http.StatusForbidden, "forbidden", "Forbidden", "A staff token may read its own store's alarms only."))
			return
		}
		f.StoreID = p.StoreID
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
	var errs []domain.FieldError
	bad := func(field, format string, args ...any) {
		errs = append(errs, domain.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		bad("query", "is not a valid URL query string")
	}
	signals := map[string]bool{}
	var names []string
	for _, sig := range alarms.Signals() {
		signals[sig.Name] = true
		names = append(names, sig.Name)
	}
	for _, name := range alarmParams {
		values := q[name]
		if len(values) > 1 {
			bad(name, "may be given once")
			continue
		}
		if len(values) == 0 || values[0] == "" {
			continue
		}
		v := values[0]
		if msg := textProblem(v, false); msg != "" {
			bad(name, "%s", msg)
			continue
		}
		switch name {
		case "store_id":
			if v != records.KPIAll && !domain.ValidID(v) {
				bad(name, "%s, or * for all stores together", msgID)
			}
			f.StoreID = v
		case "signal":
			if !signals[v] {
				bad(name, "unknown signal %q; one of %s", v, strings.Join(names, ", "))
			}
			f.Signal = v
		case "open":
			if v != "true" && v != "false" {
				bad(name, "must be true (open alarms only) or false")
			}
			f.OpenOnly = v == "true"
		case "from", "to":
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				bad(name, "must be an RFC 3339 time such as 2026-03-02T00:00:00Z")
			}
			if name == "from" {
				f.From = t
			} else {
				f.To = t
			}
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		bad("to", "must be after from")
	}
	var unknown []string
	for name := range q {
		if !slices.Contains(alarmParams, name) {
			unknown = append(unknown, name)
		}
	}
	slices.Sort(unknown)
	for _, name := range unknown {
		bad(name, "is not a filter of the alarms; use %s", strings.Join(alarmParams, ", "))
	}
	return f, errs
}
