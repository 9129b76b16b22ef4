package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/workflows"
)

type cancelBody struct {
	// Reason is support's free text, told to the customer; it may run over
	// several lines (line feeds and tabs), but holds no other control character.
	Reason string `json:"reason" text:"multiline"`
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
	// The workflow records the new deadline in the projection itself.
	writeJSON(w, http.StatusOK, out)
}

// unlockPickup lifts a handover lock; the workflow starts its count of wrong codes
// afresh and records that in the projection.
func (s *Server) unlockPickup(w http.ResponseWriter, r *http.Request) {
	var out workflows.PickupResult
	err := s.update(r, r.PathValue("id"), workflows.UpdateUnlockPickup, workflows.UnlockPickupRequest{By: principalFrom(r.Context()).Subject}, &out)
	if err != nil {
		s.problem(w, r, s.temporalError(err))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func fieldProblem(field, message string) *Problem {
	p := newProblem(http.StatusBadRequest, "validation", "Invalid request", "1 field(s) are invalid.")
	p.Errors = []domain.FieldError{{Field: field, Message: message}}
	return p
}

type resendBody struct {
	Touchpoint string `json:"touchpoint"`
	Channel    string `json:"channel,omitempty"`
}

// resendTouchpoints are the messages support may send again.
var resendTouchpoints = map[domain.Touchpoint]bool{
	domain.TouchOrderConfirmed: true, domain.TouchPaymentFailed: true, domain.TouchPartialRefund: true,
	domain.TouchReadyForPickup: true, domain.TouchPickupReminder: true, domain.TouchPickupChanged: true,
	domain.TouchPickedUp: true, domain.TouchShipped: true, domain.TouchDelivered: true,
	domain.TouchCancelled: true,
}

// resendNotification sends a touchpoint's last message again (a customer lost the
// pickup code). It is a new message with a key of its own, in the journey with
// who asked; the review request, a marketing message, is never resent.
func (s *Server) resendNotification(w http.ResponseWriter, r *http.Request) {
	var body resendBody
	if err := decode(w, r, &body); err != nil {
		s.problem(w, r, err)
		return
	}
	var errs []domain.FieldError
	if !resendTouchpoints[domain.Touchpoint(body.Touchpoint)] {
		errs = append(errs, domain.FieldError{Field: "touchpoint", Message: "must be a transactional touchpoint such as \"ready-for-pickup\""})
	}
	if body.Channel != "" && !domain.Channel(body.Channel).Valid() {
		errs = append(errs, domain.FieldError{Field: "channel", Message: `must be "email", "sms" or "push" (or left out for every channel)`})
	}
	if len(errs) > 0 {
		s.problem(w, r, validationProblem("Invalid request", errs))
		return
	}
	var out workflows.ResendResult
	err := s.update(r, r.PathValue("id"), workflows.UpdateResend, workflows.ResendRequest{
		Touchpoint: domain.Touchpoint(body.Touchpoint), Channel: domain.Channel(body.Channel), By: principalFrom(r.Context()).Subject,
	}, &out)
	if err != nil {
		s.problem(w, r, s.temporalError(err))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

type resolveBody struct {
	Action string `json:"action"`
	Refund bool   `json:"refund,omitempty"`
	// Note is support's own record (never told to the customer); it may run
	// over several lines.
	Note string `json:"note,omitempty" text:"multiline"`
}

// resolveOrder settles a step that gave up (the order needs attention and waits
// for support): retry it, record it as done by hand, or cancel the order with or
// without a refund. The workflow journals the decision with the caller as actor.
func (s *Server) resolveOrder(w http.ResponseWriter, r *http.Request) {
	var body resolveBody
	if err := decode(w, r, &body); err != nil {
		s.problem(w, r, err)
		return
	}
	body.Note = strings.TrimSpace(body.Note)
	var errs []domain.FieldError
	action := workflows.ResolveAction(body.Action)
	switch action {
	case workflows.ResolveRetry, workflows.ResolveSkip, workflows.ResolveCancel:
	default:
		errs = append(errs, domain.FieldError{Field: "action", Message: `must be "retry", "skip" or "cancel"`})
	}
	if (action == workflows.ResolveSkip || action == workflows.ResolveCancel) && body.Note == "" {
		errs = append(errs, domain.FieldError{Field: "note", Message: "is required to skip or cancel (what was done, and why)"})
	}
	if body.Refund && action != workflows.ResolveCancel {
		errs = append(errs, domain.FieldError{Field: "refund", Message: "applies to cancel only"})
	}
	if len(errs) > 0 {
		s.problem(w, r, validationProblem("Invalid request", errs))
		return
	}
	var out workflows.ResolveResult
	err := s.update(r, r.PathValue("id"), workflows.UpdateResolve, workflows.ResolveRequest{
		Action: action, Refund: body.Refund, Note: body.Note, By: principalFrom(r.Context()).Subject,
	}, &out)
	if err != nil {
		s.problem(w, r, s.temporalError(err))
		return
	}
	writeJSON(w, http.StatusOK, out)
}
