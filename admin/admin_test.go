package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandlerServesVarsAndProfiles(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(Handler(nil, nil))
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
	Handler(nil, nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/orders", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("GET /v1/orders on the admin mux: status %d, want 404", rec.Code)
	}
	if strings.Contains(rec.Body.String(), "pprof") {
		t.Error("the admin mux answers outside /debug/")
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	var pgDown bool
	h := NewHealth(
		Check{Name: "postgres", Func: func(context.Context) error {
			if pgDown {
				return errors.New("connection refused")
			}
			return nil
		}},
		Check{Name: "temporal", Func: func(context.Context) error { return nil }},
	)
	mux := Handler(h, nil)
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code, strings.TrimSpace(rec.Body.String())
	}
	for _, step := range []struct {
		name      string
		do        func()
		readyz    int
		readyBody string
	}{
		{"before the worker polls", func() {}, http.StatusServiceUnavailable, "starting"},
		{"polling", h.Started, http.StatusOK, "ready"},
		{"PostgreSQL down", func() { pgDown = true }, http.StatusServiceUnavailable, "unavailable: postgres"},
		{"PostgreSQL back", func() { pgDown = false }, http.StatusOK, "ready"},
		{"stopping", h.Stopping, http.StatusServiceUnavailable, "stopping"},
		{"Started does not undo stopping", h.Started, http.StatusServiceUnavailable, "stopping"},
	} {
		step.do()
		if code, body := get("/readyz"); code != step.readyz || body != step.readyBody {
			t.Errorf("%s: /readyz %d %q, want %d %q", step.name, code, body, step.readyz, step.readyBody)
		}
		if code, _ := get("/healthz"); code != http.StatusOK {
			t.Errorf("%s: /healthz %d, want 200", step.name, code)
		}
	}
	rec := httptest.NewRecorder()
	Handler(nil, nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("/readyz without a Health: %d, want 404 (the starter has its own on the public address)", rec.Code)
	}
}
