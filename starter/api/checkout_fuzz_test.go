package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// checkoutFakeStore is the PostgreSQL side of POST /v1/orders: one store
// (berlin-mitte), one distribution centre, and a record of every write.
type checkoutFakeStore struct {
	Store  // nil: any other method is a call the handler must not make, and panics
	writes []string
}

func (f *checkoutFakeStore) Location(_ context.Context, id string) (activities.Location, error) {
	switch id {
	case "berlin-mitte":
		return activities.Location{ID: id, Kind: activities.KindStore, Name: "Berlin Mitte"}, nil
	case "dc-erfurt":
		return activities.Location{ID: id, Kind: activities.KindDistributionCentre, Name: "Erfurt"}, nil
	}
	return activities.Location{}, fmt.Errorf("location %s: %w", id, activities.ErrUnknownLocation)
}

// checkoutKnownSKUs are the articles the fake store stocks.
var checkoutKnownSKUs = map[string]bool{"WATCH-001": true, "STRAP-LEA-20": true}

func (f *checkoutFakeStore) CheckoutFacts(ctx context.Context, q records.CheckoutLookup) (records.CheckoutFacts, error) {
	var facts records.CheckoutFacts
	if q.StoreID != "" {
		if loc, err := f.Location(ctx, q.StoreID); err == nil {
			facts.Store = &loc
		}
	}
	for _, sku := range q.SKUs {
		if !checkoutKnownSKUs[sku] {
			facts.UnknownSKUs = append(facts.UnknownSKUs, sku)
		}
	}
	return facts, nil // no order was placed before (the answer would say "replay" otherwise)
}

func (f *checkoutFakeStore) SavePreferences(_ context.Context, p records.ContactPreferences) error {
	f.writes = append(f.writes, "preferences "+p.CustomerID)
	return nil
}

func (f *checkoutFakeStore) RecordPaymentOrder(_ context.Context, paymentID, orderID string) error {
	f.writes = append(f.writes, "payment "+paymentID+" "+orderID)
	return nil
}

// checkoutFakeTemporal records the workflow the handler would start and then
// answers that Temporal is unreachable, so that the handler answers 503.
type checkoutFakeTemporal struct {
	TemporalClient // nil: no other call is expected
	started        []workflows.Input
}

func (f *checkoutFakeTemporal) NewWithStartWorkflowOperation(_ client.StartWorkflowOptions, _ any, args ...any) client.WithStartWorkflowOperation {
	for _, a := range args {
		if in, ok := a.(workflows.Input); ok {
			f.started = append(f.started, in)
		}
	}
	return nil
}

func (f *checkoutFakeTemporal) UpdateWithStartWorkflow(context.Context, client.UpdateWithStartWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	return nil, serviceerror.NewUnavailable("fuzz: no Temporal here")
}

// checkoutFieldPath is every field path a checkout's field error may name.
var checkoutFieldPath = regexp.MustCompile(`^(order_id|customer\.(id|name|email|phone|locale|time_zone)|method|store_id|` +
	`address|address\.(name|line1|line2|postal_code|city|country)|currency|payment_intent_id|lines|` +
	`lines\[(?P<line>\d+)\]\.(sku|name|quantity|unit_price)|push_token|channels|channels\[(?P<channel>\d+)\])$`)

// starterOnlyFields are the fields the starter checks beyond domain.ValidateOrder.
var starterOnlyFields = regexp.MustCompile(`^(customer\.time_zone|store_id|push_token|channels|channels\[\d+\])$`)

// validCheckoutBody is a ship-to-store order the fake store accepts.
const validCheckoutBody = `{"order_id":"A-1","customer":{"id":"C-1","name":"Mia Schmidt","email":"mia@example.com","locale":"de-DE","time_zone":"Europe/Berlin"},` +
	`"marketing_consent":true,"method":"ship_to_store","store_id":"berlin-mitte","currency":"EUR","payment_intent_id":"pi_1",` +
	`"lines":[{"sku":"WATCH-001","name":"Automatic watch","quantity":1,"unit_price":24900}]}`

// homeCheckoutBody is a valid home delivery with a push token and channels.
var homeCheckoutBody = strings.Replace(strings.Replace(validCheckoutBody, `"method":"ship_to_store","store_id":"berlin-mitte"`,
	`"method":"home_delivery","address":{"name":"Mia","line1":"Torstraße 1","postal_code":"10119","city":"Berlin","country":"DE"}`, 1),
	`"marketing_consent":true`, `"marketing_consent":false,"push_token":"tok","channels":["email","push"]`, 1)

// FuzzCheckoutDecoder sends arbitrary bodies to POST /v1/orders with a fake
// store and Temporal client. It checks that the handler never panics, that a
// 400 names only real fields (and at least one), that only a body that decodes
// and validates clean starts a workflow, and that the order it starts validates.
func FuzzCheckoutDecoder(f *testing.F) {
	valid, home := validCheckoutBody, homeCheckoutBody
	for _, seed := range []string{
		valid, home,
		strings.Replace(valid, `"A-1"`, `""`, 1),
		strings.Replace(valid, `"C-1"`, `"-C"`, 1),
		strings.Replace(valid, `"Mia Schmidt"`, `" "`, 1),
		strings.Replace(valid, `"mia@example.com"`, `"mia@"`, 1),
		strings.Replace(valid, `"locale":"de-DE"`, `"locale":"de-DE","phone":"0151"`, 1),
		strings.Replace(valid, `"de-DE"`, `"german"`, 1),
		strings.Replace(valid, `"Europe/Berlin"`, `"Mars/Olympus"`, 1),
		strings.Replace(valid, `"Europe/Berlin"`, `""`, 1),
		strings.Replace(valid, `"ship_to_store"`, `"drone"`, 1),
		strings.Replace(valid, `"berlin-mitte"`, `"atlantis"`, 1),
		strings.Replace(valid, `"berlin-mitte"`, `"dc-erfurt"`, 1),
		strings.Replace(valid, `,"store_id":"berlin-mitte"`, ``, 1),
		strings.Replace(home, `"country":"DE"`, `"country":"de"`, 1),
		strings.Replace(home, `"line1":"Torstraße 1"`, `"line1":"","line2":"`+strings.Repeat("x", 201)+`"`, 1),
		strings.Replace(valid, `"EUR"`, `"eur"`, 1),
		strings.Replace(valid, `"pi_1"`, `""`, 1),
		strings.Replace(valid, `"quantity":1`, `"quantity":0`, 1),
		strings.Replace(valid, `"unit_price":24900`, `"unit_price":-1`, 1),
		strings.Replace(valid, `"WATCH-001"`, `"a b"`, 1),
		strings.Replace(valid, `]}`, `,{"sku":"WATCH-001","name":"again","quantity":1,"unit_price":1}]}`, 1),
		strings.Replace(valid, `"lines":[`, `"channels":["sms","fax","sms"],"lines":[`, 1),
		strings.Replace(valid, `"lines":[{"sku":"WATCH-001","name":"Automatic watch","quantity":1,"unit_price":24900}]`, `"lines":[]`, 1),
		strings.Replace(valid, `"quantity":1`, `"quantity":1.5`, 1),
		strings.Replace(valid, `"unit_price":24900`, `"unit_price":1e30`, 1),
		strings.Replace(valid, `"order_id"`, `"ORDER_ID"`, 1),
		strings.Replace(valid, `"A-1"`, `"A-1","order_id":"B-2"`, 1),
		valid + ` {}`,
		valid[:len(valid)/2],
		`{"discount":5}`, `{}`, `null`, `[]`, `""`, `0`, ``, `{"lines":null,"address":null}`, `{"customer":[]}`,
		`{"order_id":"\u0000"}`, "\xef\xbb\xbf{}", `{"lines":[null]}`, `{"lines":[{}]}`, `{"channels":[]}`,
		`{"customer":{"time_zone":"../../etc/passwd"}}`, `{"customer":{"time_zone":"Local"}}`,
		strings.Replace(valid, `"WATCH-001"`, `"NO-SUCH-SKU"`, 1),
		strings.Replace(valid, `"Mia Schmidt"`, `"Mia\u0000Schmidt"`, 1),
		strings.Replace(valid, `"Mia Schmidt"`, `"Mia\u001b[2JSchmidt"`, 1),
		strings.Replace(valid, `"Mia Schmidt"`, "\"Mia\u0085Schmidt\"", 1),
		strings.Replace(valid, `"Mia Schmidt"`, "\"Mia\xffSchmidt\"", 1),
		strings.Replace(valid, `"Mia Schmidt"`, `"Mia\ud800Schmidt"`, 1),
		strings.Replace(valid, `"WATCH-001"`, `"WATCH\u0000"`, 1),
		"{\"Customer\":\"\xac\"}", `{"lines":[{"quantity":"\u0000"}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rec, store, tc := postCheckout(body)
		checkCheckoutAnswer(t, body, rec, store, tc)
	})
}

// postCheckout sends body to the checkout handler as the checkout service, with
// fakes for PostgreSQL and Temporal.
func postCheckout(body []byte) (*httptest.ResponseRecorder, *checkoutFakeStore, *checkoutFakeTemporal) {
	store, tc := &checkoutFakeStore{}, &checkoutFakeTemporal{}
	now := func() time.Time { return time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC) }
	s := New(Config{Now: now}, tc, store, nil, slog.New(slog.DiscardHandler))
	req := httptest.NewRequest(http.MethodPost, "/v1/orders", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req = req.WithContext(context.WithValue(req.Context(), principalKey{}, records.Principal{Subject: "fuzz", Role: records.RoleCheckout}))
	rec := httptest.NewRecorder()
	s.placeOrder(rec, req)
	return rec, store, tc
}

// TestCheckoutFuzzSeedsStartValidOrders shows that the fuzz test's valid seeds
// reach Temporal, so that its "started" checks run on every make test.
func TestCheckoutFuzzSeedsStartValidOrders(t *testing.T) {
	t.Parallel()
	for _, body := range []string{validCheckoutBody, homeCheckoutBody} {
		rec, store, tc := postCheckout([]byte(body))
		if rec.Code != http.StatusServiceUnavailable || len(tc.started) != 1 || len(store.writes) != 2 {
			t.Errorf("%s: %d %s, %d started, writes %v; want 503 from the fake Temporal after one start", body, rec.Code, rec.Body, len(tc.started), store.writes)
		}
		checkCheckoutAnswer(t, []byte(body), rec, store, tc)
	}
}

func checkCheckoutAnswer(t *testing.T, body []byte, rec *httptest.ResponseRecorder, store *checkoutFakeStore, tc *checkoutFakeTemporal) {
	t.Helper()
	// What the handler should have read: the same decoder, independently.
	var want orderRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	decodeErr := dec.Decode(&want)
	if decodeErr == nil && dec.More() {
		decodeErr = errors.New("more than one JSON value")
	}
	var orderErrs []domain.FieldError
	if decodeErr == nil {
		orderErrs = domain.ValidateOrder(want.order(time.Now()))
	}

	switch rec.Code {
	case http.StatusServiceUnavailable: // started, then the fake Temporal failed
		if len(tc.started) != 1 {
			t.Fatalf("503 but %d workflows started", len(tc.started))
		}
		if decodeErr != nil || len(orderErrs) > 0 {
			t.Fatalf("started an order from a body that does not decode (%v) or validate (%v): %q", decodeErr, orderErrs, body)
		}
		if bad := badStrings(reflect.ValueOf(tc.started[0].Order)); !utf8.Valid(body) || len(bad) > 0 {
			t.Fatalf("started an order from a body with bad text %q: %q", bad, body)
		}
		for _, l := range tc.started[0].Order.Lines {
			if !checkoutKnownSKUs[l.SKU] {
				t.Fatalf("started an order with the unknown SKU %q", l.SKU)
			}
		}
		in := tc.started[0]
		if errs := domain.ValidateOrder(in.Order); len(errs) > 0 {
			t.Fatalf("started an order that does not validate: %v", errs)
		}
		if in.Order.OrderID != want.OrderID || in.Order.Total() != want.order(time.Time{}).Total() || in.RequestHash != want.hash() {
			t.Fatalf("started %+v, not the order of the body %+v", in.Order, want)
		}
		return
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
	default:
		t.Fatalf("status %d: %s for %q", rec.Code, rec.Body, body)
	}
	if len(tc.started) > 0 || len(store.writes) > 0 {
		t.Fatalf("a refused body started %d workflows and wrote %v", len(tc.started), store.writes)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q", ct)
	}
	var p struct {
		Type   string              `json:"type"`
		Detail string              `json:"detail"`
		Errors []domain.FieldError `json:"errors"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("problem %s: %v", rec.Body, err)
	}
	switch p.Type {
	case problemBase + "too-large":
		if len(body) <= maxBody {
			t.Fatalf("413 for %d bytes", len(body))
		}
	case problemBase + "malformed":
		if decodeErr == nil {
			t.Fatalf("malformed, but the body decodes: %q: %s", body, rec.Body)
		}
		if len(p.Errors) > 0 {
			t.Fatalf("a malformed body with field errors: %v", p.Errors)
		}
	case problemBase + "validation":
		if textErrors(p.Errors) {
			// Bad text is answered before the fields' own rules.
			if err := textErrorsProblem(body, p.Errors); err != nil {
				t.Fatalf("%v\nbody %q", err, body)
			}
			break
		}
		if decodeErr != nil {
			t.Fatalf("validation errors for a body that does not decode (%v): %q", decodeErr, body)
		}
		if err := fieldErrorsProblem(want, p.Errors, orderErrs); err != nil {
			t.Fatalf("%v\nbody %q", err, body)
		}
		if wantDetail := fmt.Sprintf("%d field(s) are invalid.", len(p.Errors)); p.Detail != wantDetail {
			t.Fatalf("detail %q, want %q", p.Detail, wantDetail)
		}
	default:
		t.Fatalf("400 of type %q: %s", p.Type, rec.Body)
	}
}

// fieldErrorsProblem checks a 400's field errors: at least one, each a real
// field (an index within the list it names), each with a message, every error of
// domain.ValidateOrder among them, and the rest the starter's own checks.
func fieldErrorsProblem(req orderRequest, got, orderErrs []domain.FieldError) error {
	if len(got) == 0 {
		return errors.New("a validation problem without field errors")
	}
	reported := map[domain.FieldError]bool{}
	for _, e := range got {
		reported[e] = true
		m := checkoutFieldPath.FindStringSubmatch(e.Field)
		if m == nil || e.Message == "" {
			return fmt.Errorf("field error %+v names no field of the order", e)
		}
		for i, n := range map[int]int{checkoutFieldPath.SubexpIndex("line"): len(req.Lines), checkoutFieldPath.SubexpIndex("channel"): len(req.Channels)} {
			if m[i] == "" {
				continue
			}
			if idx, err := strconv.Atoi(m[i]); err != nil || idx >= n {
				return fmt.Errorf("field error %+v: index beyond the %d given", e, n)
			}
		}
		if strings.HasPrefix(e.Message, "unknown SKU ") {
			if i, err := strconv.Atoi(m[checkoutFieldPath.SubexpIndex("line")]); err != nil || e.Field != fmt.Sprintf("lines[%d].sku", i) ||
				checkoutKnownSKUs[req.Lines[i].SKU] || e.Message != fmt.Sprintf("unknown SKU %q", req.Lines[i].SKU) {
				return fmt.Errorf("field error %+v does not name an unknown SKU", e)
			}
			continue
		}
		if !slices.Contains(orderErrs, e) && !starterOnlyFields.MatchString(e.Field) {
			return fmt.Errorf("field error %+v is neither ValidateOrder's nor a starter check's", e)
		}
	}
	for _, e := range orderErrs {
		if !reported[e] {
			return fmt.Errorf("ValidateOrder's %+v is not reported: %v", e, got)
		}
	}
	return nil
}

// textErrors reports whether errs are the text check's (decode's), which come
// alone, before any rule of the fields themselves.
func textErrors(errs []domain.FieldError) bool {
	for _, e := range errs {
		if e.Message != msgControl && e.Message != msgNotUTF8 {
			return false
		}
	}
	return len(errs) > 0
}

// textErrorsProblem checks a 400 for bad text: each error names a field of
// the order, and the body holds bad text at all (invalid UTF-8, an escape, or a
// control character other than JSON's white space).
func textErrorsProblem(body []byte, errs []domain.FieldError) error {
	for _, e := range errs {
		if !checkoutFieldPath.MatchString(e.Field) {
			return fmt.Errorf("text error %+v names no field of the order", e)
		}
	}
	whitespace := func(r rune) bool { return r == ' ' || r == '\n' || r == '\r' || r == '\t' }
	if utf8.Valid(body) && !bytes.Contains(body, []byte(`\u`)) &&
		!bytes.ContainsFunc(body, func(r rune) bool { return isControl(r) && !whitespace(r) }) {
		return fmt.Errorf("text errors %v for a body of clean text", errs)
	}
	return nil
}

// badStrings returns the strings in v that the text check refuses.
func badStrings(v reflect.Value) []string {
	var bad []string
	switch v.Kind() {
	case reflect.String:
		if textProblem(v.String(), false) != "" {
			bad = append(bad, v.String())
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			bad = badStrings(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			bad = append(bad, badStrings(v.Field(i))...)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			bad = append(bad, badStrings(v.Index(i))...)
		}
	}
	return bad
}

// TestCheckoutFuzzChecksCatchBadAnswers shows that the fuzz test's checks of
// field errors are not satisfied by just any answer.
func TestCheckoutFuzzChecksCatchBadAnswers(t *testing.T) {
	t.Parallel()
	req := orderRequest{Lines: []domain.Line{{SKU: "A"}}, Channels: []string{"email"}}
	for name, errs := range map[string][]domain.FieldError{
		"no errors":            nil,
		"no such field":        {{Field: "discount", Message: "no"}},
		"line index beyond":    {{Field: "lines[1].sku", Message: "bad"}},
		"channel index beyond": {{Field: "channels[1]", Message: "bad"}},
		"no message":           {{Field: "order_id"}},
		"not ValidateOrder's":  {{Field: "customer.name", Message: "made up"}},
	} {
		if err := fieldErrorsProblem(req, errs, nil); err == nil {
			t.Errorf("%s: %v accepted", name, errs)
		}
	}
	ok := []domain.FieldError{{Field: "lines[0].sku", Message: "bad"}, {Field: "channels[0]", Message: "bad"}}
	if err := fieldErrorsProblem(req, ok, ok[:1]); err != nil {
		t.Errorf("real field errors refused: %v", err)
	}
	if err := fieldErrorsProblem(req, ok[1:], ok[:1]); err == nil {
		t.Error("a missing ValidateOrder error was not noticed")
	}
}
