package api

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// queryParams is how every list and report here reads its query string: each
// known parameter at most once (repeated may be given more often), an empty
// value is no filter, a value that is not valid text is refused before its own
// rule, and every unknown parameter is named last, in order.
type queryParams struct {
	// names are the known parameters, in the order their errors are reported.
	names []string
	// repeated is the one parameter that may be given more than once; "" = none.
	repeated string
	// unknown says what an unknown parameter is not, e.g. "a filter of the KPIs".
	unknown string
}

// parse calls set for every non-empty value of a known parameter; set reports
// a bad value with bad. finish, if not nil, checks the parameters together
// (to after from) before the unknown ones are named. It returns every problem.
func (p queryParams) parse(raw string, set func(name, v string, bad func(format string, args ...any)),
	finish func(bad func(field, format string, args ...any))) []domain.FieldError {
	var errs []domain.FieldError
	bad := func(field, format string, args ...any) {
		errs = append(errs, domain.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		bad("query", "is not a valid URL query string")
	}
	for _, name := range p.names {
		values := q[name]
		if name != p.repeated && len(values) > 1 {
			bad(name, "may be given once")
			continue
		}
		for _, v := range values {
			if v == "" {
				continue
			}
			if msg := textProblem(v, false); msg != "" {
				bad(name, "%s", msg)
				continue
			}
			set(name, v, func(format string, args ...any) { bad(name, format, args...) })
		}
	}
	if finish != nil {
		finish(bad)
	}
	var unknown []string
	for name := range q {
		if !slices.Contains(p.names, name) {
			unknown = append(unknown, name)
		}
	}
	slices.Sort(unknown)
	for _, name := range unknown {
		bad(name, "is not %s; use %s", p.unknown, strings.Join(p.names, ", "))
	}
	return errs
}

// queryTime reads an RFC 3339 time parameter.
func queryTime(v string, bad func(format string, args ...any)) time.Time {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		bad("must be an RFC 3339 time such as 2026-03-02T00:00:00Z")
	}
	return t
}

// toAfterFrom refuses a range whose end is not after its start.
func toAfterFrom(from, to time.Time, bad func(field, format string, args ...any)) {
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		bad("to", "must be after from")
	}
}

// ownStore applies a staff token's store scope to a store filter: staff read
// their own store (the filter's default), support any. It reports false, having
// answered 403, when staff ask for another store or "*"; what names the data
// ("KPIs", "alarms").
func (s *Server) ownStore(w http.ResponseWriter, r *http.Request, storeID *string, what string) bool {
	p := principalFrom(r.Context())
	if p.Role != records.RoleStaff {
		return true
	}
	if *storeID != "" && *storeID != p.StoreID {
		s.problem(w, r, newProblem(http.StatusForbidden, "forbidden", "Forbidden", "A staff token may read its own store's "+what+" only."))
		return false
	}
	*storeID = p.StoreID
	return true
}
