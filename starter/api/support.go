package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/everywherecommerce/fulfilment/workflows"
)

type cancelBody struct {
	Reason string `json:"reason"`
}

// cancelOrder cancels an order before handover or shipping; the answer says what
// was refunded. Later it is a 409 with the reason.
func (s *Server) cancelOrder(w http.ResponseWriter, r *http.Request) {
	var body cancelBody
	if err := decode(w, r, &body); err != nil {
		s.problem(w, r, err)
		return
	}
	if strings.TrimSpace(body.Reason) == "" {
		s.problem(w, r, fieldProblem("reason", "is required"))
		return
	}
	var out workflows.CancelResult
	err := s.update(r, r.PathValue("id"), workflows.UpdateCancel, workflows.CancelRequest{
		Reason: strings.TrimSpace(body.Reason), By: principalFrom(r.Context()).Subject,
	}, &out)
	if err != nil {
		s.problem(w, r, s.temporalError(err))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

type extendBody struct {
	Until time.Time `json:"until"`
}

// extendPickup moves a ready order's pickup deadline (and its reminders).
func (s *Server) extendPickup(w http.ResponseWriter, r *http.Request) {
	var body extendBody
	if err := decode(w, r, &body); err != nil {
		s.problem(w, r, err)
		return
	}
	if body.Until.IsZero() {
		s.problem(w, r, fieldProblem("until", "is required (RFC 3339 time)"))
		return
	}
	var out workflows.PickupResult
	err := s.update(r, r.PathValue("id"), workflows.UpdateExtendPickup, workflows.ExtendPickupRequest{
		Until: body.Until, By: principalFrom(r.Context()).Subject,
	}, &out)
	if err != nil {
		s.problem(w, r, s.temporalError(err))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// unlockPickup lifts a handover lock and resets the count of wrong codes.
func (s *Server) unlockPickup(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var out workflows.PickupResult
	err := s.update(r, id, workflows.UpdateUnlockPickup, workflows.UnlockPickupRequest{By: principalFrom(r.Context()).Subject}, &out)
	if err != nil {
		s.problem(w, r, s.temporalError(err))
		return
	}
	if err := s.store.ResetFailedPickups(r.Context(), id); err != nil {
		s.problem(w, r, unavailable("Unlocked, but the count of wrong codes could not be reset; try again.", err))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func fieldProblem(field, message string) *Problem {
	p := newProblem(http.StatusBadRequest, "validation", "Invalid request", "1 field(s) are invalid.")
	p.Errors = []workflows.FieldError{{Field: field, Message: message}}
	return p
}
