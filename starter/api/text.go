package api

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/everywherecommerce/fulfilment/domain"
)

// Text at the edge. Every string a client sends (JSON bodies, query parameters,
// path parameters) is refused with a 400 naming the field when it is not valid
// UTF-8 or holds a control character, before anything is read or changed:
// PostgreSQL refuses NUL and invalid UTF-8 in text columns, so such a string
// would otherwise be accepted here and fail later, in an activity, forever.

// Messages of the text checks, as the 400's field errors say them.
const (
	msgNotUTF8      = "must be valid UTF-8 text"
	msgControl      = "must not contain control characters (U+0000-U+001F, U+007F-U+009F)"
	msgControlLines = "must not contain control characters other than line feed and tab"
	msgID           = "must be 1-64 letters, digits, '-' or '_', starting with a letter or digit"
)

// multilineTag marks a free-text field that may hold line feeds and tabs, such as
// a cancellation reason: `text:"multiline"` beside its json tag. Every other
// string field refuses all control characters.
const multilineTag = "multiline"

// isControl reports whether r is a C0 or C1 control character or DEL.
func isControl(r rune) bool {
	return r <= 0x1f || (r >= 0x7f && r <= 0x9f)
}

// textProblem returns what is wrong with s as text ("" when nothing is); a
// multiline text may hold line feeds and tabs.
func textProblem(s string, multiline bool) string {
	if !utf8.ValidString(s) {
		return msgNotUTF8
	}
	bad := strings.IndexFunc(s, func(r rune) bool {
		return isControl(r) && !(multiline && (r == '\n' || r == '\t'))
	})
	switch {
	case bad < 0:
		return ""
	case multiline:
		return msgControlLines
	}
	return msgControl
}

// validationProblem is the 400 listing every bad field.
func validationProblem(title string, errs []domain.FieldError) *Problem {
	p := newProblem(http.StatusBadRequest, "validation", title, fmt.Sprintf("%d field(s) are invalid.", len(errs)))
	p.Errors = errs
	return p
}

// checkJSONText walks a JSON object token by token and returns a field error
// for every string (member names included) that is not valid UTF-8 or holds a
// control character, named by its JSON path with the json tag names of t
// ("customer.name", "lines[1].sku"). It reads the raw bytes of each string,
// because encoding/json silently turns invalid UTF-8 and lone surrogate escapes
// (\ud800) into U+FFFD. ok is false when the body is not a JSON object or names
// a member t does not have: decoding refuses it as malformed, which says more.
func checkJSONText(body []byte, t reflect.Type) ([]domain.FieldError, bool) {
	if plainText(body) {
		return nil, true
	}
	w := &textWalk{dec: json.NewDecoder(bytes.NewReader(body)), body: body}
	if tok, _, ok := w.next(); !ok || tok != json.Delim('{') {
		return nil, false
	}
	w.object(t, "")
	return w.errs, !w.broken
}

// plainText reports whether no string of body can hold what checkJSONText looks
// for, so that the walk (7% of the starter's CPU in a bench profile) can be skipped:
// body is valid UTF-8 without a backslash (no escape, so no escaped control
// character, surrogate or U+FFFD), DEL or C1 control character. A raw C0 byte
// is white space between tokens or makes the body malformed JSON, which
// decoding refuses; the walk reports neither.
func plainText(body []byte) bool {
	if !utf8.Valid(body) || bytes.IndexByte(body, '\\') >= 0 || bytes.IndexByte(body, 0x7f) >= 0 {
		return false
	}
	for i := bytes.IndexByte(body, 0xc2); i >= 0; {
		if i+1 < len(body) && body[i+1] >= 0x80 && body[i+1] <= 0x9f { // U+0080-U+009F
			return false
		}
		next := bytes.IndexByte(body[i+1:], 0xc2)
		if next < 0 {
			break
		}
		i += 1 + next
	}
	return true
}

type textWalk struct {
	dec  *json.Decoder
	body []byte
	errs []domain.FieldError
	// broken is set when the body is not JSON, or has a member no field takes,
	// or a value of the wrong shape: the decoder refuses it as malformed.
	broken bool
}

// next reads one token and the raw bytes it came from (with any separator and
// white space before it, which are ASCII).
func (w *textWalk) next() (json.Token, []byte, bool) {
	start := w.dec.InputOffset()
	tok, err := w.dec.Token()
	if err != nil {
		w.broken = true
		return nil, nil, false
	}
	return tok, w.body[start:w.dec.InputOffset()], true
}

func (w *textWalk) value(t reflect.Type, path string, multiline bool) {
	tok, raw, ok := w.next()
	if !ok {
		return
	}
	// A value of the wrong shape (a string for a list, an object for a number)
	// is the decoder's to refuse.
	var want reflect.Kind
	switch tok := tok.(type) {
	case string:
		want = reflect.String
		w.text(path, tok, raw, multiline)
	case json.Delim:
		switch tok {
		case '{':
			want = reflect.Struct
			w.object(t, path)
		case '[':
			want = reflect.Slice
			w.array(t, path)
		}
	}
	if want != reflect.Invalid && !takes(t, want) {
		w.broken = true
	}
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// takes reports whether a value of type t can be decoded from a JSON string
// (want String), object (Struct) or array (Slice); an unknown type takes all.
func takes(t reflect.Type, want reflect.Kind) bool {
	t = deref(t)
	if t == nil || t.Kind() == reflect.Interface || reflect.PointerTo(t).Implements(jsonUnmarshaler) {
		return true
	}
	switch want {
	case reflect.String:
		return t.Kind() == reflect.String || reflect.PointerTo(t).Implements(textUnmarshaler)
	case reflect.Struct:
		return t.Kind() == reflect.Struct || t.Kind() == reflect.Map
	case reflect.Slice:
		return t.Kind() == reflect.Slice || t.Kind() == reflect.Array
	}
	return false
}

func (w *textWalk) object(t reflect.Type, path string) {
	for !w.broken && w.dec.More() {
		tok, raw, ok := w.next()
		if !ok {
			return
		}
		key, _ := tok.(string) // member names are strings in well-formed JSON
		name, ft, multiline, known := jsonField(t, key)
		if !known {
			w.broken = true
			return
		}
		p := name
		if path != "" {
			p = path + "." + name
		}
		w.text(p, key, raw, false)
		w.value(ft, p, multiline)
	}
	w.next() // '}'
}

func (w *textWalk) array(t reflect.Type, path string) {
	var elem reflect.Type
	if t = deref(t); t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
		elem = t.Elem()
	}
	for i := 0; !w.broken && w.dec.More(); i++ {
		w.value(elem, fmt.Sprintf("%s[%d]", path, i), false)
	}
	w.next() // ']'
}

// text records s at path when it is bad text. raw is the string's JSON source:
// a U+FFFD the decoder made (from invalid UTF-8 or a lone surrogate escape) is
// one the sender did not write.
func (w *textWalk) text(path, s string, raw []byte, multiline bool) {
	msg := textProblem(s, multiline)
	if !utf8.Valid(raw) || strings.Count(s, "\uFFFD") > sentReplacements(raw) {
		msg = msgNotUTF8
	}
	if msg != "" {
		w.errs = append(w.errs, domain.FieldError{Field: path, Message: msg})
	}
}

// sentReplacements counts the U+FFFD characters the sender wrote in a JSON
// string's source, as UTF-8 or as the escape \ufffd.
func sentReplacements(raw []byte) int {
	n := 0
	for i := 0; i < len(raw); i++ {
		switch {
		case raw[i] == '\\' && i+1 < len(raw):
			if raw[i+1] == 'u' && i+6 <= len(raw) && strings.EqualFold(string(raw[i+2:i+6]), "fffd") {
				n++
			}
			i++ // the escaped character is not a backslash of its own
		case bytes.HasPrefix(raw[i:], []byte("\uFFFD")):
			n++
		}
	}
	return n
}

func deref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// jsonField finds the struct field (or map element) a member name decodes into,
// as encoding/json matches them (the exact name first, then ignoring case). It
// returns the name to report (the field's json name), the field's type, whether
// the field is multiline, and false when a struct has no such field. In a value
// of no known type (any) the name is reported as sent.
func jsonField(t reflect.Type, key string) (string, reflect.Type, bool, bool) {
	t = deref(t)
	switch {
	case t == nil:
		return key, nil, false, true
	case t.Kind() == reflect.Map:
		return key, t.Elem(), false, true
	case t.Kind() != reflect.Struct:
		return key, nil, false, true
	}
	folded := -1 // the first field whose name matches but for case
	fields := reflect.VisibleFields(t)
	for i, f := range fields {
		name := jsonName(f)
		switch {
		case name == "":
		case name == key:
			return name, f.Type, f.Tag.Get("text") == multilineTag, true
		case folded < 0 && strings.EqualFold(name, key):
			folded = i
		}
	}
	if folded >= 0 {
		f := fields[folded]
		return jsonName(f), f.Type, f.Tag.Get("text") == multilineTag, true
	}
	return key, nil, false, false
}

// jsonName is the member name of a struct field in JSON, "" for a field
// encoding/json leaves out (unexported, "-", or an embedded struct whose fields
// are promoted).
func jsonName(f reflect.StructField) string {
	tag := f.Tag.Get("json")
	if !f.IsExported() || tag == "-" || (f.Anonymous && tag == "") {
		return ""
	}
	if name, _, _ := strings.Cut(tag, ","); name != "" {
		return name
	}
	return f.Name
}
