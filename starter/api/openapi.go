package api

import (
	_ "embed"
	"net/http"
)

// openAPIDocument is the OpenAPI 3.1 document of every route the starter serves
// (but the sandbox's /dev routes and the store console's files), written by
// hand; openapi_test.go fails when it and the registered routes disagree.
//
//go:embed openapi.json
var openAPIDocument []byte

// serveOpenAPI serves the document; it needs no token, as it holds no data.
func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(openAPIDocument) // the client went away; nothing left to tell it
}
