package api

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// storeWork lists the store's work from the PostgreSQL projection. A staff token
// of another store and a store that does not exist both answer 404.
func (s *Server) storeWork(w http.ResponseWriter, r *http.Request) {
	r, cancel := within(r, s.cfg.ReadTimeout)
	defer cancel()
	store := r.PathValue("store")
	if !ownStore(principalFrom(r.Context()), store) {
		s.problem(w, r, notFound())
		return
	}
	work, err := s.store.StoreWork(r.Context(), store)
	if errors.Is(err, activities.ErrUnknownLocation) {
		s.problem(w, r, notFound())
		return
	}
	if err != nil {
		s.problem(w, r, unavailable("Cannot read the store's work now.", err))
		return
	}
	for _, list := range [][]records.WorkOrder{work.ReadyForPickup, work.Overdue} {
		for i := range list {
			pickupState(&list[i])
		}
	}
	writeJSON(w, http.StatusOK, work)
}

// pickupState fills an order's attempts left and lock from the workflow's count of
// wrong codes, as recorded in the projection: the workflow locks the handover at
// workflows.MaxWrongPickupCodes and starts the count afresh when support unlocks.
func pickupState(o *records.WorkOrder) {
	left := max(workflows.MaxWrongPickupCodes-o.FailedPickups, 0)
	locked := left == 0
	o.AttemptsLeft, o.Locked = &left, &locked
}

type pickBody struct {
	Lines []domain.PickedLine `json:"lines"`
}

// completePick confirms the picked quantities at the location that picks the order.
func (s *Server) completePick(w http.ResponseWriter, r *http.Request) {
	var body pickBody
	if err := decode(w, r, &body); err != nil {
		s.problem(w, r, err)
		return
	}
	if len(body.Lines) == 0 {
		p := newProblem(http.StatusBadRequest, "validation", "Invalid pick", "1 field(s) are invalid.")
		p.Errors = []domain.FieldError{{Field: "lines", Message: "give the picked quantity of every SKU"}}
		s.problem(w, r, p)
		return
	}
	s.storeUpdate(w, r, func(row orderPlace) bool { return row.location == r.PathValue("store") },
		workflows.UpdateCompletePick, func(by string) any {
			return workflows.CompletePickRequest{Lines: body.Lines, By: by}
		}, &workflows.CompletePickResult{})
}

// startPick says staff started picking the order: the customer hears that it is
// being packed, and the store's list shows who is on it.
func (s *Server) startPick(w http.ResponseWriter, r *http.Request) {
	s.storeUpdate(w, r, func(row orderPlace) bool { return row.location == r.PathValue("store") },
		workflows.UpdateStartPick, func(by string) any {
			return workflows.StartPickRequest{By: by}
		}, &workflows.StartPickResult{})
}

func (s *Server) confirmArrival(w http.ResponseWriter, r *http.Request) {
	s.storeUpdate(w, r, func(row orderPlace) bool { return row.store == r.PathValue("store") },
		workflows.UpdateConfirmArrival, func(by string) any {
			return workflows.ConfirmArrivalRequest{StoreID: r.PathValue("store"), By: by}
		}, &workflows.HandoverResult{})
}

type pickupBody struct {
	Code string `json:"code"`
}

// pickupCodePattern is what a pickup code looks like: six digits, as in the
// customer's message.
var pickupCodePattern = regexp.MustCompile(`^[0-9]{6}$`)

// completePickup hands the order over when the customer's code matches. The
// workflow checks the code (it receives only the code's proof, so the code never
// enters history), counts wrong ones and locks the handover at
// workflows.MaxWrongPickupCodes (423); each staff token is also limited to
// PickupTokenLimit wrong codes per PickupTokenWindow across orders (429).
func (s *Server) completePickup(w http.ResponseWriter, r *http.Request) {
	var body pickupBody
	if err := decode(w, r, &body); err != nil {
		s.problem(w, r, err)
		return
	}
	code := strings.TrimSpace(body.Code)
	switch {
	case code == "":
		s.problem(w, r, fieldProblem("code", "is required"))
		return
	case !pickupCodePattern.MatchString(code):
		s.problem(w, r, fieldProblem("code", "must be the six digits of the customer's message"))
		return
	case s.cfg.PickupCodes == nil:
		s.problem(w, r, errors.New("pickup codes are not configured (api.Config.PickupCodes)"))
		return
	}
	id, who, ok := s.storeOrder(w, r, func(row orderPlace) bool { return row.store == r.PathValue("store") })
	if !ok {
		return
	}
	// The token's allowance of wrong codes is claimed before anything else, so
	// that a throttled try changes nothing: no attempt on the order, no update.
	attempt, wait, err := s.store.ClaimPickupAttempt(r.Context(), records.HashToken(bearerToken(r)), id,
		s.cfg.PickupTokenLimit, s.cfg.PickupTokenWindow)
	if err != nil {
		s.problem(w, r, unavailable("Cannot check the token's pickup attempts now.", err))
		return
	}
	if attempt == 0 {
		s.throttlePickup(w, r, wait)
		return
	}
	var out workflows.HandoverResult
	err = s.update(r, id, workflows.UpdateCompletePickup, workflows.CompletePickupRequest{
		StoreID: r.PathValue("store"), Proof: s.cfg.PickupCodes.Proof(id, code), By: who,
	}, &out)
	if !refusedAs(err, workflows.ErrTypeWrongPickupCode) {
		// Only a wrong code counts against the token: the claim of any other
		// answer is given back.
		s.releasePickupAttempt(r, attempt)
	}
	if err != nil {
		s.problem(w, r, s.temporalError(err))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// bearerToken is the request's bearer token; auth has already checked it.
func bearerToken(r *http.Request) string {
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return token
}

// throttlePickup answers 429 to a token that entered PickupTokenLimit wrong codes
// within PickupTokenWindow, with Retry-After when its oldest one leaves the window.
func (s *Server) throttlePickup(w http.ResponseWriter, r *http.Request, wait time.Duration) {
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	p := newProblem(http.StatusTooManyRequests, "too-many-pickup-codes", "Too many wrong pickup codes",
		fmt.Sprintf("This token entered %d wrong pickup codes within %s; try again in %d seconds.",
			s.cfg.PickupTokenLimit, s.cfg.PickupTokenWindow, secs))
	p.Extra = map[string]any{"retry_after": secs}
	s.problem(w, r, p)
}

// releasePickupAttempt gives back the token's claim of a try that was not a wrong
// code. It runs after the answer is decided, so it must not end with the request.
func (s *Server) releasePickupAttempt(r *http.Request, id int64) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
	defer cancel()
	if err := s.store.ReleasePickupAttempt(ctx, id); err != nil {
		// The claim then counts against the token until it leaves the window: too
		// strict for a while, never too lenient.
		s.logger.Warn("release pickup attempt", "attempt_id", id, "error", err)
	}
}

type orderPlace struct{ store, location string }

// storeUpdate runs a staff update on an order of the path's store.
func (s *Server) storeUpdate(w http.ResponseWriter, r *http.Request, belongs func(orderPlace) bool, name string, arg func(by string) any, out any) {
	id, who, ok := s.storeOrder(w, r, belongs)
	if !ok {
		return
	}
	if err := s.update(r, id, name, arg(who), out); err != nil {
		s.problem(w, r, s.temporalError(err))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// storeOrder checks that the caller may act on the path's order at the path's
// store and returns the order ID and the caller's subject. Orders of other
// stores, and stores not the caller's, answer 404 like unknown orders.
func (s *Server) storeOrder(w http.ResponseWriter, r *http.Request, belongs func(orderPlace) bool) (string, string, bool) {
	p := principalFrom(r.Context())
	id := r.PathValue("id")
	if !ownStore(p, r.PathValue("store")) {
		s.problem(w, r, notFound())
		return "", "", false
	}
	row, err := s.store.OrderRow(r.Context(), id)
	if errors.Is(err, activities.ErrNotFound) || (err == nil && !belongs(orderPlace{store: row.StoreID, location: row.LocationID})) {
		s.problem(w, r, notFound())
		return "", "", false
	}
	if err != nil {
		s.problem(w, r, unavailable("Cannot read the order now.", err))
		return "", "", false
	}
	return id, p.Subject, true
}

// update runs a workflow update and waits for its result, at most UpdateTimeout.
func (s *Server) update(r *http.Request, id, name string, arg, out any) error {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.UpdateTimeout)
	defer cancel()
	h, err := s.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   workflows.WorkflowID(id),
		UpdateName:   name,
		Args:         []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return err
	}
	return h.Get(ctx, out)
}

// temporalError maps Temporal errors to problems, once: a refused update by its
// application error type (workflows.ErrType*), an unknown order 404, an order
// whose workflow has ended 409, an unreachable, overloaded or slow service 503.
// Anything else is returned as it is (a 500, logged).
func (s *Server) temporalError(err error) error {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		if p := refusal(appErr); p != nil {
			return p
		}
	}
	var notFoundErr *serviceerror.NotFound
	switch {
	case errors.As(err, &notFoundErr) && workflowEnded(notFoundErr):
		return newProblem(http.StatusConflict, "order-ended", "Order has ended", "The order's story is over; nothing can change it now.")
	case errors.As(err, &notFoundErr):
		return notFound()
	case temporalUnavailable(err):
		return unavailable("Temporal is not reachable or did not answer in time.", err)
	}
	return err
}

// refusal is the problem for an update the workflow refused, by the refusal's
// type; nil for a type that is not a refusal. The message of a wrong-stage
// refusal is the workflow's sentence for the caller (why not), so it is the
// detail; the others have fixed words.
func refusal(appErr *temporal.ApplicationError) *Problem {
	switch appErr.Type() {
	case workflows.ErrTypeFieldError:
		// A validator named the bad field: "lines[0].quantity: must be between 0 and 1".
		field, detail, _ := strings.Cut(appErr.Message(), ": ")
		return fieldProblem(field, detail)
	case workflows.ErrTypeWrongStage:
		return newProblem(http.StatusConflict, "wrong-stage", "Not possible now", appErr.Message())
	case workflows.ErrTypeWrongStore:
		return notFound()
	case workflows.ErrTypePickupLocked:
		return pickupLocked()
	case workflows.ErrTypeWrongPickupCode:
		// The workflow counted it; its detail says how many tries are left, and 0
		// that this one locked the handover.
		var d workflows.WrongPickupCode
		if err := appErr.Details(&d); err != nil || d.AttemptsLeft == 0 {
			return pickupLocked()
		}
		p := newProblem(http.StatusUnprocessableEntity, "wrong-pickup-code", "Wrong pickup code", "The code does not match this order.")
		p.Extra = map[string]any{"attempts_left": d.AttemptsLeft}
		return p
	case workflows.ErrTypeTryAgain:
		return unavailable(appErr.Message(), appErr)
	case workflows.ErrTypeNothingToResolve:
		return newProblem(http.StatusConflict, "nothing-to-resolve", "Nothing to resolve", "The order is not waiting for a decision from support.")
	case workflows.ErrTypeNothingToResend:
		return newProblem(http.StatusConflict, "nothing-to-resend", "Nothing to resend", "This order's customer has not been sent that message.")
	}
	return nil
}

// pickupLocked answers a handover locked after too many wrong codes.
func pickupLocked() *Problem {
	p := newProblem(http.StatusLocked, "pickup-locked", "Handover locked", "Too many wrong pickup codes: support must unlock this order.")
	p.Extra = map[string]any{"attempts_left": 0}
	return p
}

// refusedAs reports whether err is an update the workflow refused with type typ.
func refusedAs(err error, typ string) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == typ
}

// workflowEnded tells a NotFound for a workflow that has ended from one for a
// workflow that never existed. The server answers both as NotFound and tells them
// apart only by the message (history service's consts.ErrWorkflowCompleted,
// "workflow execution already completed"); the SDK offers no type for it. This is
// the one place the starter reads an error's text: a reworded server message
// turns the 409 order-ended into a 404.
func workflowEnded(err *serviceerror.NotFound) bool {
	return strings.Contains(err.Error(), "already completed")
}

// temporalUnavailable reports whether err says that Temporal could not answer
// now, rather than anything about the order: the server is down or restarting
// (Unavailable, a namespace not yet loaded, a workflow without a worker yet),
// overloaded (ResourceExhausted) or slower than the handler's timeout (a
// deadline or cancellation, as gRPC status or as the context's own error).
// Each is a 503 with Retry-After: the same request may well succeed later.
func temporalUnavailable(err error) bool {
	var (
		unavailableErr *serviceerror.Unavailable
		namespaceErr   *serviceerror.NamespaceUnavailable
		deadlineErr    *serviceerror.DeadlineExceeded
		canceledErr    *serviceerror.Canceled
		exhaustedErr   *serviceerror.ResourceExhausted
		notReadyErr    *serviceerror.WorkflowNotReady
		updateTimeout  *client.WorkflowUpdateServiceTimeoutOrCanceledError
	)
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.As(err, &unavailableErr) || errors.As(err, &namespaceErr) || errors.As(err, &deadlineErr) ||
		errors.As(err, &canceledErr) || errors.As(err, &exhaustedErr) || errors.As(err, &notReadyErr) ||
		errors.As(err, &updateTimeout)
}
