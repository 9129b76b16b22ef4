package api

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	"github.com/pb33f/libopenapi/datamodel"
)

// undocumentedRoutes are registered but deliberately not in the OpenAPI
// document: sandbox-only pages and the store console's static files.
var undocumentedRoutes = map[string]string{
	"GET /dev/outbox":          "sandbox only",
	"GET /dev/tracking/{code}": "sandbox only",
	"GET /store/":              "the store console's files, not an API",
	"GET /store":               "redirects to /store/",
}

// documentedAs maps a pattern without a method to the operations the document
// lists for it: the codec handler serves POST /codec/encode and /codec/decode
// (and the browser's CORS preflight).
var documentedAs = map[string][]string{
	"/codec/": {"POST /codec/encode", "POST /codec/decode"},
}

// registeredOperations is every "METHOD /path" the server serves, from the
// same route table Handler uses, with every optional route switched on.
func registeredOperations(t *testing.T) map[string]bool {
	t.Helper()
	ops := map[string]bool{}
	for _, pattern := range RoutePatterns() {
		if _, skip := undocumentedRoutes[pattern]; skip {
			continue
		}
		if as, ok := documentedAs[pattern]; ok {
			for _, op := range as {
				ops[op] = true
			}
			continue
		}
		if !strings.Contains(pattern, " ") {
			t.Errorf("route %q has no method: add it to documentedAs with the operations it serves", pattern)
			continue
		}
		ops[pattern] = true
	}
	return ops
}

// checkOpenAPI parses a document with libopenapi, validates it against the
// OpenAPI 3.1 JSON Schema, builds its model (which resolves every $ref) and
// returns its operations ("METHOD /path") and every problem found.
func checkOpenAPI(b []byte) (map[string]bool, []string) {
	// Quiet: every problem is returned, and the test reports it.
	doc, err := libopenapi.NewDocumentWithConfiguration(b, &datamodel.DocumentConfiguration{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, []string{"parse: " + err.Error()}
	}
	if f := doc.GetSpecInfo().SpecFormat; f != datamodel.OAS31 {
		return nil, []string{fmt.Sprintf("the document is %q, want OpenAPI 3.1", f)}
	}
	var problems []string
	if valid, errs := schema_validation.ValidateOpenAPIDocument(doc); !valid {
		for _, e := range errs {
			problems = append(problems, "not valid OpenAPI 3.1: "+e.Message+": "+e.Reason)
			for _, v := range e.SchemaValidationErrors {
				problems = append(problems, fmt.Sprintf("  at %s (line %d): %s", v.FieldPath, v.Line, v.Reason))
			}
		}
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		return nil, append(problems, "build the model (a broken $ref?): "+err.Error())
	}
	ops := map[string]bool{}
	for path, item := range model.Model.Paths.PathItems.FromOldest() {
		for method := range item.GetOperations().FromOldest() {
			ops[strings.ToUpper(method)+" "+path] = true
		}
	}
	return ops, problems
}

func TestOpenAPIDocumentMatchesRoutes(t *testing.T) {
	t.Parallel()
	documented, problems := checkOpenAPI(openAPIDocument)
	for _, p := range problems {
		t.Error("openapi.json: " + p)
	}
	registered := registeredOperations(t)

	for op := range registered {
		if !documented[op] {
			t.Errorf("%s is served but not in openapi.json: document it (path parameters named as in the pattern)", op)
		}
	}
	for op := range documented {
		if !registered[op] {
			t.Errorf("%s is in openapi.json but no route serves it", op)
		}
	}
}

func TestOpenAPIDocumentServed(t *testing.T) {
	t.Parallel()
	s := New(Config{}, nil, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/openapi.json", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("GET /v1/openapi.json = %d %q, want 200 application/json", rec.Code, rec.Header().Get("Content-Type"))
	}
	if !slices.Equal(rec.Body.Bytes(), openAPIDocument) {
		t.Error("GET /v1/openapi.json did not serve the embedded document")
	}
}

// TestOpenAPICheckCatchesBrokenDocuments shows that checkOpenAPI is not
// satisfied by anything that parses as JSON.
func TestOpenAPICheckCatchesBrokenDocuments(t *testing.T) {
	t.Parallel()
	const valid = `{"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {"/x": {"get": {"responses": {"200": {"description": "ok"%s}}}}}%s}`
	for name, doc := range map[string]string{
		"OpenAPI 3.0":                    strings.Replace(fmt.Sprintf(valid, "", ""), "3.1.0", "3.0.3", 1),
		"response without a description": strings.Replace(fmt.Sprintf(valid, "", ""), `"description": "ok"`, `"x-note": "ok"`, 1),
		"reference to no schema":         fmt.Sprintf(valid, `, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Missing"}}}`, ""),
		"unknown top-level field":        fmt.Sprintf(valid, "", `, "paht": {}`),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, problems := checkOpenAPI([]byte(doc)); len(problems) == 0 {
				t.Errorf("checkOpenAPI found no problem in %s", doc)
			}
		})
	}
	if _, problems := checkOpenAPI([]byte(fmt.Sprintf(valid, "", ""))); len(problems) > 0 {
		t.Errorf("checkOpenAPI rejects a valid document: %v", problems)
	}
}
