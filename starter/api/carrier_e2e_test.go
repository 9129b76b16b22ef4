package api_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/workflows"
)

// testCarrier is the sandbox carrier with switches a test holds: an outage that
// lasts until the test ends it, and a label purchase held until the test lets it
// go on. Both act before the sandbox carrier is called, so nothing is bought.
type testCarrier struct {
	activities.Carrier

	down atomic.Bool // every purchase fails as in an outage (retryable), while set

	// held, when made, is closed as the first purchase is held; that purchase
	// goes on when release is closed (or its activity's context ends).
	held, release chan struct{}
	holdOnce      sync.Once
}

// withCarrier puts c between the worker and the sandbox carrier.
func withCarrier(c *testCarrier) systemOption {
	return func(s *systemSettings) { s.carrier = c }
}

// holdingCarrier holds the first label purchase until released.
func holdingCarrier() *testCarrier {
	return &testCarrier{held: make(chan struct{}), release: make(chan struct{})}
}

func (c *testCarrier) BuyLabel(ctx context.Context, req activities.LabelRequest) (activities.Label, error) {
	if c.down.Load() {
		return activities.Label{}, errors.New("test carrier: unavailable (HTTP 503)")
	}
	if c.held != nil {
		first := false
		c.holdOnce.Do(func() { first = true; close(c.held) })
		if first {
			select {
			case <-c.release:
			case <-ctx.Done():
				return activities.Label{}, fmt.Errorf("test carrier: held purchase: %w", ctx.Err())
			}
		}
	}
	return c.Carrier.BuyLabel(ctx, req)
}

// waitHeld waits until the carrier holds a purchase.
func (s *system) waitHeld(c *testCarrier) {
	s.t.Helper()
	select {
	case <-c.held:
	case <-time.After(s.patience):
		s.t.Fatalf("no label purchase within %s", s.patience)
	}
}

// waitUpdateAccepted waits until the order's workflow history shows an update of
// that name accepted; the request's answer coming first fails the test with it.
func (s *system) waitUpdateAccepted(id, name string, answered <-chan answer) {
	s.t.Helper()
	deadline := time.Now().Add(s.patience)
	for time.Now().Before(deadline) {
		select {
		case a := <-answered:
			s.t.Fatalf("order %s: the %s request was answered before its update was accepted: %d %s %v", id, name, a.status, a.body, a.err)
		default:
		}
		for _, ev := range s.history(id) {
			if a := ev.GetWorkflowExecutionUpdateAcceptedEventAttributes(); a != nil && a.GetAcceptedRequest().GetInput().GetName() == name {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("order %s: no %s update accepted within %s", id, name, s.patience)
}

// answer is an HTTP response's status and body, or the error of its request.
type answer struct {
	status int
	body   string
	err    error
}

// postLater sends an empty JSON POST from another goroutine (a test may not
// fail there) and delivers its answer on the channel.
func (s *system) postLater(path, token string) <-chan answer {
	out := make(chan answer, 1)
	go func() {
		req, err := http.NewRequest(http.MethodPost, s.url+path, strings.NewReader("{}"))
		if err != nil {
			out <- answer{err: err}
			return
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := s.http.Do(req)
		if err != nil {
			out <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		out <- answer{status: resp.StatusCode, body: string(body), err: err}
	}()
	return out
}

// arrivalWhileLabelling: staff scan the transfer's parcel while the activity
// that buys its label and records it in transit is still running (the staff's
// list shows the parcel arriving as soon as that activity has written it, a
// moment before the workflow takes its result; CI once met the gap). The
// arrival is accepted, waits for the result, and counts: the order becomes
// ready with no second scan.
func arrivalWhileLabelling() recordedPath {
	carrier := holdingCarrier()
	return recordedPath{name: "v5-arrival-while-the-transfer-label-was-recorded", stage: domain.StageCompleted,
		opts: []systemOption{withIdleCarrier(), withCarrier(carrier)},
		run: func(s *system, id string) {
			s.setStock("berlin-mitte", "WATCH-001", 0)
			s.place(id, "ship_to_store")
			s.pickAll(id, "dc-erfurt", "dc")
			s.waitHeld(carrier)
			arrival := s.postLater("/v1/stores/berlin-mitte/orders/"+id+"/arrival", s.tokens["berlin"])
			s.waitUpdateAccepted(id, workflows.UpdateConfirmArrival, arrival)
			close(carrier.release)
			select {
			case a := <-arrival:
				if a.err != nil || a.status != http.StatusOK {
					s.t.Fatalf("arrival while the label was recorded: %d %s %v", a.status, a.body, a.err)
				}
			case <-time.After(s.patience):
				s.t.Fatalf("no answer to the arrival within %s", s.patience)
			}
			s.handOver(id)
		}}
}

// outageFlaggedWhileRetrying: the carrier is down for longer than StuckAfter.
// The order is flagged while the label step retries by itself, and the flag
// goes down when the carrier is back. The outage ends when the test has seen
// the flag, not after a set time, so a slow machine only makes it longer.
func outageFlaggedWhileRetrying() recordedPath {
	carrier := &testCarrier{}
	carrier.down.Store(true)
	return recordedPath{name: "v4-outage-flagged-while-retrying-and-cleared", stage: domain.StageCompleted,
		policy: func(p *workflows.Policy) { p.StuckAfter = 3 * time.Second },
		opts:   []systemOption{withCarrier(carrier)},
		run: func(s *system, id string) {
			s.place(id, "home_delivery")
			s.pickAll(id, "dc-erfurt", "dc")
			s.waitAttention(id)
			if !s.hasEntry(id, activities.EntryAttention, "buy home-delivery label keeps failing") {
				s.t.Errorf("journey lacks the outage flag: %+v", s.journeyEntries(id, activities.EntryAttention))
			}
			carrier.down.Store(false)
			s.result(id)
			if row, err := s.store.OrderRow(context.Background(), id); err != nil || row.NeedsAttention {
				s.t.Errorf("projection = %+v (%v), want the flag down", row, err)
			}
		}}
}
