package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/everywherecommerce/fulfilment/adapters/postgres"
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/envvar"
	"github.com/everywherecommerce/fulfilment/messages"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// demoCommand runs `starter demo seed [--tokens-file F]` (stores, stock and, on
// first use, API tokens) and `starter demo orders` (a few orders through both
// fulfilment methods, driven over the public API like a checkout service, staff
// and a customer reading their email would).
func demoCommand(ctx context.Context, verb string, args []string, getenv func(string) string, logger *slog.Logger) error {
	fs := flag.NewFlagSet("demo "+verb, flag.ContinueOnError)
	tokensFile := fs.String("tokens-file", "", "write newly created tokens here as KEY=value lines (mode 0600)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	store, closeStore, err := openStore(ctx, getenv)
	if err != nil {
		return err
	}
	defer closeStore()
	if verb == "seed" {
		if err := store.SeedDemo(ctx); err != nil {
			return err
		}
		return seedTokens(ctx, store, *tokensFile, os.Stdout)
	}
	d := demo{
		base:   strings.TrimSuffix(envvar.Lookup(getenv).Or("STARTER_URL", "http://127.0.0.1:8080"), "/"),
		tokens: map[string]string{},
		store:  store,
		http:   &http.Client{Timeout: 45 * time.Second},
		logger: logger,
	}
	for _, t := range demoTokens() {
		d.tokens[t.env] = getenv(t.env)
		if d.tokens[t.env] == "" {
			return fmt.Errorf("%s is not set: source the tokens file written by `starter demo seed`", t.env)
		}
	}
	return d.run(ctx)
}

type demo struct {
	base   string
	tokens map[string]string
	store  *postgres.Store
	http   *http.Client
	logger *slog.Logger
}

// run places the demo orders. Their IDs are fixed, so a second make run finds
// them (the API answers a repeated checkout with the first answer) and moves on.
func (d demo) run(ctx context.Context) error {
	type step struct {
		id, method, store, payment string
		pick, collect              bool
	}
	steps := []step{
		{"DEMO-1001", "ship_to_store", "berlin-mitte", "pi_demo_1001", true, true},
		{"DEMO-1002", "ship_to_store", "berlin-mitte", "pi_demo_1002", true, false},
		{"DEMO-1003", "ship_to_store", "hamburg-altona", "pi_demo_1003", false, false},
		{"DEMO-1004", "home_delivery", "", "pi_demo_1004", true, false},
		{"DEMO-1005", "home_delivery", "", "pi_demo_1005", false, false},
		{"DEMO-1006", "ship_to_store", "berlin-mitte", "pi_demo_decline_1006", false, false},
	}
	for _, s := range steps {
		res, err := d.place(ctx, s.id, s.method, s.store, s.payment)
		if err != nil {
			return err
		}
		if res.Replay {
			// A second make run: the order is where the first one left it, or further
			// (a step the first run did not finish is done below).
			d.logger.Info("demo order placed before", "order_id", s.id, "outcome", res.Outcome, "stage", res.CurrentStage)
		} else {
			d.logger.Info("demo order placed", "order_id", s.id, "outcome", res.Outcome, "stage", res.Stage)
		}
		if res.Outcome != workflows.OutcomeCaptured || !s.pick {
			continue
		}
		if err := d.pick(ctx, s.id); err != nil {
			return err
		}
		if s.collect {
			if err := d.collect(ctx, s.id, s.store); err != nil {
				return err
			}
		}
	}
	return nil
}

// placed is the checkout's answer as the demo reads it.
type placed struct {
	workflows.CheckoutResult
	// Replay: the order was placed before; CurrentStage is where it is now.
	Replay       bool   `json:"replay"`
	CurrentStage string `json:"current_stage"`
}

func (d demo) place(ctx context.Context, id, method, store, payment string) (placed, error) {
	body := map[string]any{
		"order_id":          id,
		"customer":          map[string]string{"id": "C-" + id, "name": "Mia Schmidt", "email": "mia.schmidt@example.com", "locale": "de-DE", "time_zone": "Europe/Berlin"},
		"marketing_consent": true,
		"method":            method,
		"currency":          "EUR",
		"payment_intent_id": payment,
		"lines": []map[string]any{
			{"sku": "WATCH-001", "name": "Automatic watch", "quantity": 1, "unit_price": 24900},
			{"sku": "STRAP-LEA-20", "name": "Leather strap 20 mm", "quantity": 1, "unit_price": 3900},
		},
	}
	if store != "" {
		body["store_id"] = store
	} else {
		body["address"] = map[string]string{"name": "Mia Schmidt", "line1": "Torstraße 1", "postal_code": "10119", "city": "Berlin", "country": "DE"}
	}
	var res struct {
		placed
		Order *placed `json:"order"`
	}
	status, err := d.call(ctx, http.MethodPost, "/v1/orders", d.tokens["CHECKOUT_TOKEN"], body, &res)
	if err != nil {
		return placed{}, err
	}
	if res.Order != nil { // a problem answer (payment failed, rejected) carries the order
		return *res.Order, nil
	}
	if status != http.StatusCreated {
		return placed{}, fmt.Errorf("place %s: status %d", id, status)
	}
	return res.placed, nil
}

// pick confirms every line in full, as the fulfilling location's staff would.
func (d demo) pick(ctx context.Context, id string) error {
	row, err := d.waitForStage(ctx, id, domain.StagePicking, domain.StagePicked, domain.StageReadyForPickup, domain.StageShipped,
		domain.StagePickedUp, domain.StageDelivered)
	if err != nil || row.Stage != domain.StagePicking {
		return err
	}
	lines := []map[string]any{{"sku": "WATCH-001", "quantity": 1}, {"sku": "STRAP-LEA-20", "quantity": 1}}
	status, err := d.call(ctx, http.MethodPost, "/v1/stores/"+row.LocationID+"/orders/"+id+"/pick",
		d.tokens["SUPPORT_TOKEN"], map[string]any{"lines": lines}, nil)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("pick %s: status %d", id, status)
	}
	return nil
}

// collect reads the pickup code from the customer's email in the sandbox outbox
// and hands the order over at the store.
func (d demo) collect(ctx context.Context, id, store string) error {
	row, err := d.waitForStage(ctx, id, domain.StageReadyForPickup, domain.StagePickedUp, domain.StageReviewRequested, domain.StageCompleted)
	if err != nil || row.Stage != domain.StageReadyForPickup {
		return err
	}
	msgs, err := d.store.OutboxFor(ctx, id+":notify:ready-for-pickup:")
	if err != nil || len(msgs) == 0 {
		return fmt.Errorf("pickup code of %s not in the outbox: %w", id, err)
	}
	code := pickupCodeIn(msgs[0].Body)
	token := d.tokens["STAFF_TOKEN_"+strings.ToUpper(strings.ReplaceAll(store, "-", "_"))]
	status, err := d.call(ctx, http.MethodPost, "/v1/stores/"+store+"/orders/"+id+"/pickup", token, map[string]string{"code": code}, nil)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("pickup %s: status %d", id, status)
	}
	return nil
}

// pickupCodeIn finds the code in the ready-for-pickup email.
func pickupCodeIn(body string) string {
	return messages.FindPickupCode(body)
}

// waitForStage polls the orders projection until the order reaches one of stages.
func (d demo) waitForStage(ctx context.Context, id string, stages ...domain.Stage) (records.OrderRow, error) {
	deadline := time.Now().Add(60 * time.Second)
	for {
		row, err := d.store.OrderRow(ctx, id)
		if err == nil {
			for _, s := range stages {
				if row.Stage == s {
					return row, nil
				}
			}
		}
		if time.Now().After(deadline) {
			return records.OrderRow{}, fmt.Errorf("order %s did not reach %v (now %q): %w", id, stages, row.Stage, err)
		}
		select {
		case <-ctx.Done():
			return records.OrderRow{}, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (d demo) call(ctx context.Context, method, path, token string, body, out any) (int, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, method, d.base+path, bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("%s %s: read: %w", method, path, err)
	}
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusUnauthorized {
		return resp.StatusCode, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, errors.Join(fmt.Errorf("%s %s: decode", method, path), err)
		}
	}
	return resp.StatusCode, nil
}
