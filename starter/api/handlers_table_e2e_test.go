package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// handlerCase is one request of the handler table and the answer it must get.
type handlerCase struct {
	name   string
	method string
	path   string
	token  string // a key of system.tokens
	// body is sent as JSON; a string is sent as it is; nil sends no body.
	body   any
	status int
	// typ is the problem type after the base URL; "" for a success.
	typ string
	// errors is the exact list of field errors of a 400 validation problem.
	errors []domain.FieldError
	// detail, when set, must be part of the problem's detail.
	detail string
	// extra members the problem must carry.
	extra map[string]any
	// contentType of a request with a body: "" sends application/json, "-" none.
	contentType string
}

// handlerProblem is an RFC 9457 answer as a client reads it.
type handlerProblem struct {
	Type   string              `json:"type"`
	Title  string              `json:"title"`
	Status int                 `json:"status"`
	Detail string              `json:"detail"`
	Errors []domain.FieldError `json:"errors"`
}

func fe(field, message string) domain.FieldError {
	return domain.FieldError{Field: field, Message: message}
}

const (
	ctrlMsg    = "must not contain control characters (U+0000-U+001F, U+007F-U+009F)"
	utf8Msg    = "must be valid UTF-8 text"
	outOfStock = "OUT-OF-STOCK-1" // a known article that no location has (TestHandlerTable stocks it with 0)
	idMessage  = "must be 1-64 letters, digits, '-' or '_', starting with a letter or digit"
	tzMessage  = `must be an IANA time zone such as "Europe/Berlin"`
	e164       = `must be a phone number in E.164 form such as "+4915112345678"`
	localeMsg  = `must be a language tag such as "de-DE" or "en"`
	channelMsg = `must be "email", "sms" or "push"`
	noEmailMsg = `must include "email": order messages always go by email`
)

// TestHandlerTable sends every route its every kind of bad request, and a good
// one, and checks the status, the problem type and every validation message.
func TestHandlerTable(t *testing.T) {
	t.Parallel()
	s := newSystem(t, fastPolicy())
	s.setStock("dc-erfurt", outOfStock, 0)
	ready, picking, locked := "HT-R-"+s.suffix, "HT-P-"+s.suffix, "HT-L-"+s.suffix
	unknown := "HT-X-" + s.suffix
	for _, id := range []string{ready, picking, locked} {
		s.place(id, "ship_to_store")
	}
	s.pickAll(ready, "berlin-mitte", "berlin")
	s.pickAll(locked, "berlin-mitte", "berlin")
	s.waitStage(ready, "ready_for_pickup")
	s.waitStage(locked, "ready_for_pickup")
	s.waitStage(picking, "picking")
	s.pickupCode(ready) // the message is sent: resend has something to send again
	st, b := s.do(http.MethodGet, "/v1/orders/"+ready, s.tokens["support"], nil)
	if st != http.StatusOK {
		t.Fatalf("status of %s: %d %v", ready, st, b)
	}
	deadline, err := time.Parse(time.RFC3339Nano, fmt.Sprint(b["pickup_deadline"]))
	if err != nil {
		t.Fatalf("pickup_deadline %v: %v", b["pickup_deadline"], err)
	}

	order := func(id string, change func(map[string]any)) map[string]any {
		body := s.orderBody(id, "ship_to_store")
		if change != nil {
			change(body)
		}
		return body
	}
	customer := func(field string, v any) func(map[string]any) {
		return func(b map[string]any) {
			c := map[string]any{}
			for k, x := range b["customer"].(map[string]string) {
				c[k] = x
			}
			c[field] = v
			b["customer"] = c
		}
	}
	home := func(field string, v any) func(map[string]any) {
		return func(b map[string]any) {
			b["method"] = "home_delivery"
			delete(b, "store_id")
			a := map[string]any{"name": "Mia Schmidt", "line1": "Torstraße 1", "postal_code": "10119", "city": "Berlin", "country": "DE"}
			if field != "" {
				a[field] = v
			}
			b["address"] = a
		}
	}
	set := func(field string, v any) func(map[string]any) {
		return func(b map[string]any) { b[field] = v }
	}
	line := func(field string, v any) func(map[string]any) {
		return func(b map[string]any) {
			l := map[string]any{"sku": "WATCH-001", "name": "Automatic watch", "quantity": 1, "unit_price": 24900}
			l[field] = v
			b["lines"] = []map[string]any{l}
		}
	}
	long := strings.Repeat("x", 201)
	bad := func(id string) string { return "HT-V-" + id + "-" + s.suffix }
	prefs := func(change func(map[string]any)) map[string]any {
		p := map[string]any{"email": "mia@example.com", "phone": "+4915112345678", "push_token": "", "locale": "de-DE",
			"time_zone": "Europe/Berlin", "marketing_consent": true, "channels": []string{"email", "sms"}}
		if change != nil {
			change(p)
		}
		return p
	}
	pick := func(lines ...map[string]any) map[string]any { return map[string]any{"lines": lines} }
	pl := func(sku string, q int) map[string]any { return map[string]any{"sku": sku, "quantity": q} }
	tooLarge := `{"order_id": "` + strings.Repeat("x", 70<<10) + `"}`
	stages := make([]string, 0, len(domain.Stages()))
	for _, st := range domain.Stages() {
		stages = append(stages, string(st))
	}
	const listParams = "stage, store, customer, needs_attention, limit, cursor"
	prefsPath := "/v1/customers/C-HT-" + s.suffix + "/preferences"
	storePath := func(id, action string) string { return "/v1/stores/berlin-mitte/orders/" + id + "/" + action }

	cases := []handlerCase{
		// POST /v1/orders: every message of domain.ValidateOrder and of the starter.
		{name: "order ok", method: "POST", path: "/v1/orders", token: "checkout", body: order(bad("ok"), nil), status: 201},
		{name: "order_id", body: order("", nil), errors: []domain.FieldError{fe("order_id", idMessage)}},
		{name: "order_id with a slash", body: order("A/1", customer("id", "C-slash")), errors: []domain.FieldError{fe("order_id", idMessage)}},
		{name: "customer.id", body: order(bad("cid"), customer("id", "-x")), errors: []domain.FieldError{fe("customer.id", idMessage)}},
		{name: "customer.name missing", body: order(bad("cn"), customer("name", " ")), errors: []domain.FieldError{fe("customer.name", "is required")}},
		{name: "customer.name too long", body: order(bad("cnl"), customer("name", long)), errors: []domain.FieldError{fe("customer.name", "must be at most 200 characters")}},
		{name: "customer.email", body: order(bad("ce"), customer("email", "mia@")), errors: []domain.FieldError{fe("customer.email", "must be an email address")}},
		{name: "customer.phone", body: order(bad("cp"), customer("phone", "0151 123")), errors: []domain.FieldError{fe("customer.phone", e164)}},
		{name: "customer.locale", body: order(bad("cl"), customer("locale", "german")), errors: []domain.FieldError{fe("customer.locale", localeMsg)}},
		{name: "customer.time_zone missing", body: order(bad("ctz"), customer("time_zone", "")), errors: []domain.FieldError{fe("customer.time_zone", "is required")}},
		{name: "customer.time_zone unknown", body: order(bad("ctu"), customer("time_zone", "Mars/Olympus")), errors: []domain.FieldError{fe("customer.time_zone", tzMessage)}},
		{name: "customer.time_zone Local", body: order(bad("ctl"), customer("time_zone", "Local")), errors: []domain.FieldError{fe("customer.time_zone", tzMessage)}},
		{name: "method", body: order(bad("m"), set("method", "drone")), errors: []domain.FieldError{fe("method", `must be "ship_to_store" or "home_delivery"`)}},
		{name: "store_id missing", body: order(bad("s"), set("store_id", "")), errors: []domain.FieldError{fe("store_id", "is required for ship_to_store")}},
		{name: "store_id unknown", body: order(bad("su"), set("store_id", "atlantis")), errors: []domain.FieldError{fe("store_id", `no store "atlantis"`)}},
		{name: "store_id of a DC", body: order(bad("sd"), set("store_id", "dc-erfurt")), errors: []domain.FieldError{fe("store_id", `no store "dc-erfurt"`)}},
		{name: "address missing", body: order(bad("a"), func(b map[string]any) { home("", nil)(b); delete(b, "address") }), errors: []domain.FieldError{fe("address", "is required for home_delivery")}},
		{name: "address ok", body: order(bad("aok"), home("", nil)), status: 201},
		{name: "address.name", body: order(bad("an"), home("name", "")), errors: []domain.FieldError{fe("address.name", "is required")}},
		{name: "address.line1", body: order(bad("al1"), home("line1", "")), errors: []domain.FieldError{fe("address.line1", "is required")}},
		{name: "address.line2", body: order(bad("al2"), home("line2", long)), errors: []domain.FieldError{fe("address.line2", "must be at most 200 characters")}},
		{name: "address.postal_code", body: order(bad("ap"), home("postal_code", "")), errors: []domain.FieldError{fe("address.postal_code", "is required")}},
		{name: "address.city", body: order(bad("ac"), home("city", long)), errors: []domain.FieldError{fe("address.city", "must be at most 200 characters")}},
		{name: "address.country", body: order(bad("aco"), home("country", "de")), errors: []domain.FieldError{fe("address.country", `must be an ISO 3166-1 alpha-2 code such as "DE"`)}},
		{name: "currency", body: order(bad("cur"), set("currency", "eur")), errors: []domain.FieldError{fe("currency", `must be an ISO 4217 code such as "EUR"`)}},
		{name: "payment_intent_id", body: order(bad("pi"), set("payment_intent_id", "")), errors: []domain.FieldError{fe("payment_intent_id", "is required")}},
		{name: "payment_intent_id of another order", body: order(bad("pio"), set("payment_intent_id", "pi_"+ready)), errors: []domain.FieldError{fe("payment_intent_id", "is already used by another order")}},
		{name: "no lines", body: order(bad("l0"), set("lines", []any{})), errors: []domain.FieldError{fe("lines", "must hold 1 to 50 lines")}},
		{name: "too many lines", body: order(bad("l51"), func(b map[string]any) {
			var ls []map[string]any
			for i := range domain.MaxLines + 1 {
				ls = append(ls, map[string]any{"sku": fmt.Sprintf("SKU-%d", i), "name": "x", "quantity": 1, "unit_price": 1})
			}
			b["lines"] = ls
		}), errors: []domain.FieldError{fe("lines", "must hold 1 to 50 lines")}},
		{name: "lines[0].sku", body: order(bad("sku"), line("sku", "a b")), errors: []domain.FieldError{fe("lines[0].sku", "must be 1-64 letters, digits, '-' or '_'")}},
		{name: "lines[1].sku repeated", body: order(bad("skr"), set("lines", []map[string]any{
			{"sku": "WATCH-001", "name": "a", "quantity": 1, "unit_price": 1}, {"sku": "WATCH-001", "name": "b", "quantity": 1, "unit_price": 1}})),
			errors: []domain.FieldError{fe("lines[1].sku", "repeats SKU WATCH-001: use one line per SKU")}},
		{name: "lines[0].name", body: order(bad("ln"), line("name", "")), errors: []domain.FieldError{fe("lines[0].name", "is required")}},
		{name: "lines[0].quantity 0", body: order(bad("lq0"), line("quantity", 0)), errors: []domain.FieldError{fe("lines[0].quantity", "must be between 1 and 99")}},
		{name: "lines[0].quantity 100", body: order(bad("lq1"), line("quantity", 100)), errors: []domain.FieldError{fe("lines[0].quantity", "must be between 1 and 99")}},
		{name: "lines[0].unit_price", body: order(bad("lp"), line("unit_price", -1)), errors: []domain.FieldError{fe("lines[0].unit_price", "must be between 0 and 10000000 minor units")}},
		{name: "push_token", body: order(bad("pt"), set("push_token", strings.Repeat("t", 4097))), errors: []domain.FieldError{fe("push_token", "must be at most 4096 characters")}},
		{name: "channels unknown", body: order(bad("ch"), set("channels", []string{"email", "fax"})), errors: []domain.FieldError{fe("channels[1]", channelMsg)}},
		{name: "channels twice", body: order(bad("ch2"), set("channels", []string{"email", "email"})), errors: []domain.FieldError{fe("channels[1]", "is listed twice")}},
		{name: "channels without email", body: order(bad("ch3"), set("channels", []string{"sms"})), errors: []domain.FieldError{fe("channels", noEmailMsg)}},
		{name: "every bad field at once", body: order("", func(b map[string]any) {
			customer("email", "x")(b)
			b["currency"], b["lines"], b["channels"] = "", []any{}, []string{"pager"}
		}), errors: []domain.FieldError{fe("order_id", idMessage), fe("customer.email", "must be an email address"),
			fe("currency", `must be an ISO 4217 code such as "EUR"`), fe("lines", "must hold 1 to 50 lines"),
			fe("channels[0]", channelMsg), fe("channels", noEmailMsg)}},
		{name: "order malformed JSON", body: `{"order_id": `, status: 400, typ: "malformed"},
		{name: "order wrong type", body: `{"lines": "many"}`, status: 400, typ: "malformed", detail: "lines: must be an array"},
		{name: "order array body", body: `[{"order_id": "A-1"}]`, status: 400, typ: "malformed", detail: "The body must be a JSON object."},
		{name: "order customer not an object", body: `{"order_id": "A-1", "customer": "Mia"}`, status: 400, typ: "malformed", detail: "customer: must be an object"},
		{name: "order quantity not whole", body: `{"lines": [{"sku": "WATCH-001", "quantity": 1.5}]}`, status: 400, typ: "malformed", detail: "lines[0].quantity: must be a whole number"},
		{name: "order unknown nested field", body: `{"lines": [{"sku": "WATCH-001"}, {"sku": "X", "colour": "red"}]}`, status: 400, typ: "malformed", detail: "lines[1].colour: is not a field of this request"},
		{name: "order as text/plain", body: order(bad("tp"), nil), contentType: "text/plain", status: 415, typ: "unsupported-media-type", detail: "application/json"},
		{name: "order as a form", body: order(bad("form"), nil), contentType: "application/x-www-form-urlencoded", status: 415, typ: "unsupported-media-type"},
		{name: "order as JSON with a charset", body: order(bad("cs"), nil), contentType: "application/json; charset=utf-8", status: 201},
		{name: "order without a content type", body: order(bad("noct"), nil), contentType: "-", status: 415, typ: "unsupported-media-type"},
		{name: "order unknown field", body: `{"order_id": "A-1", "discount": 5}`, status: 400, typ: "malformed", detail: "discount: is not a field of this request"},
		{name: "order two objects", body: `{} {}`, status: 400, typ: "malformed", detail: "one JSON object"},
		{name: "order no body", body: nil, status: 400, typ: "malformed"},
		{name: "order too large", body: tooLarge, status: 413, typ: "too-large"},
		{name: "order exists with another body", body: order(ready, set("payment_intent_id", "pi_other_"+ready)), status: 409, typ: "order-exists"},
		{name: "order payment failed", body: order(bad("dec"), set("payment_intent_id", "pi_decline_"+bad("dec"))), status: 402, typ: "payment-failed"},
		{name: "order rejected for stock", body: order(bad("short"), line("sku", outOfStock)), status: 409, typ: "rejected"},
		// An article or store that does not exist is the caller's mistake: a 400
		// that starts nothing, so that the corrected request may use the same ID.
		{name: "lines[1].sku unknown", body: order(bad("usku"), set("lines", []map[string]any{
			{"sku": "WATCH-001", "name": "a", "quantity": 1, "unit_price": 1}, {"sku": "NO-SUCH-SKU", "name": "b", "quantity": 1, "unit_price": 1}})),
			errors: []domain.FieldError{fe("lines[1].sku", `unknown SKU "NO-SUCH-SKU"`)}},
		{name: "every unknown SKU and the store at once", body: order(bad("usku"), func(b map[string]any) {
			b["store_id"] = "atlantis"
			b["lines"] = []map[string]any{{"sku": "NOPE-1", "name": "a", "quantity": 1, "unit_price": 1},
				{"sku": "WATCH-001", "name": "b", "quantity": 1, "unit_price": 1}, {"sku": "NOPE-2", "name": "c", "quantity": 1, "unit_price": 1}}
		}), errors: []domain.FieldError{fe("store_id", `no store "atlantis"`), fe("lines[0].sku", `unknown SKU "NOPE-1"`), fe("lines[2].sku", `unknown SKU "NOPE-2"`)}},
		{name: "unknown SKU corrected, same order_id", body: order(bad("usku"), nil), status: 201},
		{name: "store_id unknown corrected, same order_id", body: order(bad("su"), nil), status: 201},
		// Text that PostgreSQL would refuse later is refused now, every bad field at once.
		{name: "customer.name with NUL", body: order(bad("nul"), customer("name", "Mia\x00Schmidt")), errors: []domain.FieldError{fe("customer.name", ctrlMsg)}},
		{name: "customer.name with NUL corrected, same order_id", body: order(bad("nul"), nil), status: 201},
		{name: "every field with bad text", body: rawOrder(order(bad("txt"), func(b map[string]any) {
			customer("name", "\x1b[2J")(b)
			b["payment_intent_id"] = "pi\u0085"
			b["lines"] = []map[string]any{{"sku": "WATCH-001", "name": "\u00ff", "quantity": 1, "unit_price": 1}}
		}), "\u00ff", "\xff"), errors: []domain.FieldError{fe("customer.name", ctrlMsg), fe("lines[0].name", utf8Msg), fe("payment_intent_id", ctrlMsg)}},

		// GET /v1/orders and /v1/orders/{id}.
		{name: "list ok", method: "GET", path: "/v1/orders?stage=picking&store=berlin-mitte&needs_attention=false&limit=5", token: "support", status: 200},
		{name: "list stage", path: "/v1/orders?stage=lost", errors: []domain.FieldError{fe("stage", `unknown stage "lost"; one of `+strings.Join(stages, ", "))}},
		{name: "list store", path: "/v1/orders?store=" + long, errors: []domain.FieldError{fe("store", idMessage)}},
		{name: "list customer", path: "/v1/orders?customer=" + long, errors: []domain.FieldError{fe("customer", idMessage)}},
		{name: "list store with NUL", path: "/v1/orders?store=berlin%00", errors: []domain.FieldError{fe("store", ctrlMsg)}},
		{name: "list text in every filter", path: "/v1/orders?stage=%1B&customer=%FF&cursor=%C2%85", errors: []domain.FieldError{
			fe("stage", ctrlMsg), fe("customer", utf8Msg), fe("cursor", ctrlMsg)}},
		{name: "list needs_attention", path: "/v1/orders?needs_attention=yes", errors: []domain.FieldError{fe("needs_attention", "must be true or false")}},
		{name: "list limit 0", path: "/v1/orders?limit=0", errors: []domain.FieldError{fe("limit", "must be a whole number from 1 to 200")}},
		{name: "list limit 201", path: "/v1/orders?limit=201", errors: []domain.FieldError{fe("limit", "must be a whole number from 1 to 200")}},
		{name: "list limit text", path: "/v1/orders?limit=ten", errors: []domain.FieldError{fe("limit", "must be a whole number from 1 to 200")}},
		{name: "list cursor", path: "/v1/orders?cursor=bm9wZQ", errors: []domain.FieldError{fe("cursor", "is not a cursor of this list; use next_cursor from a previous page")}},
		{name: "list twice", path: "/v1/orders?stage=picking&stage=picked", errors: []domain.FieldError{fe("stage", "may be given once")}},
		{name: "list unknown parameter", path: "/v1/orders?colour=red&size=9", errors: []domain.FieldError{
			fe("colour", "is not a filter of this list; use "+listParams), fe("size", "is not a filter of this list; use "+listParams)}},
		{name: "list bad query", path: "/v1/orders?stage=%zz", errors: []domain.FieldError{fe("query", "is not a valid URL query string")}},
		{name: "list every bad parameter", path: "/v1/orders?limit=-1&needs_attention=1&x=1", errors: []domain.FieldError{
			fe("needs_attention", "must be true or false"), fe("limit", "must be a whole number from 1 to 200"), fe("x", "is not a filter of this list; use "+listParams)}},
		{name: "order status", path: "/v1/orders/" + ready, status: 200},
		{name: "order status unknown", path: "/v1/orders/" + unknown, status: 404, typ: "not-found"},
		{name: "order status id with NUL", path: "/v1/orders/A%00", errors: []domain.FieldError{fe("id", idMessage)}},
		{name: "order status id emoji", path: "/v1/orders/%F0%9F%9A%80", errors: []domain.FieldError{fe("id", idMessage)}},
		{name: "order status id too long", path: "/v1/orders/" + strings.Repeat("A", 65), errors: []domain.FieldError{fe("id", idMessage)}},

		// PUT /v1/customers/{id}/preferences.
		{name: "preferences ok", method: "PUT", path: prefsPath, token: "support", body: prefs(nil), status: 200},
		{name: "preferences id", path: "/v1/customers/-C/preferences", body: prefs(nil), errors: []domain.FieldError{fe("id", idMessage)}},
		{name: "preferences email", path: prefsPath, body: prefs(func(p map[string]any) { p["email"] = "@example.com" }), errors: []domain.FieldError{fe("email", "must be an email address")}},
		{name: "preferences phone", body: prefs(func(p map[string]any) { p["phone"] = "4915112345678" }), errors: []domain.FieldError{fe("phone", e164)}},
		{name: "preferences locale", body: prefs(func(p map[string]any) { p["locale"] = "" }), errors: []domain.FieldError{fe("locale", localeMsg)}},
		{name: "preferences time_zone missing", body: prefs(func(p map[string]any) { p["time_zone"] = "" }), errors: []domain.FieldError{fe("time_zone", tzMessage)}},
		{name: "preferences time_zone unknown", body: prefs(func(p map[string]any) { p["time_zone"] = "Europe/Gotham" }), errors: []domain.FieldError{fe("time_zone", tzMessage)}},
		{name: "preferences time_zone Local", body: prefs(func(p map[string]any) { p["time_zone"] = "Local" }), errors: []domain.FieldError{fe("time_zone", tzMessage)}},
		{name: "preferences channels missing", body: prefs(func(p map[string]any) { delete(p, "channels") }),
			errors: []domain.FieldError{fe("channels", `is required: a list of "email", "sms", "push" that includes "email"`)}},
		{name: "preferences channels", body: prefs(func(p map[string]any) { p["channels"] = []string{"push", "fax", "push"} }),
			errors: []domain.FieldError{fe("channels[1]", channelMsg), fe("channels[2]", "is listed twice"), fe("channels", noEmailMsg)}},
		{name: "preferences push_token", body: prefs(func(p map[string]any) { p["push_token"] = strings.Repeat("t", 4097) }),
			errors: []domain.FieldError{fe("push_token", "must be at most 4096 characters")}},
		{name: "preferences unknown field", body: `{"email": "mia@example.com", "sms_opt_in": true}`, status: 400, typ: "malformed", detail: "sms_opt_in: is not a field of this request"},
		{name: "preferences malformed", body: `[]`, status: 400, typ: "malformed"},
		{name: "preferences too large", body: tooLarge, status: 413, typ: "too-large"},

		// Support's order actions.
		{name: "cancel reason missing", method: "POST", path: "/v1/orders/" + picking + "/cancel", token: "support", body: map[string]any{}, errors: []domain.FieldError{fe("reason", "is required")}},
		{name: "cancel reason blank", body: map[string]string{"reason": "  "}, errors: []domain.FieldError{fe("reason", "is required")}},
		{name: "cancel reason with NUL", body: map[string]string{"reason": "lost\x00"}, errors: []domain.FieldError{fe("reason", "must not contain control characters other than line feed and tab")}},
		{name: "cancel unknown field", body: `{"reason": "x", "refund": false}`, status: 400, typ: "malformed", detail: "refund: is not a field of this request"},
		{name: "cancel malformed", body: `{"reason": 1}`, status: 400, typ: "malformed", detail: "reason: must be a string"},
		{name: "cancel too large", body: tooLarge, status: 413, typ: "too-large"},
		{name: "cancel unknown order", path: "/v1/orders/" + unknown + "/cancel", body: map[string]string{"reason": "x"}, status: 404, typ: "not-found"},
		{name: "cancel unknown order, text of several lines", path: "/v1/orders/" + unknown + "/cancel", body: map[string]string{"reason": "parcel lost:\n\tcarrier says so"}, status: 404, typ: "not-found"},
		{name: "cancel id with a slash", path: "/v1/orders/..%2F" + picking + "/cancel", body: map[string]string{"reason": "x"}, errors: []domain.FieldError{fe("id", idMessage)}},
		{name: "extend until missing", path: "/v1/orders/" + ready + "/extend-pickup", body: map[string]any{}, errors: []domain.FieldError{fe("until", "is required (RFC 3339 time)")}},
		{name: "extend until not a time", body: map[string]string{"until": "next week"}, status: 400, typ: "malformed", detail: "until: must be a time"},
		{name: "extend until before the deadline", body: map[string]any{"until": deadline.Add(-time.Hour)},
			errors: []domain.FieldError{fe("until", "must be after the current deadline "+deadline.UTC().Format(time.RFC3339))}},
		{name: "extend until too late", body: map[string]any{"until": deadline.Add(workflows.MaxPickupExtension + time.Hour)},
			errors: []domain.FieldError{fe("until", "may be at most 30 days after the current deadline")}},
		{name: "extend unknown field", body: `{"until": "2030-01-01T00:00:00Z", "days": 3}`, status: 400, typ: "malformed", detail: "days: is not a field of this request"},
		{name: "extend while picking", path: "/v1/orders/" + picking + "/extend-pickup", body: map[string]any{"until": deadline.Add(time.Hour)}, status: 409, typ: "wrong-stage"},
		{name: "extend unknown order", path: "/v1/orders/" + unknown + "/extend-pickup", body: map[string]any{"until": deadline.Add(time.Hour)}, status: 404, typ: "not-found"},
		{name: "extend ok", path: "/v1/orders/" + ready + "/extend-pickup", body: map[string]any{"until": deadline.Add(time.Hour)}, status: 200},
		{name: "unlock not locked", path: "/v1/orders/" + ready + "/unlock-pickup", body: nil, status: 409, typ: "wrong-stage"},
		{name: "unlock unknown order", path: "/v1/orders/" + unknown + "/unlock-pickup", status: 404, typ: "not-found"},
		{name: "resend touchpoint missing", path: "/v1/orders/" + ready + "/resend-notification", body: map[string]any{},
			errors: []domain.FieldError{fe("touchpoint", `must be a transactional touchpoint such as "ready-for-pickup"`)}},
		{name: "resend review request", body: map[string]string{"touchpoint": "review-request"},
			errors: []domain.FieldError{fe("touchpoint", `must be a transactional touchpoint such as "ready-for-pickup"`)}},
		{name: "resend channel", body: map[string]string{"touchpoint": "ready-for-pickup", "channel": "fax"},
			errors: []domain.FieldError{fe("channel", `must be "email", "sms" or "push" (or left out for every channel)`)}},
		{name: "resend both", body: map[string]string{"touchpoint": "lost-code", "channel": "pigeon"},
			errors: []domain.FieldError{fe("touchpoint", `must be a transactional touchpoint such as "ready-for-pickup"`),
				fe("channel", `must be "email", "sms" or "push" (or left out for every channel)`)}},
		{name: "resend unknown field", body: `{"touchpoint": "ready-for-pickup", "to": "x"}`, status: 400, typ: "malformed", detail: "to: is not a field of this request"},
		{name: "resend never sent", body: map[string]string{"touchpoint": "shipped"}, status: 409, typ: "nothing-to-resend"},
		{name: "resend unknown order", path: "/v1/orders/" + unknown + "/resend-notification", body: map[string]string{"touchpoint": "ready-for-pickup"}, status: 404, typ: "not-found"},
		{name: "resend ok", path: "/v1/orders/" + ready + "/resend-notification", body: map[string]string{"touchpoint": "ready-for-pickup", "channel": "email"}, status: 200},

		// Store staff.
		{name: "store work", method: "GET", path: "/v1/stores/berlin-mitte/work", token: "berlin", body: nil, status: 200},
		{name: "store work of support", token: "support", status: 200},
		{name: "store work of another store", token: "hamburg", status: 404, typ: "not-found"},
		// A store that does not exist is not an outage.
		{name: "store work of no store", path: "/v1/stores/atlantis/work", token: "support", status: 404, typ: "not-found"},
		{name: "store work of a store ID with NUL", path: "/v1/stores/berlin%00/work", token: "support", errors: []domain.FieldError{fe("store", idMessage)}},
		{name: "pick lines missing", method: "POST", path: storePath(picking, "pick"), token: "berlin", body: map[string]any{},
			errors: []domain.FieldError{fe("lines", "give the picked quantity of every SKU")}},
		{name: "pick sku not in the order", body: pick(pl("WATCH-001", 1), pl("NOPE", 1)), errors: []domain.FieldError{fe("lines[1].sku", "NOPE is not in the order")}},
		{name: "pick sku twice", body: pick(pl("WATCH-001", 1), pl("WATCH-001", 1)), errors: []domain.FieldError{fe("lines[1].sku", "WATCH-001 appears twice")}},
		{name: "pick quantity", body: pick(pl("WATCH-001", 2), pl("STRAP-LEA-20", 2)), errors: []domain.FieldError{fe("lines[0].quantity", "must be between 0 and 1")}},
		{name: "pick negative quantity", body: pick(pl("WATCH-001", 1), pl("STRAP-LEA-20", -1)), errors: []domain.FieldError{fe("lines[1].quantity", "must be between 0 and 2")}},
		{name: "pick sku missing", body: pick(pl("WATCH-001", 1)), errors: []domain.FieldError{fe("lines", "every SKU of the order needs a picked quantity (1 of 2 given)")}},
		{name: "pick unknown field", body: `{"lines": [{"sku": "WATCH-001", "quantity": 1, "bin": "A3"}]}`, status: 400, typ: "malformed", detail: "bin: is not a field of this request"},
		{name: "pick too large", body: tooLarge, status: 413, typ: "too-large"},
		{name: "pick when ready", path: storePath(ready, "pick"), body: pick(pl("WATCH-001", 1), pl("STRAP-LEA-20", 2)), status: 409, typ: "wrong-stage"},
		{name: "pick unknown order", path: storePath(unknown, "pick"), body: pick(pl("WATCH-001", 1)), status: 404, typ: "not-found"},
		{name: "arrival when ready", path: storePath(ready, "arrival"), body: map[string]any{}, status: 409, typ: "wrong-stage"},
		{name: "arrival unknown order", path: storePath(unknown, "arrival"), status: 404, typ: "not-found"},
		{name: "pickup code missing", path: storePath(ready, "pickup"), body: map[string]any{}, errors: []domain.FieldError{fe("code", "is required")}},
		{name: "pickup code blank", body: map[string]string{"code": "  "}, errors: []domain.FieldError{fe("code", "is required")}},
		{name: "pickup code with a tab", body: map[string]string{"code": " \t"}, errors: []domain.FieldError{fe("code", ctrlMsg)}},
		{name: "pickup unknown field", body: `{"code": "123456", "name": "Mia"}`, status: 400, typ: "malformed", detail: "name: is not a field of this request"},
		{name: "pickup code not six digits", body: map[string]string{"code": "12345a"}, errors: []domain.FieldError{fe("code", "must be the six digits of the customer's message")}},
		{name: "pickup wrong code", body: map[string]string{"code": "000000"}, status: 422, typ: "wrong-pickup-code",
			extra: map[string]any{"attempts_left": float64(workflows.MaxWrongPickupCodes - 1)}},
		{name: "pickup unknown order", path: storePath(unknown, "pickup"), body: map[string]string{"code": "123456"}, status: 404, typ: "not-found"},
		{name: "pickup of another store's order", path: "/v1/stores/hamburg-altona/orders/" + ready + "/pickup", token: "hamburg",
			body: map[string]string{"code": "123456"}, status: 404, typ: "not-found"},
		{name: "pickup path IDs", path: "/v1/stores/%F0%9F%9A%80/orders/" + strings.Repeat("x", 300) + "/pickup", body: map[string]string{"code": "123456"},
			errors: []domain.FieldError{fe("store", idMessage), fe("id", idMessage)}},
	}
	// The last wrong code locks the handover; a locked one answers 423 to every code.
	for i := range workflows.MaxWrongPickupCodes {
		c := handlerCase{name: fmt.Sprintf("locking wrong code %d", i+1), path: storePath(locked, "pickup"), token: "berlin",
			body: map[string]string{"code": "000000"}, status: 422, typ: "wrong-pickup-code",
			extra: map[string]any{"attempts_left": float64(workflows.MaxWrongPickupCodes - 1 - i)}}
		if i == workflows.MaxWrongPickupCodes-1 {
			c.status, c.typ, c.extra = 423, "pickup-locked", map[string]any{"attempts_left": float64(0)}
		}
		cases = append(cases, c)
	}
	cases = append(cases, handlerCase{name: "pickup locked", path: storePath(locked, "pickup"), token: "berlin",
		body: map[string]string{"code": s.pickupCode(locked)}, status: 423, typ: "pickup-locked"})

	// Unset method, path, token and body carry over from the case before, so that
	// a route's rows read as a list of what changes.
	var prev handlerCase
	for _, c := range cases {
		if c.method == "" {
			c.method = prev.method
		}
		if c.path == "" {
			c.path = prev.path
		}
		if c.token == "" {
			c.token = prev.token
		}
		if c.body == nil && c.method == prev.method && c.path == prev.path && !strings.HasSuffix(c.name, "no body") {
			c.body = prev.body
		}
		if c.errors != nil {
			c.status, c.typ = http.StatusBadRequest, "validation"
		}
		prev = c
		t.Run(c.name, func(t *testing.T) { checkHandlerCase(t, s, c) })
	}
}

// rawOrder encodes body as JSON and then replaces every occurrence of the
// encoded text old by new, raw: JSON encoding cannot make invalid UTF-8.
func rawOrder(body map[string]any, old, new string) string {
	b, err := json.Marshal(body)
	if err != nil {
		panic(err) // maps of strings and numbers always encode
	}
	return strings.ReplaceAll(string(b), old, new)
}

func checkHandlerCase(t *testing.T, s *system, c handlerCase) {
	t.Helper()
	var rd io.Reader
	switch b := c.body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	ct := c.contentType
	if ct == "" && rd != nil {
		ct = "application/json"
	}
	status, header, data := s.sendAs(t, c.method, c.path, s.tokens[c.token], strings.TrimPrefix(ct, "-"), rd)
	if status != c.status {
		t.Fatalf("%s %s: %d %s, want %d", c.method, c.path, status, data, c.status)
	}
	if c.typ == "" {
		if ct := header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q, want application/json", ct)
		}
		return
	}
	if ct := header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	var p handlerProblem
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	if want := "https://everywhere-fulfilment.dev/problems/" + c.typ; p.Type != want || p.Status != c.status || p.Title == "" {
		t.Errorf("problem %+v, want type %s, status %d and a title", p, want, c.status)
	}
	if c.errors != nil {
		if !reflect.DeepEqual(p.Errors, c.errors) {
			t.Errorf("errors:\n got %v\nwant %v", p.Errors, c.errors)
		}
		if want := fmt.Sprintf("%d field(s) are invalid.", len(c.errors)); p.Detail != want {
			t.Errorf("detail %q, want %q", p.Detail, want)
		}
	} else if len(p.Errors) > 0 {
		t.Errorf("a %s problem with field errors: %v", c.typ, p.Errors)
	}
	if !strings.Contains(p.Detail, c.detail) {
		t.Errorf("detail %q does not say %q", p.Detail, c.detail)
	}
	if len(c.extra) > 0 {
		var all map[string]any
		if err := json.Unmarshal(data, &all); err != nil {
			t.Fatal(err)
		}
		for k, v := range c.extra {
			if all[k] != v {
				t.Errorf("%s = %v, want %v", k, all[k], v)
			}
		}
	}
	if c.status == http.StatusServiceUnavailable || c.status >= 500 {
		t.Errorf("a %d is not an answer to a client's request", c.status)
	}
}
