package api_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

// getRaw sends a GET and returns the status, the headers and the decoded body.
func (s *system) getRaw(path, token string) (int, http.Header, map[string]any) {
	s.t.Helper()
	return s.raw(http.MethodGet, path, token, nil)
}

// problemFields are the fields a problem+json answer names, in its order.
func problemFields(body map[string]any) []string {
	var fields []string
	errs, _ := body["errors"].([]any)
	for _, e := range errs {
		fields = append(fields, e.(map[string]any)["field"].(string))
	}
	return fields
}

// checkStoreScope checks that a report scoped by store (path, no query) refuses
// staff asking for another store or for all stores, the checkout service, and a
// caller without a token, each with a problem+json answer.
func (s *system) checkStoreScope(t *testing.T, path string) {
	t.Helper()
	for _, tc := range []struct {
		token, query string
		status       int
	}{
		{"berlin", "?store_id=hamburg-altona", http.StatusForbidden},
		{"berlin", "?store_id=*", http.StatusForbidden},
		{"checkout", "", http.StatusForbidden},
		{"", "", http.StatusUnauthorized},
	} {
		status, h, body := s.getRaw(path+tc.query, s.tokens[tc.token])
		if status != tc.status || h.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s %s%s: %d %s %v, want %d problem+json", tc.token, path, tc.query, status, h.Get("Content-Type"), body, tc.status)
		}
	}
}

// listed returns the order IDs of a GET /v1/orders answer and its next cursor.
func listed(t *testing.T, body map[string]any) ([]string, string) {
	t.Helper()
	orders, ok := body["orders"].([]any)
	if !ok {
		t.Fatalf("no orders array: %v", body)
	}
	ids := []string{}
	for _, o := range orders {
		ids = append(ids, o.(map[string]any)["order_id"].(string))
	}
	next, _ := body["next_cursor"].(string)
	return ids, next
}

func TestOrderListFiltersPagesAndScopesStaff(t *testing.T) {
	t.Parallel()
	s := newSystem(t, fastPolicy())
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	id := func(n string) string { return "L-" + n + "-" + s.suffix }
	// The projection as the workflows would have written it (the list never asks them).
	for _, o := range []struct {
		n, customer, store, location, stage string
		method                              domain.Method
		attention                           bool
	}{
		{"1", "C-A", "berlin-mitte", "berlin-mitte", "picking", domain.MethodShipToStore, false},
		{"2", "C-B", "", "dc-erfurt", "shipped", domain.MethodHomeDelivery, true},
		{"3", "C-A", "berlin-mitte", "dc-erfurt", "in_transit_to_store", domain.MethodShipToStore, false},
		{"4", "C-C", "hamburg-altona", "hamburg-altona", "ready_for_pickup", domain.MethodShipToStore, true},
		{"5", "C-A", "hamburg-altona", "dc-erfurt", "picking", domain.MethodShipToStore, false},
	} {
		n, _ := strconv.Atoi(o.n)
		placed := t0.Add(time.Duration(n) * time.Minute)
		sum := activities.OrderSummary{OrderID: id(o.n), CustomerID: o.customer, Method: o.method, StoreID: o.store,
			LocationID: o.location, Total: 32700, Currency: "EUR", PlacedAt: placed}
		if err := s.store.RecordStage(t.Context(), activities.StageChange{Order: sum, Stage: domain.Stage(o.stage), At: placed.Add(time.Second)}); err != nil {
			t.Fatal(err)
		}
		if o.attention {
			if err := s.store.RecordEntry(t.Context(), activities.JourneyEntry{OrderID: id(o.n), Kind: activities.EntryAttention,
				Key: "attention:1", Detail: "picking SLA passed", At: placed.Add(2 * time.Second)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	ids := func(ns ...string) []string {
		out := []string{}
		for _, n := range ns {
			out = append(out, id(n))
		}
		return out
	}

	t.Run("filters", func(t *testing.T) {
		for _, tc := range []struct {
			token, query string
			want         []string
		}{
			{"support", "", ids("5", "4", "3", "2", "1")},
			{"support", "?stage=&store=&customer=&needs_attention=&limit=&cursor=", ids("5", "4", "3", "2", "1")},
			{"support", "?stage=picking", ids("5", "1")},
			{"support", "?store=berlin-mitte", ids("3", "1")},
			{"support", "?store=dc-erfurt", ids("5", "3", "2")},
			{"support", "?store=atlantis", ids()},
			{"support", "?customer=C-A", ids("5", "3", "1")},
			{"support", "?customer=C-a", ids()},
			{"support", "?needs_attention=true", ids("4", "2")},
			{"support", "?needs_attention=false", ids("5", "3", "1")},
			{"support", "?store=dc-erfurt&customer=C-A&stage=picking", ids("5")},
			// Staff see the orders of their store (pickup store or fulfilling location),
			// whatever they ask for.
			{"berlin", "", ids("3", "1")},
			{"berlin", "?store=berlin-mitte", ids("3", "1")},
			{"berlin", "?customer=C-A", ids("3", "1")},
			{"berlin", "?stage=ready_for_pickup", ids()},
			{"berlin", "?store=hamburg-altona", ids()},
			{"berlin", "?store=dc-erfurt&customer=C-A", ids()},
			{"hamburg", "?needs_attention=true", ids("4")},
			{"dc", "", ids("5", "3", "2")},
		} {
			st, _, body := s.getRaw("/v1/orders"+tc.query, s.tokens[tc.token])
			if st != http.StatusOK {
				t.Errorf("%s %s: %d %v", tc.token, tc.query, st, body)
				continue
			}
			if got, next := listed(t, body); !reflect.DeepEqual(got, tc.want) || next != "" {
				t.Errorf("%s %s: %v (next %q), want %v", tc.token, tc.query, got, next, tc.want)
			}
		}
	})

	t.Run("item", func(t *testing.T) {
		_, _, body := s.getRaw("/v1/orders?customer=C-C", s.tokens["support"])
		got := body["orders"].([]any)[0].(map[string]any)
		want := map[string]any{
			"order_id": id("4"), "stage": "ready_for_pickup", "method": "ship_to_store", "store_id": "hamburg-altona",
			"location_id": "hamburg-altona", "customer_id": "C-C", "total": float64(32700), "currency": "EUR",
			"placed_at": "2025-03-01T10:04:00Z", "needs_attention": true, "attention_reason": "picking SLA passed",
			"updated_at": "2025-03-01T10:04:01Z", "url": "/v1/orders/" + id("4"),
		}
		for k, v := range want {
			if k == "placed_at" || k == "updated_at" { // any zone, same instant
				at, err := time.Parse(time.RFC3339Nano, got[k].(string))
				if want, _ := time.Parse(time.RFC3339, v.(string)); err != nil || !at.Equal(want) {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
				continue
			}
			if got[k] != v {
				t.Errorf("%s = %v, want %v", k, got[k], v)
			}
		}
		if len(got) != len(want) {
			t.Errorf("item has %d fields, want %d: %v", len(got), len(want), got)
		}
	})

	t.Run("pages", func(t *testing.T) {
		for _, tc := range []struct {
			token, query string
			pages        [][]string
		}{
			{"support", "limit=2", [][]string{ids("5", "4"), ids("3", "2"), ids("1")}},
			{"support", "limit=1&customer=C-A", [][]string{ids("5"), ids("3"), ids("1")}},
			{"dc", "limit=2", [][]string{ids("5", "3"), ids("2")}},
			{"support", "limit=5", [][]string{ids("5", "4", "3", "2", "1")}},
		} {
			var got [][]string
			cursor := ""
			for range 10 {
				q := "/v1/orders?" + tc.query
				if cursor != "" {
					q += "&cursor=" + url.QueryEscape(cursor)
				}
				st, _, body := s.getRaw(q, s.tokens[tc.token])
				if st != http.StatusOK {
					t.Fatalf("%s: %d %v", q, st, body)
				}
				page, next := listed(t, body)
				got = append(got, page)
				if cursor = next; cursor == "" {
					break
				}
			}
			if !reflect.DeepEqual(got, tc.pages) {
				t.Errorf("%s %s: pages %v, want %v", tc.token, tc.query, got, tc.pages)
			}
		}
	})

	t.Run("validation", func(t *testing.T) {
		stages := "accepted, rejected, payment_captured, payment_failed, picking, picked, in_transit_to_store, " +
			"ready_for_pickup, picked_up, shipped, delivered, cancelled, review_requested, completed"
		notJSON := base64.RawURLEncoding.EncodeToString([]byte("not json"))
		noOrder := base64.RawURLEncoding.EncodeToString([]byte(`{"placed_at":"2025-03-01T10:00:00Z"}`))
		type fe struct{ field, message string }
		for _, tc := range []struct {
			query string
			want  []fe
		}{
			{"?stage=lost&needs_attention=maybe&limit=0&cursor=%21%21&colour=red&size=9", []fe{
				{"stage", `unknown stage "lost"; one of ` + stages},
				{"needs_attention", "must be true or false"},
				{"limit", "must be a whole number from 1 to 200"},
				{"cursor", "is not a cursor of this list; use next_cursor from a previous page"},
				{"colour", "is not a filter of this list; use stage, store, customer, needs_attention, limit, cursor"},
				{"size", "is not a filter of this list; use stage, store, customer, needs_attention, limit, cursor"},
			}},
			{"?stage=Picking", []fe{{"stage", `unknown stage "Picking"; one of ` + stages}}},
			{"?needs_attention=1", []fe{{"needs_attention", "must be true or false"}}},
			{"?limit=201", []fe{{"limit", "must be a whole number from 1 to 200"}}},
			{"?limit=-1", []fe{{"limit", "must be a whole number from 1 to 200"}}},
			{"?limit=ten", []fe{{"limit", "must be a whole number from 1 to 200"}}},
			{"?cursor=" + notJSON, []fe{{"cursor", "is not a cursor of this list; use next_cursor from a previous page"}}},
			{"?cursor=" + noOrder, []fe{{"cursor", "is not a cursor of this list; use next_cursor from a previous page"}}},
			{"?stage=picking&stage=picked", []fe{{"stage", "may be given once"}}},
			{"?customer=" + strings.Repeat("x", 65), []fe{{"customer", "must be 1-64 letters, digits, '-' or '_', starting with a letter or digit"}}},
			{"?customer=C%00", []fe{{"customer", "must not contain control characters (U+0000-U+001F, U+007F-U+009F)"}}},
			{"?store=%zz", []fe{{"query", "is not a valid URL query string"}}},
		} {
			// Every role allowed on the route is told the same.
			for _, token := range []string{"support", "berlin"} {
				st, h, body := s.getRaw("/v1/orders"+tc.query, s.tokens[token])
				if st != http.StatusBadRequest || h.Get("Content-Type") != "application/problem+json" ||
					body["type"] != "https://everywhere-fulfilment.dev/problems/validation" {
					t.Errorf("%s %s: %d %s %v", token, tc.query, st, h.Get("Content-Type"), body)
					continue
				}
				var got []fe
				for _, e := range body["errors"].([]any) {
					m := e.(map[string]any)
					got = append(got, fe{m["field"].(string), m["message"].(string)})
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("%s %s: errors %q, want %q", token, tc.query, got, tc.want)
				}
				if body["detail"] != strconv.Itoa(len(tc.want))+" field(s) are invalid." {
					t.Errorf("%s %s: detail %v", token, tc.query, body["detail"])
				}
			}
		}
	})

	t.Run("auth", func(t *testing.T) {
		if st, _, _ := s.getRaw("/v1/orders", ""); st != http.StatusUnauthorized {
			t.Errorf("no token: %d, want 401", st)
		}
		if st, _, _ := s.getRaw("/v1/orders", s.tokens["checkout"]); st != http.StatusForbidden {
			t.Errorf("checkout token: %d, want 403", st)
		}
	})
}
