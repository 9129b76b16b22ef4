package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestClientTurnsToTheNextStarter: with two starters, requests take turns, and one
// that found its starter gone (connection refused) gets its answer from the other.
func TestClientTurnsToTheNextStarter(t *testing.T) {
	var served atomic.Int64
	alive := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer alive.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := "http://" + ln.Addr().String()
	if err := ln.Close(); err != nil { // nothing listens there now: a killed starter
		t.Fatal(err)
	}
	c := newAPIClient([]string{gone, alive.URL}, 10*time.Second)
	for i := range 4 {
		a, err := c.call(context.Background(), http.MethodGet, "/v1/orders/X", "token", nil)
		if err != nil || a.status != http.StatusOK {
			t.Fatalf("call %d: status %d, err %v", i, a.status, err)
		}
	}
	if served.Load() != 4 {
		t.Errorf("the live starter served %d of 4 requests", served.Load())
	}
	if c.retries.Load() == 0 {
		t.Error("no request was sent again, so none went to the dead starter first")
	}
}

// TestAttachedConfig: a run attached to a running platform needs both its addresses,
// scales out instead of breaking the platform, and needs no Temporal CLI.
func TestAttachedConfig(t *testing.T) {
	env := func(string) string { return "" }
	if _, err := loadConfig([]string{"-temporal-address", "127.0.0.1:7233"}, env); err == nil {
		t.Error("-temporal-address without -database-url accepted")
	}
	noCLI := func(k string) string {
		if k == "TEMPORAL_CLI" {
			return "/nonexistent/temporal"
		}
		return ""
	}
	c, err := loadConfig([]string{"-temporal-address", "127.0.0.1:7233", "-database-url", "postgres://app@127.0.0.1:1/fulfilment"}, noCLI)
	if err != nil {
		t.Fatal(err)
	}
	if !c.attached() || len(c.faults) != len(scaleOutFaults()) || c.faults[0] != faultLoseWorker {
		t.Errorf("attached %v, faults %v; want the scale-out faults", c.attached(), c.faults)
	}
	if _, err := loadConfig(nil, noCLI); err == nil {
		t.Error("a stack of its own without the Temporal CLI accepted")
	}
}
