package api

import (
	"errors"
	"net/http"
	"strings"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/workflows"
)

func (s *Server) storeWork(w http.ResponseWriter, r *http.Request) {
	store := r.PathValue("store")
	if !ownStore(principalFrom(r.Context()), store) {
		s.problem(w, r, notFound())
		return
	}
	work, err := s.store.StoreWork(r.Context(), store)
	if err != nil {
		s.problem(w, r, unavailable("Cannot read the store's work now.", err))
		return
	}
	writeJSON(w, http.StatusOK, work)
}

type pickBody struct {
	Lines []activities.PickedLine `json:"lines"`
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
		p.Errors = []workflows.FieldError{{Field: "lines", Message: "give the picked quantity of every SKU"}}
		s.problem(w, r, p)
		return
	}
	s.storeUpdate(w, r, func(row orderPlace) bool { return row.location == r.PathValue("store") },
		workflows.UpdateCompletePick, func(by string) any {
			return workflows.CompletePickRequest{Lines: body.Lines, By: by}
		}, &workflows.CompletePickResult{})
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

// completePickup hands the order over when the customer's code matches.
func (s *Server) completePickup(w http.ResponseWriter, r *http.Request) {
	var body pickupBody
	if err := decode(w, r, &body); err != nil {
		s.problem(w, r, err)
		return
	}
	if strings.TrimSpace(body.Code) == "" {
		p := newProblem(http.StatusBadRequest, "validation", "Invalid pickup", "1 field(s) are invalid.")
		p.Errors = []workflows.FieldError{{Field: "code", Message: "is required"}}
		s.problem(w, r, p)
		return
	}
	s.storeUpdate(w, r, func(row orderPlace) bool { return row.store == r.PathValue("store") },
		workflows.UpdateCompletePickup, func(by string) any {
			return workflows.CompletePickupRequest{StoreID: r.PathValue("store"), Code: strings.TrimSpace(body.Code), By: by}
		}, &workflows.HandoverResult{})
}

// fieldErrorType is the application error type Temporal gives a workflows.FieldError
// returned by a validator (the Go type's name).
const fieldErrorType = "FieldError"

type orderPlace struct{ store, location string }

// storeUpdate runs a staff update on an order of the path's store. Orders of other
// stores, and stores not the caller's, answer 404 like unknown orders.
func (s *Server) storeUpdate(w http.ResponseWriter, r *http.Request, belongs func(orderPlace) bool, name string, arg func(by string) any, out any) {
	p := principalFrom(r.Context())
	id := r.PathValue("id")
	if !ownStore(p, r.PathValue("store")) {
		s.problem(w, r, notFound())
		return
	}
	row, err := s.store.OrderRow(r.Context(), id)
	if errors.Is(err, activities.ErrNotFound) || (err == nil && !belongs(orderPlace{store: row.StoreID, location: row.LocationID})) {
		s.problem(w, r, notFound())
		return
	}
	if err != nil {
		s.problem(w, r, unavailable("Cannot read the order now.", err))
		return
	}
	h, err := s.temporal.UpdateWorkflow(r.Context(), client.UpdateWorkflowOptions{
		WorkflowID:   workflows.WorkflowID(id),
		UpdateName:   name,
		Args:         []any{arg(p.Subject)},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(r.Context(), out)
	}
	if err != nil {
		s.problem(w, r, s.temporalError(err))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// temporalError maps Temporal errors to problems: unknown orders 404, rejected
// updates by their reason, an unreachable service 503.
func (s *Server) temporalError(err error) error {
	var notFoundErr *serviceerror.NotFound
	var unavailableErr *serviceerror.Unavailable
	msg := err.Error()
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() == fieldErrorType {
		// A validator named the bad field: "lines[0].quantity: must be between 0 and 1".
		field, detail, _ := strings.Cut(appErr.Message(), ": ")
		p := newProblem(http.StatusBadRequest, "validation", "Invalid request", "1 field(s) are invalid.")
		p.Errors = []workflows.FieldError{{Field: field, Message: detail}}
		return p
	}
	switch {
	case errors.As(err, &notFoundErr):
		return notFound()
	case errors.As(err, &unavailableErr):
		return unavailable("Temporal is not reachable.", err)
	case strings.Contains(msg, workflows.ErrWrongPickupCode.Error()):
		return newProblem(http.StatusUnprocessableEntity, "wrong-pickup-code", "Wrong pickup code", "The code does not match this order.")
	case strings.Contains(msg, workflows.ErrWrongStore.Error()):
		return notFound()
	case strings.Contains(msg, workflows.ErrWrongStage.Error()):
		return newProblem(http.StatusConflict, "wrong-stage", "Not possible now", "The order is not at a stage where this is possible.")
	}
	return err
}
