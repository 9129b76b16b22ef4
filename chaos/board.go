package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/everywherecommerce/fulfilment/internal/testbed"
)

// Lists of a store's work list (GET /v1/stores/{store}/work).
const (
	listPicking  = "picking"
	listArriving = "arriving"
	listReady    = "ready_for_pickup"
	listOverdue  = "overdue"
)

// board is what the staff of every location see: each location's work list,
// read by one poller per location with that location's staff token, as the store
// console does. Order journeys wait on it for their order to appear on a list.
type board struct {
	mu      sync.Mutex
	seen    map[string]map[string]string // order ID → list → location
	changed chan struct{}                // closed and replaced on every change
	polls   atomic.Int64
	failed  atomic.Int64 // polls without a work list (the starter was away)
}

func newBoard() *board {
	return &board{seen: map[string]map[string]string{}, changed: make(chan struct{})}
}

// workList is the part of the store console's answer the staff use.
type workList struct {
	Picking        []workOrder `json:"picking"`
	Arriving       []workOrder `json:"arriving"`
	ReadyForPickup []workOrder `json:"ready_for_pickup"`
	Overdue        []workOrder `json:"overdue"`
}

type workOrder struct {
	OrderID string `json:"order_id"`
}

// poll reads location's work list every interval until ctx ends.
func (b *board) poll(ctx context.Context, api *apiClient, location, token string, interval time.Duration) {
	for i := 0; i < maxPolls && ctx.Err() == nil; i++ {
		b.polls.Add(1)
		status, body, _, err := api.once(ctx, http.MethodGet, "/v1/stores/"+location+"/work", token, nil)
		var w workList
		if err == nil && status == http.StatusOK && json.Unmarshal(body, &w) == nil {
			b.record(location, w)
		} else if ctx.Err() == nil {
			b.failed.Add(1)
		}
		if testbed.Sleep(ctx, interval) != nil {
			return
		}
	}
}

// record notes every order on the lists and wakes the waiting journeys.
func (b *board) record(location string, w workList) {
	b.mu.Lock()
	defer b.mu.Unlock()
	changed := false
	for list, orders := range map[string][]workOrder{listPicking: w.Picking, listArriving: w.Arriving,
		listReady: w.ReadyForPickup, listOverdue: w.Overdue} {
		for _, o := range orders {
			lists := b.seen[o.OrderID]
			if lists == nil {
				lists = map[string]string{}
				b.seen[o.OrderID] = lists
			}
			if _, ok := lists[list]; !ok {
				lists[list] = location
				changed = true
			}
		}
	}
	if changed {
		close(b.changed)
		b.changed = make(chan struct{})
	}
}

// await waits until the order was seen on one of lists and returns the list and
// the location whose staff saw it; the context bounds the wait.
func (b *board) await(ctx context.Context, orderID string, lists ...string) (string, string, error) {
	for range maxWakes {
		b.mu.Lock()
		for _, l := range lists {
			if loc, ok := b.seen[orderID][l]; ok {
				b.mu.Unlock()
				return l, loc, nil
			}
		}
		changed := b.changed
		b.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return "", "", fmt.Errorf("order %s not on the staff's %v lists: %w", orderID, lists, context.Cause(ctx))
		}
	}
	return "", "", fmt.Errorf("order %s: gave up waiting after %d changes of the lists", orderID, maxWakes)
}
