package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/everywherecommerce/fulfilment/domain"
)

// TestDecodeRefusesBadText sends bodies with control characters and invalid
// UTF-8 in their strings through decode and checks that each bad field, and
// only those, is named by its JSON path (json tag names, also when the member
// name is sent in another case), in one 400.
func TestDecodeRefusesBadText(t *testing.T) {
	t.Parallel()
	fe := func(field, msg string) domain.FieldError { return domain.FieldError{Field: field, Message: msg} }
	for _, c := range []struct {
		name string
		body string
		into any
		want []domain.FieldError // nil: decodes
	}{
		{"clean", `{"order_id":"A-1","customer":{"name":"Mia Schmidt \ufffd ü"},"lines":[{"sku":"X"}]}`, &orderRequest{}, nil},
		{"NUL escaped", `{"order_id":"A\u0000"}`, &orderRequest{}, []domain.FieldError{fe("order_id", msgControl)}},
		{"ESC nested", `{"customer":{"name":"Mia\u001b[31m"}}`, &orderRequest{}, []domain.FieldError{fe("customer.name", msgControl)}},
		{"NEL raw UTF-8", "{\"address\":{\"line1\":\"Torstra\u00dfe\u0085 1\"}}", &orderRequest{}, []domain.FieldError{fe("address.line1", msgControl)}},
		{"DEL", `{"currency":"EU\u007f"}`, &orderRequest{}, []domain.FieldError{fe("currency", msgControl)}},
		{"invalid UTF-8", "{\"lines\":[{\"sku\":\"A\"},{\"sku\":\"B\xff\"}]}", &orderRequest{}, []domain.FieldError{fe("lines[1].sku", msgNotUTF8)}},
		{"truncated UTF-8", "{\"customer\":{\"name\":\"M\xc3\"}}", &orderRequest{}, []domain.FieldError{fe("customer.name", msgNotUTF8)}},
		{"lone surrogate", `{"customer":{"name":"M\ud800ia"}}`, &orderRequest{}, []domain.FieldError{fe("customer.name", msgNotUTF8)}},
		{"escaped backslash before ufffd", `{"customer":{"name":"\\ufffd\ud800"}}`, &orderRequest{}, []domain.FieldError{fe("customer.name", msgNotUTF8)}},
		{"member name in another case", `{"Customer":{"NAME":"\u0007"}}`, &orderRequest{}, []domain.FieldError{fe("customer.name", msgControl)}},
		{"list element", `{"channels":["email","s\u0000ms"]}`, &orderRequest{}, []domain.FieldError{fe("channels[1]", msgControl)}},
		{"every bad field", "{\"order_id\":\"\\u0000\",\"customer\":{\"id\":\"\xfe\",\"email\":\"a\\u0085@b\"},\"push_token\":\"\\t\"}", &orderRequest{},
			[]domain.FieldError{fe("order_id", msgControl), fe("customer.id", msgNotUTF8), fe("customer.email", msgControl), fe("push_token", msgControl)}},
		{"multiline field takes line feeds and tabs", `{"reason":"damaged\n\tbox"}`, &cancelBody{}, nil},
		{"multiline field refuses CR", `{"reason":"damaged\r\nbox"}`, &cancelBody{}, []domain.FieldError{fe("reason", msgControlLines)}},
		{"multiline field refuses NUL", `{"reason":"\u0000"}`, &cancelBody{}, []domain.FieldError{fe("reason", msgControlLines)}},
		{"single-line field refuses line feeds", `{"code":"12\n34"}`, &pickupBody{}, []domain.FieldError{fe("code", msgControl)}},
		{"a time", `{"until":"2030-01-01T00:00:00Z\u0000"}`, &extendBody{}, []domain.FieldError{fe("until", msgControl)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte(c.body)))
			req.Header.Set("Content-Type", "application/json")
			err := decode(httptest.NewRecorder(), req, c.into)
			if c.want == nil {
				if err != nil {
					t.Fatalf("decode(%q) = %v, want no error", c.body, err)
				}
				return
			}
			p, ok := err.(*Problem)
			if !ok || p.Status != http.StatusBadRequest || p.Type != problemBase+"validation" || !reflect.DeepEqual(p.Errors, c.want) {
				t.Fatalf("decode(%q) = %#v, want a 400 validation with %v", c.body, err, c.want)
			}
		})
	}
}

// TestPlainTextSkipsOnlyCleanBodies: the walk is skipped (plainText) only for
// a body in which it finds nothing, and never for one with an escape, a raw DEL
// or C1 control character, or invalid UTF-8.
func TestPlainTextSkipsOnlyCleanBodies(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		body  string
		plain bool
	}{
		{`{"order_id":"A-1","customer":{"name":"Mia Schmidt \ufffd ü"}}`, false}, // an escape
		{"{\"order_id\":\"A-1\",\"customer\":{\"name\":\"Mia Schmidt \uFFFD ü Çé\"}}", true},
		{"{\n\t\"order_id\": \"A-1\"\r\n}", true},
		{"{\"currency\":\"EU\x7f\"}", false},
		{"{\"currency\":\"EU\u0085\"}", false},
		{"{\"currency\":\"EU\u009f\"}", false},
		{"{\"currency\":\"EU\u00a0\u00c2\"}", true},
		{"{\"currency\":\"EU\xc2\"}", false},
		{"{\"currency\":\"EU\xff\"}", false},
		{"{\"currency\":\"EU\tR\"}", true}, // malformed JSON: decoding refuses it
	} {
		if got := plainText([]byte(c.body)); got != c.plain {
			t.Errorf("plainText(%q) = %v, want %v", c.body, got, c.plain)
		}
		if !c.plain {
			continue
		}
		w := &textWalk{dec: json.NewDecoder(bytes.NewReader([]byte(c.body))), body: []byte(c.body)}
		if tok, _, ok := w.next(); ok && tok == json.Delim('{') {
			w.object(reflect.TypeFor[orderRequest](), "")
		}
		if len(w.errs) > 0 {
			t.Errorf("plainText(%q) is true, but the walk finds %v", c.body, w.errs)
		}
	}
}

// TestDecodeReportsMalformedBeforeText: a body that is not a JSON object of the
// route's fields is malformed, whatever text it holds.
func TestDecodeReportsMalformedBeforeText(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`{"order_id":"\u0000",`, `"\u0000"`, `["\u0000"]`, `{"discount":"\u0000"}`, `{"order_id":"\u0000","discount":1}`,
		"{\"Customer\":\"\xac\"}", `{"lines":"\u0000"}`, `{"order_id":["\u0000"]}`, `{"lines":[{"quantity":"\u0000"}]}`} {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte(body)))
		req.Header.Set("Content-Type", "application/json")
		err := decode(httptest.NewRecorder(), req, &orderRequest{})
		if p, ok := err.(*Problem); !ok || p.Type != problemBase+"malformed" {
			t.Errorf("decode(%s) = %v, want malformed", body, err)
		}
	}
}

// TestCheckPathIDs: every wildcard of the matched pattern must be an ID.
func TestCheckPathIDs(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	var got []domain.FieldError
	mux.HandleFunc("POST /v1/stores/{store}/orders/{id}/pick", func(_ http.ResponseWriter, r *http.Request) { got = checkPathIDs(r) })
	for path, want := range map[string][]string{
		"/v1/stores/berlin-mitte/orders/A-1/pick":             nil,
		"/v1/stores/berlin-mitte/orders/A%00/pick":            {"id"},
		"/v1/stores/%F0%9F%9A%80/orders/A-1/pick":             {"store"},
		"/v1/stores/..%2F..%2Fx/orders/..%2F/pick":            {"store", "id"},
		"/v1/stores/berlin-mitte/orders/-A/pick":              {"id"},
		"/v1/stores/berlin-mitte/orders/" + long300 + "/pick": {"id"},
	} {
		got = nil
		mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, path, nil))
		var fields []string
		for _, e := range got {
			fields = append(fields, e.Field)
			if e.Message != msgID {
				t.Errorf("%s: %q", path, e.Message)
			}
		}
		if !reflect.DeepEqual(fields, want) {
			t.Errorf("%s: bad %v, want %v", path, fields, want)
		}
	}
}

var long300 = string(bytes.Repeat([]byte("a"), 300))

// TestSentReplacements counts only the U+FFFD a sender wrote.
func TestSentReplacements(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]int{
		`"abc"`: 0, `"\ufffd"`: 1, `"\uFFFD"`: 1, "\"\uFFFD\"": 1, `"\\ufffd"`: 0, `"\\\ufffd"`: 1, `"\ud800"`: 0,
	} {
		if got := sentReplacements([]byte(raw)); got != want {
			t.Errorf("sentReplacements(%s) = %d, want %d", raw, got, want)
		}
		var s string
		if err := json.Unmarshal([]byte(raw), &s); err != nil {
			t.Fatal(err)
		}
	}
}
