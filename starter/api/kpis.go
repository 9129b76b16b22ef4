package api

import (
	"encoding/csv"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// maxKPIValues bounds one answer; a longer one says truncated (narrow the filters).
const maxKPIValues = 10000

// kpiParams are the query parameters of GET /v1/kpis, in the order their errors
// are reported.
var kpiParams = []string{"kpi", "store_id", "method", "granularity", "from", "to", "format"}

// kpiList is the JSON answer of GET /v1/kpis.
type kpiList struct {
	Values    []records.KPIValue `json:"values"`
	Truncated bool               `json:"truncated"`
}

// listKPIs answers GET /v1/kpis from kpi_values (docs/kpis.md). Support sees
// every store and the totals ("*"); staff see their own store only: without
// store_id the filter is their store, and another store (or "*") is a 403.
func (s *Server) listKPIs(w http.ResponseWriter, r *http.Request) {
	r, cancel := within(r, s.cfg.ReadTimeout)
	defer cancel()
	f, csvOut, errs := parseKPIQuery(r.URL.RawQuery)
	if !csvOut && slices.Contains(acceptedTypes(r.Header.Get("Accept")), "text/csv") {
		csvOut = true
	}
	if len(errs) > 0 {
		s.problem(w, r, validationProblem("Invalid query", errs))
		return
	}
	if !s.ownStore(w, r, &f.StoreID, "KPIs") {
		return
	}
	f.Limit = maxKPIValues + 1
	vals, err := s.store.KPIs(r.Context(), f)
	if err != nil {
		s.problem(w, r, unavailable("Cannot read the KPIs now.", err))
		return
	}
	truncated := len(vals) > maxKPIValues
	if truncated {
		vals = vals[:maxKPIValues]
	}
	if csvOut {
		writeKPICSV(w, vals, truncated)
		return
	}
	if vals == nil {
		vals = []records.KPIValue{}
	}
	writeJSON(w, http.StatusOK, kpiList{Values: vals, Truncated: truncated})
}

// acceptedTypes lists the media types of an Accept header, without parameters.
func acceptedTypes(accept string) []string {
	var out []string
	for part := range strings.SplitSeq(accept, ",") {
		if t, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil {
			out = append(out, t)
		}
	}
	return out
}

// writeKPICSV writes the values as CSV with a header line; a truncated answer
// says so in the KPI-Truncated header.
func writeKPICSV(w http.ResponseWriter, vals []records.KPIValue, truncated bool) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	if truncated {
		w.Header().Set("KPI-Truncated", "true")
	}
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"kpi", "store_id", "method", "granularity", "bucket_start", "value", "numerator", "denominator", "samples", "computed_at"})
	num := func(p *float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'g', -1, 64)
	}
	for _, v := range vals {
		_ = cw.Write([]string{v.KPI, v.StoreID, v.Method, v.Granularity, v.BucketStart.Format(time.RFC3339),
			strconv.FormatFloat(v.Value, 'g', -1, 64), num(v.Numerator), num(v.Denominator),
			strconv.FormatInt(v.Samples, 10), v.ComputedAt.Format(time.RFC3339Nano)})
	}
	cw.Flush() // a write error is a gone client; nothing to tell it
}

// parseKPIQuery reads the filters of GET /v1/kpis and collects every bad
// parameter. kpi may be repeated; the others may be given once. An empty value
// is no filter.
func parseKPIQuery(raw string) (records.KPIFilter, bool, []domain.FieldError) {
	var f records.KPIFilter
	csvOut := false
	errs := queryParams{names: kpiParams, repeated: "kpi", unknown: "a filter of the KPIs"}.parse(raw, func(name, v string, bad func(string, ...any)) {
		switch name {
		case "kpi":
			if !records.ValidKPI(v) {
				bad("unknown KPI %q; one of %s, or messages_<sent|failed|undeliverable|unconfirmed>_<email|sms|push>", v, strings.Join(records.KPINames(), ", "))
			}
			f.KPIs = append(f.KPIs, v)
		case "store_id":
			if v != records.KPIAll && !domain.ValidID(v) {
				bad("%s, or * for all stores", msgID)
			}
			f.StoreID = v
		case "method":
			if v != records.KPIAll && v != string(domain.MethodShipToStore) && v != string(domain.MethodHomeDelivery) {
				bad("must be %s, %s or * for all methods", domain.MethodShipToStore, domain.MethodHomeDelivery)
			}
			f.Method = v
		case "granularity":
			if v != records.GranularityHour && v != records.GranularityDay {
				bad("must be hour or day")
			}
			f.Granularity = v
		case "from":
			f.From = queryTime(v, bad)
		case "to":
			f.To = queryTime(v, bad)
		case "format":
			if v != "json" && v != "csv" {
				bad("must be json or csv")
			}
			csvOut = v == "csv"
		}
	}, func(bad func(string, string, ...any)) { toAfterFrom(f.From, f.To, bad) })
	return f, csvOut, errs
}
