package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestLoadOIDC(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		on      bool
		wantErr []string
	}{
		{"off by default", map[string]string{}, false, nil},
		{"complete", map[string]string{"FULFILMENT_OIDC_ISSUER": "https://login.shop.example/realms/staff", "FULFILMENT_OIDC_AUDIENCE": "temporal-ui",
			"FULFILMENT_OIDC_SUPPORT_VALUES": "fulfilment-support, sre"}, true, nil},
		{"issuer alone names both missing settings", map[string]string{"FULFILMENT_OIDC_ISSUER": "https://login.shop.example"}, false,
			[]string{"FULFILMENT_OIDC_AUDIENCE", "FULFILMENT_OIDC_SUPPORT_VALUES"}},
		{"values of only commas", map[string]string{"FULFILMENT_OIDC_ISSUER": "https://login.shop.example", "FULFILMENT_OIDC_AUDIENCE": "a",
			"FULFILMENT_OIDC_SUPPORT_VALUES": " , "}, false, []string{"FULFILMENT_OIDC_SUPPORT_VALUES"}},
		{"not a URL", map[string]string{"FULFILMENT_OIDC_ISSUER": "login.shop.example", "FULFILMENT_OIDC_AUDIENCE": "a",
			"FULFILMENT_OIDC_SUPPORT_VALUES": "s"}, false, []string{`FULFILMENT_OIDC_ISSUER="login.shop.example"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := loadOIDC(func(k string) string { return tt.env[k] })
			for _, w := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want it to name %s", err, w)
				}
			}
			if len(tt.wantErr) == 0 && err != nil {
				t.Fatal(err)
			}
			if (v != nil) != tt.on {
				t.Errorf("verifier on: %v, want %v", v != nil, tt.on)
			}
		})
	}
}

// TestListenDrainsOnShutdown: a request in flight when the starter is told to
// stop (SIGTERM ends ctx) gets its answer, and listen returns without error.
func TestListenDrainsOnShutdown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	inFlight := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(inFlight)
		time.Sleep(time.Second)                  // a slow checkout
		_, _ = io.WriteString(w, "order placed") // the client reads it below
	})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- listen(ctx, addr, 10*time.Second, h, slog.New(slog.DiscardHandler)) }()
	type answer struct {
		body string
		err  error
	}
	answers := make(chan answer, 1)
	go func() {
		var resp *http.Response
		var err error
		for range 100 { // until the listener is up
			if resp, err = http.Get("http://" + addr + "/v1/orders"); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			answers <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		answers <- answer{string(b), err}
	}()
	<-inFlight
	stop()
	a := <-answers
	if a.err != nil || a.body != "order placed" {
		t.Errorf("in-flight request: %q, %v; want its answer", a.body, a.err)
	}
	if err := <-done; err != nil {
		t.Errorf("listen: %v", err)
	}
	if _, err := http.Get("http://" + addr + "/v1/orders"); err == nil {
		t.Errorf("a new request after the stop: err = %v, want the connection refused", err)
	}
}
