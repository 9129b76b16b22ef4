package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"mime"
	"reflect"
	"slices"
	"strings"
	"time"
)

// JSON bodies in the API's own words. encoding/json's errors name Go types
// ("cannot unmarshal array into Go value of type api.orderRequest"), which tell
// a client nothing it can act on; these say what the route expected, by the
// field's JSON path ("lines[0].quantity: must be a whole number").

// jsonMediaType reports whether a Content-Type header announces JSON:
// application/json (with parameters such as charset) or application/*+json.
func jsonMediaType(header string) bool {
	mt, _, err := mime.ParseMediaType(header)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// bodyShapeError says, in the API's words, why body does not decode into a
// value of type t: the first value of the wrong shape or member t does not
// have, named by its JSON path, or what is wrong with the body as a whole.
func bodyShapeError(body []byte, t reflect.Type) string {
	if len(bytes.TrimSpace(body)) == 0 {
		return "The body is empty; it must be a JSON object."
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return fmt.Sprintf("The body is not valid JSON (at byte %d).", syntax.Offset)
		}
		return "The body is not valid JSON (it ends too early)."
	}
	if _, ok := v.(map[string]any); !ok {
		return "The body must be a JSON object."
	}
	if dec.More() {
		return "The body must hold one JSON object and nothing after it."
	}
	if path, msg := shapeMismatch(v, t, ""); msg != "" {
		return path + ": " + msg
	}
	return "The body does not match the fields of this request."
}

var timeType = reflect.TypeFor[time.Time]()

// shapeMismatch walks the decoded value v beside type t and returns the path of
// the first value t cannot take and what t expects there ("" when all fit).
func shapeMismatch(v any, t reflect.Type, path string) (string, string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil || t.Kind() == reflect.Interface {
		return "", "" // null leaves the zero value; an interface takes anything
	}
	if t == timeType {
		if s, ok := v.(string); !ok || !validRFC3339(s) {
			return path, "must be a time such as \"2030-01-01T09:00:00Z\" (RFC 3339)"
		}
		return "", ""
	}
	switch t.Kind() {
	case reflect.String:
		if _, ok := v.(string); !ok {
			return path, "must be a string"
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return path, "must be true or false"
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n, ok := v.(json.Number); !ok || !fitsInt(n, t) {
			return path, "must be a whole number"
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if n, ok := v.(json.Number); !ok || !fitsUint(n, t) {
			return path, "must be a whole number, 0 or more"
		}
	case reflect.Float32, reflect.Float64:
		if _, ok := v.(json.Number); !ok {
			return path, "must be a number"
		}
	case reflect.Slice, reflect.Array:
		items, ok := v.([]any)
		if !ok {
			return path, "must be an array"
		}
		for i, item := range items {
			if p, msg := shapeMismatch(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); msg != "" {
				return p, msg
			}
		}
	case reflect.Map:
		members, ok := v.(map[string]any)
		if !ok {
			return path, "must be an object"
		}
		for _, name := range sortedKeys(members) {
			if p, msg := shapeMismatch(members[name], t.Elem(), joinPath(path, name)); msg != "" {
				return p, msg
			}
		}
	case reflect.Struct:
		members, ok := v.(map[string]any)
		if !ok {
			return path, "must be an object"
		}
		fields := jsonFields(t)
		for _, name := range sortedKeys(members) {
			f, ok := fields[strings.ToLower(name)]
			if !ok {
				return joinPath(path, name), "is not a field of this request"
			}
			if p, msg := shapeMismatch(members[name], f, joinPath(path, name)); msg != "" {
				return p, msg
			}
		}
	}
	return "", ""
}

// jsonFields maps the lower-cased JSON names of t's fields (embedded structs
// included) to their types, as encoding/json matches them.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				for k, v := range jsonFields(et) {
					if _, taken := out[k]; !taken {
						out[k] = v
					}
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		out[strings.ToLower(name)] = f.Type
	}
	return out
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// sortedKeys: the same body always names the same field.
func sortedKeys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}

func fitsInt(n json.Number, t reflect.Type) bool {
	i, err := n.Int64()
	return err == nil && !reflect.New(t).Elem().OverflowInt(i)
}

func fitsUint(n json.Number, t reflect.Type) bool {
	i, err := n.Int64()
	return err == nil && i >= 0 && !reflect.New(t).Elem().OverflowUint(uint64(i))
}

func validRFC3339(s string) bool {
	_, err := time.Parse(time.RFC3339, s)
	return err == nil
}
