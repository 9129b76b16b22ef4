package admin

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandlerServesVarsAndProfiles(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(Handler())
	t.Cleanup(srv.Close)

	res, err := srv.Client().Get(srv.URL + "/debug/vars")
	if err != nil {
		t.Fatalf("GET /debug/vars: %v", err)
	}
	var vars struct {
		Memstats struct {
			HeapAlloc uint64
		} `json:"memstats"`
	}
	err = json.NewDecoder(res.Body).Decode(&vars)
	_ = res.Body.Close() // read to the end already
	if err != nil {
		t.Fatalf("decode /debug/vars: %v", err)
	}
	if vars.Memstats.HeapAlloc == 0 {
		t.Error("memstats.HeapAlloc is 0 or missing: a benchmark reads exactly this name")
	}

	for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap?debug=1", "/debug/pprof/goroutine?debug=1"} {
		res, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		_ = res.Body.Close() // only the status matters
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d, want 200", path, res.StatusCode)
		}
	}
}

func TestHandlerServesNothingElse(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/orders", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("GET /v1/orders on the admin mux: status %d, want 404", rec.Code)
	}
	if strings.Contains(rec.Body.String(), "pprof") {
		t.Error("the admin mux answers outside /debug/")
	}
}
