package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
)

// TestPickupCodesAreLimitedPerToken: a staff token that enters too many wrong
// codes across orders is throttled (429, Retry-After), a throttled try changes
// nothing, right codes do not count, and other tokens are not affected.
func TestPickupCodesAreLimitedPerToken(t *testing.T) {
	t.Parallel()
	s := newSystem(t, fastPolicy(), func(o *systemSettings) { o.api.PickupTokenLimit = 3 })
	a, b := "E2E-TA-"+s.suffix, "E2E-TB-"+s.suffix
	for _, id := range []string{a, b} {
		s.place(id, "ship_to_store")
		s.pickAll(id, "berlin-mitte", "berlin")
	}
	for _, id := range []string{a, b} {
		s.waitStage(id, "ready_for_pickup")
	}
	second, err := s.store.CreateToken(t.Context(), "e2e-berlin-2", "staff", "berlin-mitte")
	if err != nil {
		t.Fatal(err)
	}
	pickup := func(id, token, code string) (int, http.Header, map[string]any) {
		t.Helper()
		body, _ := json.Marshal(map[string]string{"code": code}) // a map of strings always encodes
		return s.raw(http.MethodPost, "/v1/stores/berlin-mitte/orders/"+id+"/pickup", token, bytes.NewReader(body))
	}
	first := s.tokens["berlin"]
	for i, try := range []struct {
		id   string
		left float64
	}{{a, 4}, {a, 3}, {b, 4}} {
		if st, _, body := pickup(try.id, first, "000000"); st != http.StatusUnprocessableEntity || body["attempts_left"] != try.left {
			t.Fatalf("wrong code %d: %d %v", i+1, st, body)
		}
	}

	// The fourth wrong code of the token, on any order, and even the right code, are refused.
	for _, code := range []string{"000000", s.pickupCode(b)} {
		st, h, body := pickup(b, first, code)
		retry, _ := strconv.Atoi(h.Get("Retry-After"))
		if st != http.StatusTooManyRequests || h.Get("Content-Type") != "application/problem+json" ||
			body["type"] != "https://everywhere-fulfilment.dev/problems/too-many-pickup-codes" || retry < 1 || retry > 600 ||
			body["retry_after"] != float64(retry) {
			t.Errorf("throttled try: %d Retry-After %q %v", st, h.Get("Retry-After"), body)
		}
	}
	// ... and changed nothing: B counts one wrong code and is still waiting.
	if n, err := s.store.FailedPickups(t.Context(), b); err != nil || n != 1 {
		t.Errorf("wrong codes counted on B = %d, %v; want 1", n, err)
	}
	if st, body := s.do(http.MethodGet, "/v1/orders/"+b, s.tokens["support"], nil); st != http.StatusOK || body["stage"] != "ready_for_pickup" {
		t.Errorf("B after throttled tries: %d %v", st, body["stage"])
	}

	// Another token of the same store is not throttled; its right code does not
	// count, so its next three tries are wrong codes that reach the order: the
	// third is A's fifth and locks it (423, not 429).
	if st, _, body := pickup(b, second, s.pickupCode(b)); st != http.StatusOK {
		t.Fatalf("right code with another token: %d %v", st, body)
	}
	for i, want := range []int{http.StatusUnprocessableEntity, http.StatusUnprocessableEntity, http.StatusLocked} {
		if st, _, body := pickup(a, second, "000000"); st != want {
			t.Fatalf("second token's wrong code %d on A: %d %v, want %d", i+1, st, body, want)
		}
	}
	if st, _, body := pickup(a, second, "000000"); st != http.StatusTooManyRequests {
		t.Errorf("second token's fourth wrong code: %d %v, want 429", st, body)
	}
	// Support is never counted with staff.
	st, _, body := s.raw(http.MethodPost, "/v1/stores/berlin-mitte/orders/"+a+"/pickup", s.tokens["support"],
		bytes.NewReader([]byte(`{"code":"000000"}`)))
	if st != http.StatusLocked {
		t.Errorf("support on the locked order: %d %v, want 423", st, body)
	}
}
