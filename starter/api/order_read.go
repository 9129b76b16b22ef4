package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// orderView is GET /v1/orders/{id}: the order's status with the messages sent in
// its journey, read from the orders projection or, on request, from the workflow.
type orderView struct {
	workflows.Status
	// JourneyPartial is true when a consistent read could not read the messages
	// from PostgreSQL: the journey then holds what the workflow knows (stages,
	// skipped messages).
	JourneyPartial bool `json:"journey_partial,omitempty"`
}

// getOrder answers GET /v1/orders/{id}. By default the order comes from the
// orders projection in PostgreSQL, which the workflow's own activities keep with
// every stage and journey entry: the read costs no Temporal Action, whoever asks
// and however often. ?consistent=true asks the workflow instead (its status
// query, one billable Action each on Temporal Cloud), for a caller that must see
// what an update it has just sent changed before the projection does. An order of
// which the projection holds no view yet (its checkout still running, or a row
// older than the view) is read with the query too. Staff see only their own
// store's orders; another store's order looks like no order.
func (s *Server) getOrder(w http.ResponseWriter, r *http.Request) {
	r, cancel := within(r, s.cfg.ReadTimeout)
	defer cancel()
	consistent, err := parseConsistent(r.URL.RawQuery)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	id := r.PathValue("id")
	p := principalFrom(r.Context())
	var d records.OrderDetail
	known := false
	if !consistent || p.Role == records.RoleStaff {
		d, err = s.store.OrderDetail(r.Context(), id)
		if err != nil && !errors.Is(err, activities.ErrNotFound) {
			s.problem(w, r, unavailable("Cannot read the order now.", err))
			return
		}
		known = err == nil
	}
	if p.Role == records.RoleStaff && (!known || (d.StoreID != p.StoreID && d.LocationID != p.StoreID)) {
		s.problem(w, r, notFound()) // another store's order looks like no order
		return
	}
	if known && !consistent && d.View != nil {
		writeJSON(w, http.StatusOK, orderView{Status: projectedStatus(d)})
		return
	}
	s.queryOrder(w, r, id)
}

// parseConsistent reads GET /v1/orders/{id}'s one parameter: consistent=true
// reads the workflow; false, empty or absent the projection.
func parseConsistent(raw string) (bool, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return false, fieldProblem("query", "is not a valid URL query string")
	}
	values := q["consistent"]
	switch {
	case len(values) > 1:
		return false, fieldProblem("consistent", "may be given once")
	case len(values) == 0 || values[0] == "" || values[0] == "false":
		return false, nil
	case values[0] == "true":
		return true, nil
	}
	return false, fieldProblem("consistent", `must be "true" or "false"`)
}

// queryOrder answers with the workflow's status query (one Action), its journey
// merged with the messages recorded in PostgreSQL.
func (s *Server) queryOrder(w http.ResponseWriter, r *http.Request, id string) {
	v, err := s.temporal.QueryWorkflow(r.Context(), workflows.WorkflowID(id), "", workflows.QueryStatus)
	if err != nil {
		s.problem(w, r, s.temporalError(err))
		return
	}
	var st workflows.Status
	if err := v.Get(&st); err != nil {
		s.problem(w, r, err)
		return
	}
	complete := s.addMessages(r.Context(), &st)
	writeJSON(w, http.StatusOK, orderView{Status: st, JourneyPartial: !complete})
}

// projectedStatus is the order's status as the projection holds it: the same
// answer as the status query's, with the journey from PostgreSQL. d.View must be
// set.
func projectedStatus(d records.OrderDetail) workflows.Status {
	v := d.View
	st := workflows.Status{
		OrderID: d.OrderID, Stage: d.Stage, Method: d.Method, StoreID: d.StoreID, LocationID: d.LocationID,
		Currency: d.Currency, Total: d.Total, Captured: v.Captured, Refunded: v.Refunded,
		Lines: make([]workflows.LineStatus, 0, len(v.Lines)), PickupDeadline: d.PickupDeadline,
		PromisedReadyAt: d.PromisedReadyAt, PickupLocked: v.PickupLocked, WrongPickupCodes: d.WrongPickupCodes,
		NeedsAttention: d.NeedsAttention, AttentionReason: d.AttentionReason, Journey: journeyItems(d.OrderID, d.Journey),
	}
	for _, l := range v.Lines {
		st.Lines = append(st.Lines, workflows.LineStatus(l))
	}
	if v.Shipment != nil {
		sh := workflows.ShipmentStatus(*v.Shipment)
		st.Shipment = &sh
	}
	if v.PickupCodeIssued {
		st.PickupCode = workflows.MaskedPickupCode
	}
	if p := v.Problem; p != nil {
		st.Problem = &workflows.Problem{Step: p.Step, Reason: p.Reason, Since: p.Since, Waiting: p.Waiting}
		for _, a := range p.Actions {
			st.Problem.Actions = append(st.Problem.Actions, workflows.ResolveAction(a))
		}
	}
	return st
}

// journeyItems turns the order's journey in PostgreSQL into the items the status
// query shows: stages, staff's and support's actions and flags as the workflow
// journals them, and the messages (sent, undeliverable, unconfirmed, skipped per
// channel), by time.
func journeyItems(orderID string, entries []activities.JourneyEntry) []workflows.JourneyItem {
	items := make([]workflows.JourneyItem, 0, len(entries))
	for _, e := range entries {
		switch e.Kind {
		case activities.EntryStage, activities.EntryStaffAction, activities.EntryAttention, activities.EntryAttentionResolved:
			items = append(items, workflows.JourneyItem{Kind: e.Kind, Stage: e.Stage, Note: e.Detail, Actor: e.Actor, At: e.At})
		case activities.EntryNotification:
			if item, ok := messageItem(orderID, e); ok {
				items = append(items, item)
			} else if item, ok := skippedItem(orderID, e); ok {
				items = append(items, item)
			}
		}
	}
	slices.SortStableFunc(items, func(a, b workflows.JourneyItem) int { return a.At.Compare(b.At) })
	return items
}

// addMessages merges the messages of the order's journey in PostgreSQL (sent,
// undeliverable or unconfirmed, one entry per touchpoint and channel, written
// when the provider answers) into st.Journey, which the workflow keeps with its
// stages and the messages it skipped; sorted by time. Only the touchpoint and
// channel are shown: the provider's detail may name the recipient, and no entry
// carries a pickup code. It reports false when PostgreSQL did not answer: the
// order is still shown, from the workflow alone.
func (s *Server) addMessages(ctx context.Context, st *workflows.Status) bool {
	entries, err := s.store.Journey(ctx, st.OrderID)
	if err != nil {
		s.logger.Warn("read journey messages", "error", err)
		return false
	}
	for _, e := range entries {
		if item, ok := messageItem(st.OrderID, e); ok {
			st.Journey = append(st.Journey, item)
		}
	}
	slices.SortStableFunc(st.Journey, func(a, b workflows.JourneyItem) int { return a.At.Compare(b.At) })
	return true
}

// messageItem turns a notification entry keyed "<order>:notify:<touchpoint>:<channel>"
// (":undeliverable", ":unconfirmed" after it when not sent) into a journey item
// ("ready-for-pickup via email"). Skipped messages are in the workflow's journey.
func messageItem(orderID string, e activities.JourneyEntry) (workflows.JourneyItem, bool) {
	rest, ok := strings.CutPrefix(e.Key, orderID+":notify:")
	if e.Kind != activities.EntryNotification || !ok {
		return workflows.JourneyItem{}, false
	}
	parts := strings.Split(rest, ":")
	if len(parts) < 2 || slices.Contains(parts[2:], "skipped") {
		return workflows.JourneyItem{}, false
	}
	note := parts[0] + " via " + parts[1]
	switch {
	case len(parts) == 2:
		note += ": sent"
	case len(parts) == 3 && (parts[2] == activities.NotificationUndeliverable || parts[2] == activities.NotificationUnconfirmed):
		note += ": " + parts[2]
	default:
		return workflows.JourneyItem{}, false
	}
	return workflows.JourneyItem{Kind: activities.EntryNotification, Note: note, At: e.At}, true
}

// skippedItem turns the entry of a message deliberately not sent on a channel
// (key "<order>:notify:<touchpoint>:<channel>:skipped", detail "... skipped:
// <reason>") into the item the workflow journals for it: "<key> skipped:
// <reason>". Other skips (a cross-sell left out in quiet hours) are not shown.
func skippedItem(orderID string, e activities.JourneyEntry) (workflows.JourneyItem, bool) {
	key, ok := strings.CutSuffix(e.Key, ":skipped")
	rest, prefixed := strings.CutPrefix(key, orderID+":notify:")
	_, reason, found := strings.Cut(e.Detail, " skipped: ")
	parts := strings.Split(rest, ":")
	if !ok || !prefixed || !found || len(parts) != 2 || !domain.Channel(parts[1]).Valid() {
		return workflows.JourneyItem{}, false
	}
	return workflows.JourneyItem{Kind: activities.EntryNotification, Note: key + " skipped: " + reason, At: e.At}, true
}
