package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/starter/api"
)

// hostileText is what the sweep puts into every string of a JSON body, as JSON
// source: escaped control characters, a C1 control and a lone surrogate escape
// (which Go's decoder silently turns into U+FFFD), and raw invalid UTF-8.
var hostileText = map[string]string{
	"NUL":            `\u0000`,
	"ESC":            `\u001b[2J`,
	"NEL":            "\u0085",
	"invalid UTF-8":  "\xff\xfe",
	"lone surrogate": `\ud800`,
}

// hostileIDs is what the sweep puts into each path parameter, URL-escaped; each
// must be a 400 naming the parameter.
var hostileIDs = map[string]string{
	"NUL": "A%00", "ESC": "%1B", "NEL": "%C2%85", "invalid UTF-8": "%FF", "emoji": "%F0%9F%9A%80",
	"300 characters": strings.Repeat("a", 300), "escaped ../": "..%2F..%2Fetc", "leading dash": "-A",
}

// hostileMarker stands in a body for the hostile text until the body is encoded.
const hostileMarker = "HOSTILE-MARKER"

// TestHostileInputSweep sends every route, as every role it admits, requests
// whose every string field in turn holds control characters or invalid UTF-8,
// and whose every path parameter in turn is not an ID, and checks that no
// answer is a 5xx, that each is a 400 naming exactly the bad field, and that
// nothing changed: no order, stock, message or preference, and no order started.
func TestHostileInputSweep(t *testing.T) {
	t.Parallel()
	keys := newWebhookKeys(t)
	m := newMatrix(t, keys)
	s := m.s
	routes := matrixRoutes()
	checkMatrixCoversRoutes(t, routes)
	tokens := map[string]string{"checkout": s.tokens["checkout"], "support": s.tokens["support"], "staff": s.tokens["berlin"]}
	sweep := &hostileSweep{m: m}

	before := m.settledState(t)
	t.Run("v1", func(t *testing.T) {
		for _, rt := range routes {
			t.Run(rt.pattern, func(t *testing.T) {
				switch {
				case rt.signed:
					sweep.webhook(t, rt, keys)
				case rt.roles == nil:
					sweep.noInput(t, rt.method(), rt.path("", ""))
				default:
					for _, role := range rt.roles {
						t.Run(role, func(t *testing.T) { sweep.route(t, rt, tokens[role]) })
					}
				}
			})
		}
	})
	t.Run("other", func(t *testing.T) {
		for _, pattern := range api.RoutePatterns() {
			if _, path, _ := strings.Cut(pattern, " "); strings.HasPrefix(path, "/v1/") {
				continue // the matrix's routes, above
			}
			t.Run(pattern, func(t *testing.T) { sweep.other(t, pattern) })
		}
	})
	t.Logf("%d hostile requests", sweep.sent.Load())
	if after := m.settledState(t); after != before {
		t.Errorf("hostile requests changed the orders, stock, messages or preferences:\nbefore: %s\nafter:  %s", before, after)
	}
}

type hostileSweep struct {
	m *matrix
	// sent counts the requests, for the log.
	sent atomic.Int64
}

// route sweeps one authenticated route as one role: its body's strings, its
// path parameters and (GET /v1/orders) its query parameters.
func (h *hostileSweep) route(t *testing.T, rt matrixRoute, token string) {
	probe := matrixProbe{order: rt.order}
	if rt.body != nil {
		probe.body = rt.body(h.m)
	}
	if rt.allowed != nil {
		probe = rt.allowed(h.m)
	}
	target := h.m.targetID(rt, h.m.orders[probe.order])
	var base []byte
	if probe.body != nil {
		var err error
		if base, err = json.Marshal(probe.body); err != nil {
			t.Fatal(err)
		}
	}
	for _, field := range jsonStrings(t, base) {
		for name, text := range hostileText {
			body := hostileBody(t, base, field, text)
			st, hd, got := h.send(t, rt.method(), rt.path("berlin-mitte", target), token, "application/json", body, nil)
			wantFieldErrors(t, fmt.Sprintf("%s in %s", name, field), st, hd, got, field)
		}
	}
	for _, param := range pathParams(rt.pattern) {
		for name, id := range hostileIDs {
			store, order := "berlin-mitte", target
			if param == "store" {
				store = id
			} else {
				order = id
			}
			st, hd, got := h.send(t, rt.method(), rt.path(store, order), token, "application/json", base, nil)
			wantFieldErrors(t, fmt.Sprintf("%s as {%s}", name, param), st, hd, got, param)
		}
		// An unescaped ".." is cleaned by the router: a redirect, never the route.
		path := rt.path("berlin-mitte", "..")
		if param == "store" {
			path = rt.path("..", target)
		}
		if st, _, got := h.send(t, rt.method(), path, token, "application/json", base, nil); st < 300 || st >= 500 {
			t.Errorf("%s %s: %d %s, want a redirect or a 4xx", rt.method(), path, st, got)
		}
	}
	if rt.scope == scopeList {
		for _, param := range []string{"stage", "store", "customer", "needs_attention", "limit", "cursor"} {
			for name, v := range map[string]string{"NUL": "%00", "ESC": "%1B", "NEL": "%C2%85", "invalid UTF-8": "%FF"} {
				st, hd, got := h.send(t, http.MethodGet, "/v1/orders?"+param+"="+v, token, "", nil, nil)
				wantFieldErrors(t, fmt.Sprintf("%s in ?%s", name, param), st, hd, got, param)
			}
		}
	}
}

// webhook sends each provider signed events whose IDs hold hostile text, for
// an order nobody placed: the answer is never a 5xx (PostgreSQL would refuse
// to record such an ID, and the provider would deliver it again forever).
func (h *hostileSweep) webhook(t *testing.T, rt matrixRoute, keys webhookKeys) {
	provider := strings.TrimPrefix(rt.pattern, "POST /v1/webhooks/")
	unknown := h.m.unknown
	for name, text := range hostileText {
		var body []byte
		var headers map[string]string
		contentType := "application/json"
		switch provider {
		case "stripe":
			for _, field := range []string{"id", "data.object.id", "data.object.payment_intent"} {
				event := stripeEvent(t, "evt_"+unknown, "charge.dispute.created",
					map[string]any{"id": "dp_" + unknown, "object": "dispute", "payment_intent": "pi_" + unknown, "amount": 100})
				body = hostileBody(t, event, field, text)
				h.signedEvent(t, rt, name+" in "+field, body, contentType, map[string]string{"Stripe-Signature": keys.stripeHeader(body)})
			}
			continue
		case "easypost":
			for _, field := range []string{"id", "result.tracking_code", "result.status"} {
				body = hostileBody(t, easyPostEvent(t, "evt_"+unknown, "tracker.updated", "TRK"+unknown, "delivered"), field, text)
				h.signedEvent(t, rt, name+" in "+field, body, contentType, map[string]string{"X-Hmac-Signature": keys.easyPostHeader(body)})
			}
			continue
		case "sendgrid":
			for _, field := range []string{"[0].sg_event_id", "[0].notification_key"} {
				batch := mustJSON(t, []any{map[string]any{"sg_event_id": "sg_" + unknown, "event": "bounce", "notification_key": unknown + ":notify:shipped:email"}})
				body = hostileBody(t, batch, field, text)
				h.signedEvent(t, rt, name+" in "+field, body, contentType, keys.sendGridHeaders(t, body))
			}
			continue
		case "twilio":
			// A form carries raw bytes: the text as the decoder would read it.
			var raw string
			if err := json.Unmarshal([]byte(`"`+text+`"`), &raw); err != nil || name == "invalid UTF-8" {
				raw = text
			}
			form := url.Values{"MessageSid": {"SM" + raw}, "MessageStatus": {"failed"}}
			headers = map[string]string{"X-Twilio-Signature": keys.twilioSignature(testPublicURL+"/v1/webhooks/twilio", form)}
			body, contentType = []byte(form.Encode()), "application/x-www-form-urlencoded"
		}
		h.signedEvent(t, rt, name+" in MessageSid", body, contentType, headers)
	}
}

func (h *hostileSweep) signedEvent(t *testing.T, rt matrixRoute, what string, body []byte, contentType string, headers map[string]string) {
	t.Helper()
	st, _, got := h.send(t, rt.method(), rt.path("", ""), "", contentType, body, headers)
	if st >= 500 || (st != http.StatusOK && st != http.StatusBadRequest) {
		t.Errorf("%s: %d %s, want 200 (ignored) or 400 (malformed)", what, st, got)
	}
}

// other sweeps the routes outside /v1: their query strings, path parameters
// and bodies, with hostile text. None may answer 5xx, and the sandbox tracking
// page names its bad path parameter.
func (h *hostileSweep) other(t *testing.T, pattern string) {
	method, path, _ := strings.Cut(pattern, " ")
	switch pattern {
	case "GET /healthz", "GET /readyz", "GET /metrics", "GET /dev/outbox", "GET /store":
		h.noInput(t, method, path)
	case "GET /store/":
		for name, id := range hostileIDs {
			if st, _, got := h.send(t, method, "/store/"+id, "", "", nil, nil); st >= 500 {
				t.Errorf("%s in the file name: %d %s", name, st, got)
			}
		}
	case "GET /dev/tracking/{code}":
		for name, id := range hostileIDs {
			st, hd, got := h.send(t, method, "/dev/tracking/"+id, "", "", nil, nil)
			wantFieldErrors(t, name+" as {code}", st, hd, got, "code")
		}
	case "GET /unsubscribe", "POST /unsubscribe":
		for name, v := range map[string]string{"NUL": "%00", "ESC": "%1B", "NEL": "%C2%85", "invalid UTF-8": "%FF"} {
			target, body, contentType := "/unsubscribe?t=x"+v, []byte(nil), ""
			if method == http.MethodPost {
				target, body, contentType = "/unsubscribe", []byte("t=x"+v), "application/x-www-form-urlencoded"
			}
			if st, _, got := h.send(t, method, target, "", contentType, body, nil); st != http.StatusBadRequest {
				t.Errorf("%s in the link's token: %d %s, want 400 (the link does not work)", name, st, got)
			}
		}
	case "/codec/":
		for _, op := range []string{"/codec/encode", "/codec/decode"} {
			for name, text := range hostileText {
				// Metadata values and data are base64 in protojson: "binary/plain" and "{}".
				base := mustJSON(t, map[string]any{"payloads": []any{map[string]any{"metadata": map[string]any{"encoding": "YmluYXJ5L3BsYWlu"}, "data": "e30="}}})
				for _, field := range []string{"payloads[0].metadata.encoding", "payloads[0].data"} {
					body := hostileBody(t, base, field, text)
					if st, _, got := h.send(t, http.MethodPost, op, h.m.s.tokens["support"], "application/json", body, nil); st >= 500 {
						t.Errorf("%s %s in %s: %d %s", op, name, field, st, got)
					}
				}
			}
		}
	default:
		t.Errorf("%s has no hostile sweep: add it to hostileSweep.other", pattern)
	}
}

// noInput sends a route that reads no input hostile query strings.
func (h *hostileSweep) noInput(t *testing.T, method, path string) {
	for name, v := range map[string]string{"NUL": "%00", "invalid UTF-8": "%FF", "emoji": "%F0%9F%9A%80"} {
		if st, _, got := h.send(t, method, path+"?x="+v+"&"+v+"=1", "", "", nil, nil); st >= 500 {
			t.Errorf("%s %s with %s in the query: %d %s", method, path, name, st, got)
		}
	}
}

// send sends one request without following redirects.
func (h *hostileSweep) send(t *testing.T, method, path, token, contentType string, body []byte, headers map[string]string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, h.m.s.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s %q: %v", method, path, err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	h.sent.Add(1)
	c := *h.m.s.http
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, got
}

// wantFieldErrors checks a 400 validation problem that names exactly the fields.
func wantFieldErrors(t *testing.T, what string, st int, h http.Header, body []byte, fields ...string) {
	t.Helper()
	var p struct {
		Type   string              `json:"type"`
		Errors []domain.FieldError `json:"errors"`
	}
	_ = json.Unmarshal(body, &p) // a body that is no problem fails below
	var named []string
	for _, e := range p.Errors {
		named = append(named, e.Field)
	}
	if st != http.StatusBadRequest || !isProblem(h) || p.Type != "https://everywhere-fulfilment.dev/problems/validation" || !slices.Equal(named, fields) {
		t.Errorf("%s: %d %q %s, want a 400 validation naming %v", what, st, h.Get("Content-Type"), body, fields)
	}
}

// pathParams are the names of the pattern's path parameters.
func pathParams(pattern string) []string {
	var names []string
	for _, part := range strings.Split(pattern, "/") {
		if name, ok := strings.CutPrefix(part, "{"); ok {
			names = append(names, strings.TrimSuffix(name, "}"))
		}
	}
	return names
}

// jsonStrings lists the JSON path of every string in a JSON document, in the
// form the API's field errors use ("lines[0].sku").
func jsonStrings(t *testing.T, doc []byte) []string {
	t.Helper()
	if doc == nil {
		return nil
	}
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	var paths []string
	visitStrings(v, "", func(path string, _ func(string)) { paths = append(paths, path) })
	return paths
}

// visitStrings calls visit with the path of every string in v and a function
// that replaces it.
func visitStrings(v any, path string, visit func(path string, set func(string))) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if _, ok := x[k].(string); ok {
				visit(p, func(n string) { x[k] = n })
				continue
			}
			visitStrings(x[k], p, visit)
		}
	case []any:
		for i := range x {
			p := fmt.Sprintf("%s[%d]", path, i)
			if _, ok := x[i].(string); ok {
				visit(p, func(n string) { x[i] = n })
				continue
			}
			visitStrings(x[i], p, visit)
		}
	}
}

// hostileBody returns doc with the string at path replaced by "x" followed by
// text, written into the JSON source as it is (so that it can be invalid UTF-8).
func hostileBody(t *testing.T, doc []byte, path, text string) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	found := false
	visitStrings(v, "", func(p string, set func(string)) {
		if p == path {
			set(hostileMarker)
			found = true
		}
	})
	if !found {
		t.Fatalf("no string at %s in %s", path, doc)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Replace(b, []byte(`"`+hostileMarker+`"`), []byte(`"x`+text+`"`), 1)
}
