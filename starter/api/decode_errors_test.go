package api

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestDecodeSaysWhatWasExpected: a body of the wrong shape is answered in the
// API's words, naming the field by its JSON path, never with Go's type names.
func TestDecodeSaysWhatWasExpected(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ body, want string }{
		{`[{"order_id":"A-1"}]`, "The body must be a JSON object."},
		{`"A-1"`, "The body must be a JSON object."},
		{``, "The body is empty; it must be a JSON object."},
		{`{"order_id":`, "The body is not valid JSON"},
		{`{"order_id":"A-1"} {}`, "The body must hold one JSON object and nothing after it."},
		{`{"customer":[]}`, "customer: must be an object"},
		{`{"customer":{"name":7}}`, "customer.name: must be a string"},
		{`{"lines":"many"}`, "lines: must be an array"},
		{`{"lines":[{"quantity":1.5}]}`, "lines[0].quantity: must be a whole number"},
		{`{"lines":[{"quantity":1},{"unit_price":"9"}]}`, "lines[1].unit_price: must be a whole number"},
		{`{"lines":[{"unit_price":1e30}]}`, "lines[0].unit_price: must be a whole number"},
		{`{"marketing_consent":"yes"}`, "marketing_consent: must be true or false"},
		{`{"discount":5}`, "discount: is not a field of this request"},
		{`{"address":{"floor":3}}`, "address.floor: is not a field of this request"},
	} {
		req := httptest.NewRequest(http.MethodPost, "/v1/orders", strings.NewReader(c.body))
		req.Header.Set("Content-Type", "application/json")
		err := decode(httptest.NewRecorder(), req, &orderRequest{})
		p, ok := err.(*Problem)
		if !ok || p.Status != http.StatusBadRequest || !strings.HasPrefix(p.Detail, c.want) {
			t.Errorf("decode(%s) = %#v, want a 400 saying %q", c.body, err, c.want)
			continue
		}
		if strings.Contains(p.Detail, "Go ") || strings.Contains(p.Detail, "api.") || strings.Contains(p.Detail, "unmarshal") {
			t.Errorf("decode(%s) leaks Go internals: %q", c.body, p.Detail)
		}
	}
}

// TestDecodeWantsJSONContentType: a body announced as anything but JSON is a
// 415; JSON with parameters and application/*+json are JSON.
func TestDecodeWantsJSONContentType(t *testing.T) {
	t.Parallel()
	body := `{"reason":"damaged"}`
	for ct, want := range map[string]int{
		"application/json":                  0,
		"application/json; charset=utf-8":   0,
		"Application/JSON":                  0,
		"application/problem+json":          0,
		"text/plain":                        http.StatusUnsupportedMediaType,
		"":                                  http.StatusUnsupportedMediaType,
		"application/x-www-form-urlencoded": http.StatusUnsupportedMediaType,
		"application/jsonx":                 http.StatusUnsupportedMediaType,
		"text/json+xml":                     http.StatusUnsupportedMediaType,
		"application/json; charset":         http.StatusUnsupportedMediaType,
	} {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte(body)))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		err := decode(httptest.NewRecorder(), req, &cancelBody{})
		got := 0
		if p, ok := err.(*Problem); ok {
			got = p.Status
		} else if err != nil {
			got = -1
		}
		if got != want {
			t.Errorf("Content-Type %q: %v, want status %d", ct, err, want)
		}
	}
}
