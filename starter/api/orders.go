package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// orderRequest is the body of POST /v1/orders.
type orderRequest struct {
	OrderID          string          `json:"order_id"`
	Customer         domain.Customer `json:"customer"`
	MarketingConsent bool            `json:"marketing_consent"`
	// PushToken is the app's push token, when the order comes from the app. It is
	// kept with the contact preferences only, never in the order's workflow.
	PushToken string `json:"push_token,omitempty"`
	// Channels the customer allows (email always); none given keeps what is stored.
	Channels        []string        `json:"channels,omitempty"`
	Method          domain.Method   `json:"method"`
	StoreID         string          `json:"store_id,omitempty"`
	Address         *domain.Address `json:"address,omitempty"`
	Currency        string          `json:"currency"`
	PaymentIntentID string          `json:"payment_intent_id"`
	Lines           []domain.Line   `json:"lines"`
}

func (req orderRequest) order(placedAt time.Time) domain.Order {
	return domain.Order{
		OrderID: req.OrderID, Customer: req.Customer, Method: req.Method, StoreID: req.StoreID,
		Address: req.Address, Currency: req.Currency, PaymentIntentID: req.PaymentIntentID,
		Lines: req.Lines, PlacedAt: placedAt,
	}
}

// hash fingerprints the request so that a repeat with a different body is told
// apart from a retry (the struct is re-encoded, so key order and spacing do not matter).
func (req orderRequest) hash() string {
	b, _ := json.Marshal(req) // a struct of strings, numbers and slices always encodes
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// orderResponse is the answer to the checkout service.
type orderResponse struct {
	workflows.CheckoutResult
	URL string `json:"url"`
	// Replay is true when the order had been placed before: the answer is the
	// first checkout's (stage included), and CurrentStage says where the order is now.
	Replay       bool         `json:"replay"`
	CurrentStage domain.Stage `json:"current_stage,omitempty"`
}

func (s *Server) placeOrder(w http.ResponseWriter, r *http.Request) {
	var req orderRequest
	if err := decode(w, r, &req); err != nil {
		s.problem(w, r, err)
		return
	}
	order := req.order(s.cfg.Now().UTC())
	errs := domain.ValidateOrder(order)
	if req.Customer.TimeZone != "" && !validTimeZone(req.Customer.TimeZone) {
		errs = append(errs, domain.FieldError{Field: "customer.time_zone", Message: "must be an IANA time zone such as \"Europe/Berlin\""})
	}
	validateContact("", req.PushToken, req.Channels, &errs)
	facts, err := s.lookUpCheckout(r, order, &errs)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	if len(errs) > 0 {
		s.problem(w, r, validationProblem("Invalid order", errs))
		return
	}
	// Payment provider webhooks (disputes, refunds made elsewhere) find the order
	// through its PaymentIntent.
	err = s.store.RecordPaymentOrder(r.Context(), order.PaymentIntentID, order.OrderID)
	if errors.Is(err, activities.ErrInvalidRequest) {
		s.problem(w, r, fieldProblem("payment_intent_id", "is already used by another order"))
		return
	}
	if err != nil {
		s.problem(w, r, unavailable("Cannot record the payment now.", err))
		return
	}
	// Only a checkout that passed every check writes the customer's preferences.
	err = s.store.SavePreferences(r.Context(), records.ContactPreferences{
		CustomerID: req.Customer.ID, Email: req.Customer.Email, Phone: req.Customer.Phone, Locale: req.Customer.Locale,
		TimeZone: req.Customer.TimeZone, MarketingConsent: req.MarketingConsent, UpdatedAt: order.PlacedAt,
		PushToken: req.PushToken, Channels: req.Channels, FromCheckout: true,
	})
	if err != nil {
		s.problem(w, r, unavailable("Cannot save the customer's preferences now.", err))
		return
	}
	storeName := ""
	if facts.Store != nil {
		storeName = facts.Store.Name
	}
	res, err := s.checkout(r, order, req.hash(), storeName)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	body := orderResponse{CheckoutResult: res, URL: "/v1/orders/" + res.OrderID}
	// An order the projection knew before this checkout was placed before: the
	// checkout answered with the first outcome, and the answer says so.
	if facts.PlacedStage != "" {
		body.Replay, body.CurrentStage = true, facts.PlacedStage
	}
	s.answerCheckout(w, r, body)
}

// lookUpCheckout reads what the checkout needs from PostgreSQL in one round trip
// (Store.CheckoutFacts) and adds a field error for a ship-to-store order that
// names no store we have and for every line whose SKU no location stocks, so
// that every bad field is reported at once. An order for an article that does
// not exist is a 400 and leaves its order_id unused (a known SKU out of stock is
// the workflow's "rejected"). Fields that already have an error are not looked
// up. The facts also say whether the order was placed before.
func (s *Server) lookUpCheckout(r *http.Request, order domain.Order, errs *[]domain.FieldError) (records.CheckoutFacts, error) {
	bad := map[string]bool{}
	for _, e := range *errs {
		bad[e.Field] = true
	}
	q := records.CheckoutLookup{OrderID: order.OrderID}
	if order.Method == domain.MethodShipToStore && !bad["store_id"] {
		q.StoreID = order.StoreID
	}
	line := map[string]int{}
	for i, l := range order.Lines {
		if bad[fmt.Sprintf("lines[%d].sku", i)] || bad["lines"] {
			continue
		}
		q.SKUs = append(q.SKUs, l.SKU)
		line[l.SKU] = i
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.ReadTimeout)
	defer cancel()
	facts, err := s.store.CheckoutFacts(ctx, q)
	if err != nil {
		return records.CheckoutFacts{}, unavailable("Cannot look up the store and articles now.", err)
	}
	if q.StoreID != "" && (facts.Store == nil || facts.Store.Kind != activities.KindStore) {
		*errs = append(*errs, domain.FieldError{Field: "store_id", Message: fmt.Sprintf("no store %q", order.StoreID)})
		facts.Store = nil
	}
	for _, sku := range facts.UnknownSKUs {
		*errs = append(*errs, domain.FieldError{Field: fmt.Sprintf("lines[%d].sku", line[sku]), Message: fmt.Sprintf("unknown SKU %q", sku)})
	}
	return facts, nil
}

// checkout starts the order's workflow with its checkout update in one call
// (Update-with-Start). A retry finds the running workflow and the completed update
// and gets the first answer at no cost.
func (s *Server) checkout(r *http.Request, order domain.Order, hash, storeName string) (workflows.CheckoutResult, error) {
	id := workflows.WorkflowID(order.OrderID)
	op := s.temporal.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                s.cfg.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		TypedSearchAttributes:    workflows.StartSearchAttributes(order),
		StaticSummary:            workflows.Summary(order, storeName),
		StaticDetails:            workflows.StaticDetails(order),
	}, workflows.WorkflowType, workflows.Input{Order: order, Policy: s.cfg.Policy, RequestHash: hash,
		PlacedBy: principalFrom(r.Context()).Subject})
	update := client.UpdateWorkflowOptions{
		WorkflowID:   id,
		UpdateID:     workflows.CheckoutUpdateID(order.OrderID),
		UpdateName:   workflows.UpdateCheckout,
		Args:         []any{workflows.CheckoutRequest{OrderID: order.OrderID}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	}
	// Reserving stock and capturing the payment take seconds even with retries;
	// past UpdateTimeout the answer is a 503 and the same request, sent again,
	// gets the checkout's outcome.
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.UpdateTimeout)
	defer cancel()
	h, err := s.temporal.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: op,
		UpdateOptions:          update,
	})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		// The order's workflow has already ended: ask it for the checkout's
		// recorded outcome under the same update ID.
		h, err = s.temporal.UpdateWorkflow(ctx, update)
	}
	if err != nil {
		return workflows.CheckoutResult{}, s.temporalError(err)
	}
	var res workflows.CheckoutResult
	if err := h.Get(ctx, &res); err != nil {
		return workflows.CheckoutResult{}, s.temporalError(err)
	}
	if res.RequestHash != hash {
		return workflows.CheckoutResult{}, newProblem(http.StatusConflict, "order-exists", "Order exists",
			"An order with this order_id was placed with a different request.")
	}
	return res, nil
}

func (s *Server) answerCheckout(w http.ResponseWriter, r *http.Request, body orderResponse) {
	res := body.CheckoutResult
	switch res.Outcome {
	case workflows.OutcomeCaptured:
		w.Header().Set("Location", body.URL)
		writeJSON(w, http.StatusCreated, body)
	case workflows.OutcomePaymentFailed:
		p := newProblem(http.StatusPaymentRequired, "payment-failed", "Payment failed", res.Reason)
		p.Extra = map[string]any{"order": body}
		s.problem(w, r, p)
	default:
		p := newProblem(http.StatusConflict, "rejected", "Order rejected", res.Reason)
		p.Extra = map[string]any{"order": body, "short": res.Short}
		s.problem(w, r, p)
	}
}

// validTimeZone reports whether tz names an IANA time zone ("Local", which Go
// also loads, is the server's own and no customer's).
func validTimeZone(tz string) bool {
	if tz == "" || tz == "Local" {
		return false
	}
	_, err := time.LoadLocation(tz)
	return err == nil
}
