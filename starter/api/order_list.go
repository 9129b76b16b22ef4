package api

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// Page sizes of GET /v1/orders: a screen of results by default, and at most what
// one response should carry (the keyset index scan costs the same per row).
const (
	defaultListLimit = 50
	maxListLimit     = 200
)

// listParams are the query parameters of GET /v1/orders, in the order their
// errors are reported.
var listParams = []string{"stage", "store", "customer", "needs_attention", "limit", "cursor"}

// orderListItem is one order of the list, from the PostgreSQL projection.
type orderListItem struct {
	OrderID    string        `json:"order_id"`
	Stage      domain.Stage  `json:"stage"`
	Method     domain.Method `json:"method"`
	StoreID    string        `json:"store_id"`
	LocationID string        `json:"location_id"`
	CustomerID string        `json:"customer_id"`
	Total      int64         `json:"total"`
	Currency   string        `json:"currency"`
	PlacedAt   time.Time     `json:"placed_at"`
	// NeedsAttention is set by a missed SLA, a delivery problem, a locked handover,
	// a dispute; support clears it.
	NeedsAttention bool `json:"needs_attention"`
	// AttentionReason says why, while the order needs attention.
	AttentionReason string     `json:"attention_reason,omitempty"`
	UpdatedAt       *time.Time `json:"updated_at,omitempty"`
	URL             string     `json:"url"`
}

// orderList is a page of orders; NextCursor is empty on the last page.
type orderList struct {
	Orders     []orderListItem `json:"orders"`
	NextCursor string          `json:"next_cursor,omitempty"`
}

// listOrders answers GET /v1/orders from the orders projection (never by querying
// workflows), newest first, a page at a time. Staff see only their store's orders
// (picked up at or fulfilled from it, as GET /v1/orders/{id} allows): their
// store filter is forced to their store, and asking for another store gets an
// empty list, the same answer as a store without orders or with no such name.
func (s *Server) listOrders(w http.ResponseWriter, r *http.Request) {
	r, cancel := within(r, s.cfg.ReadTimeout)
	defer cancel()
	f, errs := parseListQuery(r.URL.RawQuery)
	if len(errs) > 0 {
		s.problem(w, r, validationProblem("Invalid query", errs))
		return
	}
	if p := principalFrom(r.Context()); p.Role == records.RoleStaff {
		if f.StoreID != "" && f.StoreID != p.StoreID {
			writeJSON(w, http.StatusOK, orderList{Orders: []orderListItem{}})
			return
		}
		f.StoreID = p.StoreID
	}
	limit := f.Limit
	f.Limit++ // one more tells whether there is a next page
	rows, err := s.store.ListOrders(r.Context(), f)
	if err != nil {
		s.problem(w, r, unavailable("Cannot read the orders now.", err))
		return
	}
	out := orderList{Orders: make([]orderListItem, 0, min(len(rows), limit))}
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		out.NextCursor = encodeCursor(records.OrderCursor{PlacedAt: last.PlacedAt, OrderID: last.OrderID})
	}
	for _, row := range rows {
		item := orderListItem{
			OrderID: row.OrderID, Stage: row.Stage, Method: row.Method, StoreID: row.StoreID, LocationID: row.LocationID,
			CustomerID: row.CustomerID, Total: row.Total, Currency: row.Currency, PlacedAt: row.PlacedAt,
			NeedsAttention: row.NeedsAttention, AttentionReason: row.AttentionReason, URL: "/v1/orders/" + url.PathEscape(row.OrderID),
		}
		if !row.UpdatedAt.IsZero() {
			item.UpdatedAt = &row.UpdatedAt
		}
		out.Orders = append(out.Orders, item)
	}
	writeJSON(w, http.StatusOK, out)
}

// parseListQuery reads the filters of GET /v1/orders and collects every bad
// parameter: a value that is not valid UTF-8 or holds a control character is
// refused before its own rule is checked. An empty value is no filter.
func parseListQuery(raw string) (records.OrderFilter, []domain.FieldError) {
	f := records.OrderFilter{Limit: defaultListLimit}
	errs := queryParams{names: listParams, unknown: "a filter of this list"}.parse(raw, func(name, v string, bad func(string, ...any)) {
		switch name {
		case "stage":
			if !slices.Contains(domain.Stages(), domain.Stage(v)) {
				bad("unknown stage %q; one of %s", v, stageNames())
			}
			f.Stage = domain.Stage(v)
		case "store", "customer":
			// Store and customer IDs follow the checkout's rule; anything else
			// could match no order.
			if !domain.ValidID(v) {
				bad("%s", msgID)
			}
			if name == "store" {
				f.StoreID = v
			} else {
				f.CustomerID = v
			}
		case "needs_attention":
			b, ok := map[string]bool{"true": true, "false": false}[v]
			if !ok {
				bad("must be true or false")
			}
			f.NeedsAttention = &b
		case "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > maxListLimit {
				bad("must be a whole number from 1 to %d", maxListLimit)
			}
			f.Limit = n
		case "cursor":
			c, ok := decodeCursor(v)
			if !ok {
				bad("is not a cursor of this list; use next_cursor from a previous page")
			}
			f.After = &c
		}
	}, nil)
	return f, errs
}

func stageNames() string {
	names := make([]string, 0, len(domain.Stages()))
	for _, st := range domain.Stages() {
		names = append(names, string(st))
	}
	return strings.Join(names, ", ")
}

// encodeCursor makes the opaque next_cursor: the last order's sort key, as
// base64url JSON. It says nothing a client should rely on, and hides nothing
// secret (both values are in the page).
func encodeCursor(c records.OrderCursor) string {
	b, _ := json.Marshal(c) // a time and a string always encode
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (records.OrderCursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return records.OrderCursor{}, false
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	var c records.OrderCursor
	if err := dec.Decode(&c); err != nil || dec.More() || c.OrderID == "" || c.PlacedAt.IsZero() {
		return records.OrderCursor{}, false
	}
	return c, true
}
