package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/everywherecommerce/fulfilment/adapters/postgres"
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/internal/testbed"
	"github.com/everywherecommerce/fulfilment/messages"
)

// shop plays the checkout service, store staff and support against one starter
// over its public HTTP API, with the tokens `starter demo seed` created; it reads
// the orders projection and the sandbox outbox (the customer's inbox) from
// PostgreSQL to know when staff can act and what the pickup code is.
type shop struct {
	url      string
	http     *http.Client
	tokens   map[string]string
	store    *postgres.Store
	timeZone string // the customers' time zone, daytime now (no quiet hours)
	patience time.Duration
}

// orderLines are every order's articles: WATCH-001 ×1 and STRAP-LEA-20 ×2.
func orderLines() []map[string]any {
	return []map[string]any{
		{"sku": "WATCH-001", "name": "Automatic watch", "quantity": 1, "unit_price": 24900},
		{"sku": "STRAP-LEA-20", "name": "Leather strap", "quantity": 2, "unit_price": 3900},
	}
}

// orderBody is a checkout of orderLines, collected at berlin-mitte or delivered
// to a Berlin address.
func (s *shop) orderBody(id string, method domain.Method) map[string]any {
	body := map[string]any{
		"order_id": id,
		"customer": map[string]string{"id": "C-" + id, "name": "Mia Schmidt", "email": "mia@example.com",
			"locale": "de-DE", "time_zone": s.timeZone},
		"marketing_consent": true,
		"method":            method,
		"currency":          "EUR",
		"payment_intent_id": "pi_" + id,
		"lines":             orderLines(),
	}
	if method == domain.MethodShipToStore {
		body["store_id"] = "berlin-mitte"
	} else {
		body["address"] = map[string]string{"name": "Mia Schmidt", "line1": "Torstraße 1", "postal_code": "10119", "city": "Berlin", "country": "DE"}
	}
	return body
}

// post sends one request (no retry: a bench measures the first answer) and
// fails unless the status is want.
func (s *shop) post(ctx context.Context, path, token string, body any, want int) error {
	data, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url+path, bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("request %s: %w", path, err)
	}
	req.Header.Set("Authorization", "Bearer "+s.tokens[token])
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return fmt.Errorf("POST %s: read answer: %w", path, err)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("POST %s: status %d, want %d: %s", path, resp.StatusCode, want, answer)
	}
	return nil
}

// place checks out an order; the answer comes once the payment is captured.
func (s *shop) place(ctx context.Context, id string, method domain.Method) error {
	return s.post(ctx, "/v1/orders", "CHECKOUT_TOKEN", s.orderBody(id, method), http.StatusCreated)
}

// pick confirms the quantities once the order is on location's pick list.
func (s *shop) pick(ctx context.Context, id, location, token string, watches, straps int) error {
	if err := s.waitStage(ctx, id, domain.StagePicking); err != nil {
		return err
	}
	return s.post(ctx, "/v1/stores/"+location+"/orders/"+id+"/pick", token,
		map[string]any{"lines": []map[string]any{{"sku": "WATCH-001", "quantity": watches}, {"sku": "STRAP-LEA-20", "quantity": straps}}},
		http.StatusOK)
}

// pickAll confirms every line in full.
func (s *shop) pickAll(ctx context.Context, id, location, token string) error {
	return s.pick(ctx, id, location, token, 1, 2)
}

// handOver waits until the order is ready at berlin-mitte and hands it over with
// the code from the customer's email.
func (s *shop) handOver(ctx context.Context, id string) error {
	if err := s.waitStage(ctx, id, domain.StageReadyForPickup); err != nil {
		return err
	}
	code, err := s.pickupCode(ctx, id)
	if err != nil {
		return err
	}
	return s.post(ctx, "/v1/stores/berlin-mitte/orders/"+id+"/pickup", "STAFF_TOKEN_BERLIN_MITTE", map[string]string{"code": code}, http.StatusOK)
}

// cancel cancels the order as support.
func (s *shop) cancel(ctx context.Context, id string) error {
	return s.post(ctx, "/v1/orders/"+id+"/cancel", "SUPPORT_TOKEN", map[string]string{"reason": "customer asked"}, http.StatusOK)
}

// waitStage polls the orders projection until the order reaches stage.
func (s *shop) waitStage(ctx context.Context, id string, stage domain.Stage) error {
	return s.poll(ctx, func() (bool, error) {
		row, err := s.store.OrderRow(ctx, id)
		return err == nil && row.Stage == stage, nil
	}, fmt.Sprintf("order %s did not reach %s", id, stage))
}

// pickupCode reads the code from the ready-for-pickup email in the sandbox outbox.
func (s *shop) pickupCode(ctx context.Context, id string) (string, error) {
	var code string
	err := s.poll(ctx, func() (bool, error) {
		msgs, err := s.store.OutboxFor(ctx, id+":notify:ready-for-pickup:email")
		if err != nil || len(msgs) == 0 {
			return false, nil
		}
		code = messages.FindPickupCode(msgs[0].Body)
		if code == "" {
			return false, fmt.Errorf("order %s: no pickup code in the ready-for-pickup email", id)
		}
		return true, nil
	}, "no ready-for-pickup email for order "+id)
	return code, err
}

// poll waits for done with the shop's patience.
func (s *shop) poll(ctx context.Context, done func() (bool, error), failure string) error {
	return pollUntil(ctx, s.patience, done, failure)
}

// pollUntil calls done every 50 to 200 ms until it reports true or an error, or
// patience runs out.
func pollUntil(ctx context.Context, patience time.Duration, done func() (bool, error), failure string) error {
	deadline := time.Now().Add(patience)
	wait := 50 * time.Millisecond
	for time.Now().Before(deadline) {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		if err := testbed.Sleep(ctx, wait); err != nil {
			return fmt.Errorf("%s: %w", failure, err)
		}
		wait = min(wait*3/2, 200*time.Millisecond)
	}
	return fmt.Errorf("%s within %s", failure, patience)
}

// daytimeZone is an Etc/GMT zone in which it is about 13:00 now: the default
// quiet hours (21:00–08:00 in the customer's zone) would otherwise defer the
// review request, and with it the end of every order, to the next morning.
func daytimeZone(now time.Time) string {
	offset := 13 - now.UTC().Hour() // UTC+offset is 13:00
	if offset > 12 {
		offset -= 24
	}
	// Etc/GMT signs are inverted: Etc/GMT-2 is UTC+2.
	switch {
	case offset > 0:
		return fmt.Sprintf("Etc/GMT-%d", offset)
	case offset < 0:
		return fmt.Sprintf("Etc/GMT+%d", -offset)
	}
	return "Etc/UTC"
}
