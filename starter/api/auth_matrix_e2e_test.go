package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/starter/api"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// matrixCaller is one row of the auth matrix's callers.
type matrixCaller struct {
	name  string
	token string
	// role is the token's role ("" for no, bad or revoked tokens).
	role string
	// valid is false for no token, an unknown token and a revoked one.
	valid bool
	// otherStore is a staff token of a store the test's orders do not belong to.
	otherStore bool
}

// matrixScope says what a route acts on, and so what "another store" means.
type matrixScope int

const (
	scopeNone       matrixScope = iota
	scopeOrder                  // /v1/orders/{id}...
	scopeStore                  // /v1/stores/{store}/work
	scopeStoreOrder             // /v1/stores/{store}/orders/{id}/...
	scopeList                   // GET /v1/orders: another store's orders are filtered out
)

// matrixProbe is what an admitted caller sends and may get back.
type matrixProbe struct {
	order  string // "ready" or "picking"
	body   any
	status []int
}

// matrixRoute is one route under /v1: who may use it, and a request that would
// change something (the pick, the right pickup code, a real cancel) so that a
// denial that let it through shows up in the state.
type matrixRoute struct {
	pattern string
	// roles the route admits; nil for public routes.
	roles []string
	// signed routes (provider webhooks) take no token but a signature.
	signed bool
	scope  matrixScope
	// order is the order the effective request acts on: "ready" or "picking".
	order string
	body  func(m *matrix) any
	// allowed is what an admitted caller sends; nil sends body and expects 200.
	allowed func(m *matrix) matrixProbe
}

// matrix is the shared state of TestAuthMatrix: two orders placed once.
type matrix struct {
	s       *system
	orders  map[string]string // "ready", "picking" → order ID
	code    string            // the ready order's pickup code
	newID   string            // the order POST /v1/orders would create
	unknown string            // an order ID nobody placed
	until   time.Time         // a valid new pickup deadline of the ready order
}

func matrixRoutes() []matrixRoute {
	all := []string{"checkout", "staff", "support"}
	support := []string{"support"}
	staffSupport := []string{"staff", "support"}
	ok := func(order string, body any, status ...int) func(*matrix) matrixProbe {
		return func(*matrix) matrixProbe { return matrixProbe{order: order, body: body, status: status} }
	}
	webhook := func(provider string) matrixRoute {
		return matrixRoute{pattern: "POST /v1/webhooks/" + provider, signed: true, body: func(*matrix) any { return map[string]any{"id": "evt_matrix"} }}
	}
	return []matrixRoute{
		{pattern: "GET /v1/openapi.json"},
		{pattern: "GET /v1/me", roles: all},
		{pattern: "POST /v1/orders", roles: []string{"checkout"},
			body: func(m *matrix) any { return m.s.orderBody(m.newID, "ship_to_store") },
			// The ready order's own body again: the idempotent first answer.
			allowed: func(m *matrix) matrixProbe {
				return matrixProbe{body: m.s.orderBody(m.orders["ready"], "ship_to_store"), status: []int{http.StatusCreated}}
			}},
		{pattern: "GET /v1/orders", roles: staffSupport, scope: scopeList},
		{pattern: "GET /v1/orders/{id}", roles: all, scope: scopeOrder, order: "ready"},
		{pattern: "PUT /v1/customers/{id}/preferences", roles: []string{"checkout", "support"}, order: "ready",
			body: func(*matrix) any {
				return map[string]any{"email": "changed@example.com", "locale": "en", "time_zone": "Europe/London",
					"marketing_consent": false, "channels": []string{"email"}}
			}},
		{pattern: "POST /v1/orders/{id}/cancel", roles: support, scope: scopeOrder, order: "picking",
			body: func(*matrix) any { return map[string]string{"reason": "auth matrix"} }},
		{pattern: "POST /v1/orders/{id}/extend-pickup", roles: support, scope: scopeOrder, order: "ready",
			body: func(m *matrix) any { return map[string]any{"until": m.until} }},
		{pattern: "POST /v1/orders/{id}/unlock-pickup", roles: support, scope: scopeOrder, order: "ready",
			body:    func(*matrix) any { return nil },
			allowed: ok("ready", nil, http.StatusConflict)}, // admitted, but the handover is not locked
		{pattern: "POST /v1/orders/{id}/resend-notification", roles: support, scope: scopeOrder, order: "ready",
			body: func(*matrix) any { return map[string]string{"touchpoint": "ready-for-pickup", "channel": "email"} }},
		{pattern: "POST /v1/orders/{id}/resolve", roles: support, scope: scopeOrder, order: "ready",
			body:    func(*matrix) any { return map[string]string{"action": "retry"} },
			allowed: ok("ready", map[string]string{"action": "retry"}, http.StatusConflict)}, // admitted, but nothing waits for a decision
		// Without store_id staff read their own store's KPIs (another store's is a
		// 403, in TestKPIAPIScopesFiltersAndFormats).
		{pattern: "GET /v1/kpis", roles: staffSupport},
		// Likewise the alarms (TestAlarmsAPI); the workflow problems are support's.
		{pattern: "GET /v1/alarms", roles: staffSupport},
		{pattern: "GET /v1/workflow-problems", roles: []string{"support"}},
		// Likewise the charts (another store's is a 403, in TestKPIChartsAPI).
		{pattern: "GET /v1/kpis/charts", roles: staffSupport},
		{pattern: "GET /v1/stores/{store}/work", roles: staffSupport, scope: scopeStore},
		{pattern: "POST /v1/stores/{store}/orders/{id}/start-pick", roles: staffSupport, scope: scopeStoreOrder, order: "picking",
			body: func(*matrix) any { return map[string]any{} },
			// Admitted callers start the ready order's pick: the workflow refuses, nothing moves.
			allowed: func(*matrix) matrixProbe {
				return matrixProbe{order: "ready", status: []int{http.StatusConflict}, body: map[string]any{}}
			}},
		{pattern: "POST /v1/stores/{store}/orders/{id}/pick", roles: staffSupport, scope: scopeStoreOrder, order: "picking",
			body: func(*matrix) any {
				return map[string]any{"lines": []map[string]any{{"sku": "WATCH-001", "quantity": 1}, {"sku": "STRAP-LEA-20", "quantity": 2}}}
			},
			// Admitted callers pick the ready order: the workflow refuses, nothing moves.
			allowed: func(*matrix) matrixProbe {
				return matrixProbe{order: "ready", status: []int{http.StatusConflict},
					body: map[string]any{"lines": []map[string]any{{"sku": "WATCH-001", "quantity": 1}, {"sku": "STRAP-LEA-20", "quantity": 2}}}}
			}},
		{pattern: "POST /v1/stores/{store}/orders/{id}/arrival", roles: staffSupport, scope: scopeStoreOrder, order: "ready",
			body:    func(*matrix) any { return map[string]any{} },
			allowed: ok("ready", map[string]any{}, http.StatusConflict)}, // nothing is in transit
		{pattern: "POST /v1/stores/{store}/orders/{id}/pickup", roles: staffSupport, scope: scopeStoreOrder, order: "ready",
			body:    func(m *matrix) any { return map[string]string{"code": m.code} },
			allowed: ok("ready", map[string]string{"code": "000000"}, http.StatusUnprocessableEntity)},
		webhook("stripe"), webhook("easypost"), webhook("sendgrid"), webhook("twilio"),
	}
}

// TestAuthMatrix sends every route under /v1 as every kind of caller and checks
// who is admitted, that refusals are 401, 403 or a 404 that reads exactly like an
// unknown order's, and that refused calls changed nothing.
func TestAuthMatrix(t *testing.T) {
	t.Parallel()
	m := newMatrix(t, newWebhookKeys(t))
	s := m.s

	routes := matrixRoutes()
	checkMatrixCoversRoutes(t, routes)

	ctx := context.Background()
	const revokedSubject = "e2e-matrix-revoked"
	revoked, err := s.store.CreateToken(ctx, revokedSubject, "support", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.RevokeToken(ctx, revokedSubject); err != nil {
		t.Fatal(err)
	}
	callers := []matrixCaller{
		{name: "no token"},
		{name: "bad token", token: "not-a-token-" + s.suffix},
		{name: "revoked support token", token: revoked},
		{name: "checkout", token: s.tokens["checkout"], role: "checkout", valid: true},
		{name: "support", token: s.tokens["support"], role: "support", valid: true},
		{name: "staff of the order's store", token: s.tokens["berlin"], role: "staff", valid: true},
		{name: "staff of another store", token: s.tokens["hamburg"], role: "staff", valid: true, otherStore: true},
	}

	before := m.settledState(t)
	t.Run("denied", func(t *testing.T) {
		for _, rt := range routes {
			t.Run(rt.pattern, func(t *testing.T) {
				for _, c := range callers {
					if rt.admits(c) {
						continue
					}
					t.Run(c.name, func(t *testing.T) { m.checkDenied(t, rt, c) })
				}
			})
		}
	})
	if after := m.settledState(t); after != before {
		t.Errorf("refused calls changed the orders, stock, messages or preferences:\nbefore: %s\nafter:  %s", before, after)
	}

	// Admitted callers last: some of their calls change the orders.
	t.Run("allowed", func(t *testing.T) {
		for _, rt := range routes {
			t.Run(rt.pattern, func(t *testing.T) {
				for _, c := range callers {
					if !rt.admits(c) {
						continue
					}
					t.Run(c.name, func(t *testing.T) { m.checkAllowed(t, rt, c) })
				}
			})
		}
	})
	// The admitted calls (a resend, an extension, a cancel) did change things:
	// the state compared above is not blind to what a refused call could do.
	if after := m.settledState(t); after == before {
		t.Error("the admitted calls changed nothing in the compared state either")
	}
}

// newMatrix builds a system with every provider's webhook and places the
// matrix's two orders: one ready for pickup (its code read from the outbox),
// one being picked.
func newMatrix(t *testing.T, keys webhookKeys) *matrix {
	t.Helper()
	s := newSystem(t, fastPolicy(), withWebhooks(t, keys))
	m := &matrix{s: s, orders: map[string]string{"ready": "AM-R-" + s.suffix, "picking": "AM-P-" + s.suffix},
		newID: "AM-N-" + s.suffix, unknown: "AM-X-" + s.suffix}
	s.place(m.orders["ready"], "ship_to_store")
	s.place(m.orders["picking"], "ship_to_store")
	s.pickAll(m.orders["ready"], "berlin-mitte", "berlin")
	s.waitStage(m.orders["ready"], "ready_for_pickup")
	m.code = s.pickupCode(m.orders["ready"])
	s.waitStage(m.orders["picking"], "picking")
	st := m.status(t, m.orders["ready"])
	if st.PickupDeadline == nil {
		t.Fatalf("the ready order has no pickup deadline: %+v", st)
	}
	m.until = st.PickupDeadline.Add(24 * time.Hour).UTC()
	return m
}

// checkMatrixCoversRoutes fails when the route table and the matrix disagree.
func checkMatrixCoversRoutes(t *testing.T, routes []matrixRoute) {
	t.Helper()
	rows := map[string]bool{}
	for _, rt := range routes {
		rows[rt.pattern] = true
	}
	served := map[string]bool{}
	for _, p := range api.RoutePatterns() {
		if _, path, ok := strings.Cut(p, " "); ok && strings.HasPrefix(path, "/v1/") {
			served[p] = true
			if !rows[p] {
				t.Errorf("%s has no row in the auth matrix: add one to matrixRoutes", p)
			}
		}
	}
	for p := range rows {
		if !served[p] {
			t.Errorf("the auth matrix has a row for %s, which no route serves", p)
		}
	}
}

// admits reports whether the route lets the caller in (before any store check).
func (rt matrixRoute) admits(c matrixCaller) bool {
	switch {
	case rt.signed:
		return false // no caller here signs its request
	case rt.roles == nil:
		return true
	case !c.valid || !slices.Contains(rt.roles, c.role):
		return false
	}
	// Another store's staff is admitted by role but must not reach the orders.
	return !c.otherStore || rt.scope == scopeNone || rt.scope == scopeList
}

// path fills the route's pattern with a store and an order.
func (rt matrixRoute) path(store, order string) string {
	_, p, _ := strings.Cut(rt.pattern, " ")
	p = strings.ReplaceAll(p, "{store}", store)
	p = strings.ReplaceAll(p, "{id}", order)
	return p
}

func (rt matrixRoute) method() string {
	m, _, _ := strings.Cut(rt.pattern, " ")
	return m
}

// targetID is what the route's {id} stands for: the customer of the order for
// the preferences route, the order otherwise.
func (m *matrix) targetID(rt matrixRoute, order string) string {
	if strings.Contains(rt.pattern, "/customers/") {
		return "C-" + order
	}
	return order
}

func (m *matrix) checkDenied(t *testing.T, rt matrixRoute, c matrixCaller) {
	var body any
	if rt.body != nil {
		body = rt.body(m)
	}
	order := m.targetID(rt, m.orders[rt.order])
	st, h, got := m.call(t, rt.method(), rt.path("berlin-mitte", order), c.token, body)
	switch {
	case rt.signed:
		wantProblem(t, st, h, got, http.StatusUnauthorized, "bad-signature")
	case !c.valid:
		wantProblem(t, st, h, got, http.StatusUnauthorized, "unauthorized")
		if !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("401 without a Bearer challenge: %q", h.Get("WWW-Authenticate"))
		}
	case !slices.Contains(rt.roles, c.role):
		wantProblem(t, st, h, got, http.StatusForbidden, "forbidden")
	default: // another store's staff: their request must read like one for no order
		wantProblem(t, st, h, got, http.StatusNotFound, "not-found")
		m.sameAsUnknown(t, rt, c, "berlin-mitte", order, st, got)
		if rt.scope == scopeStoreOrder {
			// The order under the caller's own store is no better.
			st, h, got = m.call(t, rt.method(), rt.path("hamburg-altona", order), c.token, body)
			wantProblem(t, st, h, got, http.StatusNotFound, "not-found")
			m.sameAsUnknown(t, rt, c, "hamburg-altona", order, st, got)
		}
	}
}

// sameAsUnknown checks that a refused request answers exactly as the same
// request for an unknown order (or store) does.
func (m *matrix) sameAsUnknown(t *testing.T, rt matrixRoute, c matrixCaller, store, order string, st int, got []byte) {
	t.Helper()
	var body any
	if rt.body != nil {
		body = rt.body(m)
	}
	path := rt.path(store, m.unknown)
	if rt.scope == scopeStore {
		path = rt.path("no-such-store-"+m.s.suffix, order)
	}
	ust, _, ugot := m.call(t, rt.method(), path, c.token, body)
	if ust != st || !bytes.Equal(ugot, got) {
		t.Errorf("another store's %s answers %d %s, but an unknown one (%s) %d %s: they must not be told apart",
			rt.path(store, order), st, got, path, ust, ugot)
	}
}

func (m *matrix) checkAllowed(t *testing.T, rt matrixRoute, c matrixCaller) {
	probe := matrixProbe{order: rt.order, status: []int{http.StatusOK}}
	if rt.body != nil {
		probe.body = rt.body(m)
	}
	if rt.allowed != nil {
		probe = rt.allowed(m)
	}
	path := rt.path("berlin-mitte", m.targetID(rt, m.orders[probe.order]))
	st, h, got := m.call(t, rt.method(), path, c.token, probe.body)
	if !slices.Contains(probe.status, st) {
		t.Fatalf("%s %s as %s: %d %s, want %v", rt.method(), path, c.name, st, got, probe.status)
	}
	if st >= 400 && !isProblem(h) {
		t.Errorf("%d with Content-Type %q, want application/problem+json", st, h.Get("Content-Type"))
	}
	if rt.scope == scopeList && c.otherStore {
		// Another store's staff see none of this store's orders, even when they ask.
		for _, q := range []string{"", "?store=berlin-mitte"} {
			_, _, list := m.call(t, http.MethodGet, "/v1/orders"+q, c.token, nil)
			for _, id := range m.orders {
				if bytes.Contains(list, []byte(id)) {
					t.Errorf("GET /v1/orders%s as %s lists %s of berlin-mitte: %s", q, c.name, id, list)
				}
			}
		}
	}
}

// call sends one request and returns the raw answer.
func (m *matrix) call(t *testing.T, method, path, token string, body any) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	return m.s.send(t, method, path, token, rd)
}

func isProblem(h http.Header) bool {
	return h.Get("Content-Type") == "application/problem+json"
}

// wantProblem checks a problem answer's status, content type and type URL.
func wantProblem(t *testing.T, st int, h http.Header, body []byte, status int, typ string) {
	t.Helper()
	var p struct {
		Type   string `json:"type"`
		Status int    `json:"status"`
	}
	if err := json.Unmarshal(body, &p); err != nil || st != status || !isProblem(h) ||
		p.Type != "https://everywhere-fulfilment.dev/problems/"+typ || p.Status != status {
		t.Errorf("got %d %q %s, want %d application/problem+json of type %s", st, h.Get("Content-Type"), body, status, typ)
	}
}

func (m *matrix) status(t *testing.T, id string) workflows.Status {
	t.Helper()
	v, err := m.s.client.QueryWorkflow(context.Background(), workflows.WorkflowID(id), "", workflows.QueryStatus)
	if err != nil {
		t.Fatal(err)
	}
	var st workflows.Status
	if err := v.Get(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// state renders everything a refused call could have changed: each order's
// workflow status and history length, projection row, journey, messages and
// wrong-code count, the stock of its SKUs, the customer's preferences, and
// whether the order POST /v1/orders would create exists anywhere.
func (m *matrix) state(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	st := map[string]any{}
	errText := func(err error) string {
		if err == nil {
			return ""
		}
		if errors.Is(err, activities.ErrNotFound) {
			return "not found"
		}
		return err.Error()
	}
	for name, id := range m.orders {
		desc, err := m.s.client.DescribeWorkflowExecution(ctx, workflows.WorkflowID(id), "")
		if err != nil {
			t.Fatal(err)
		}
		row, err := m.s.store.OrderRow(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		journey, err := m.s.store.Journey(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		outbox, err := m.s.store.OutboxFor(ctx, id+":")
		if err != nil {
			t.Fatal(err)
		}
		failed, err := m.s.store.FailedPickups(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		prefs, err := m.s.store.Preferences(ctx, "C-"+id)
		if err != nil {
			t.Fatal(err)
		}
		st[name] = map[string]any{"status": m.status(t, id), "history_length": desc.GetWorkflowExecutionInfo().GetHistoryLength(),
			"row": row, "journey": journey, "outbox": outbox, "failed_pickups": failed, "preferences": prefs}
	}
	for _, loc := range []string{"berlin-mitte", "hamburg-altona", "dc-erfurt"} {
		for _, sku := range []string{"WATCH-001", "STRAP-LEA-20"} {
			st["stock "+loc+" "+sku] = m.s.stock(loc, sku)
		}
	}
	_, err := m.s.client.DescribeWorkflowExecution(ctx, workflows.WorkflowID(m.newID), "")
	var nf *serviceerror.NotFound
	if !errors.As(err, &nf) {
		st["new order workflow"] = "exists or unreadable: " + errText(err)
	}
	_, err = m.s.store.OrderRow(ctx, m.newID)
	st["new order row"] = errText(err)
	_, err = m.s.store.Preferences(ctx, "C-"+m.newID)
	st["new order preferences"] = errText(err)
	_, err = m.s.store.OrderForPayment(ctx, "pi_"+m.newID)
	st["new order payment"] = errText(err)
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// settledState waits until the state stops changing (the last notification of a
// stage may still be on its way) and returns it.
func (m *matrix) settledState(t *testing.T) string {
	t.Helper()
	deadline := time.Now().Add(m.s.patience)
	prev := m.state(t)
	for {
		time.Sleep(300 * time.Millisecond)
		cur := m.state(t)
		if cur == prev {
			return cur
		}
		if time.Now().After(deadline) {
			t.Fatalf("the orders did not settle:\n%s\n%s", prev, cur)
		}
		prev = cur
	}
}
