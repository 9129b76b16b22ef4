package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/internal/testbed"
)

// outboxMessage is a message of GET /dev/outbox, as a customer reads it.
type outboxMessage struct {
	ID              int64          `json:"id"`
	Channel         domain.Channel `json:"channel"`
	Subject         string         `json:"subject"`
	Body            string         `json:"body"`
	NotificationKey string         `json:"notification_key"`
}

// mailbox is every customer's inbox and phone: one poller reads the sandbox's
// outbox (the newest 100 messages) and keeps what it has seen, so that journeys
// can wait for "their" message, e.g. the pickup code.
type mailbox struct {
	mu      sync.Mutex
	seen    map[int64]bool
	byOrder map[string][]outboxMessage // order ID (the key's first part) → its messages
	maxID   int64
	changed chan struct{}
	// missed counts messages that left the outbox's window of 100 before a poll
	// saw them (a gap in the IDs); a customer who misses the pickup code asks
	// support to send it again.
	missed atomic.Int64
	polls  atomic.Int64
	failed atomic.Int64
}

func newMailbox() *mailbox {
	return &mailbox{seen: map[int64]bool{}, byOrder: map[string][]outboxMessage{}, changed: make(chan struct{})}
}

// poll reads the outbox every interval until ctx ends.
func (m *mailbox) poll(ctx context.Context, api *apiClient, interval time.Duration) {
	for i := 0; i < maxPolls && ctx.Err() == nil; i++ {
		m.polls.Add(1)
		status, body, _, err := api.once(ctx, http.MethodGet, "/dev/outbox", "", nil)
		var msgs []outboxMessage
		if err == nil && status == http.StatusOK && json.Unmarshal(body, &msgs) == nil {
			m.record(msgs)
		} else if ctx.Err() == nil {
			m.failed.Add(1)
		}
		if testbed.Sleep(ctx, interval) != nil {
			return
		}
	}
}

// record keeps the new messages, counts the ones that were missed and wakes the
// waiting journeys.
func (m *mailbox) record(msgs []outboxMessage) {
	m.mu.Lock()
	defer m.mu.Unlock()
	oldest, fresh := int64(0), false
	for _, msg := range msgs {
		if oldest == 0 || msg.ID < oldest {
			oldest = msg.ID
		}
		if !m.seen[msg.ID] {
			m.seen[msg.ID] = true
			order, _, _ := strings.Cut(msg.NotificationKey, ":")
			m.byOrder[order] = append(m.byOrder[order], msg)
			fresh = true
		}
	}
	if len(msgs) > 0 && oldest > m.maxID+1 {
		m.missed.Add(oldest - m.maxID - 1)
	}
	for _, msg := range msgs {
		m.maxID = max(m.maxID, msg.ID)
	}
	if fresh {
		close(m.changed)
		m.changed = make(chan struct{})
	}
}

// await waits for a message whose notification key starts with prefix and that
// match accepts; the context bounds the wait.
func (m *mailbox) await(ctx context.Context, prefix string, match func(outboxMessage) bool) (outboxMessage, error) {
	order, _, _ := strings.Cut(prefix, ":")
	for range maxWakes {
		m.mu.Lock()
		for _, msg := range m.byOrder[order] {
			if strings.HasPrefix(msg.NotificationKey, prefix) && match(msg) {
				m.mu.Unlock()
				return msg, nil
			}
		}
		changed := m.changed
		m.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return outboxMessage{}, fmt.Errorf("no message %s*: %w", prefix, context.Cause(ctx))
		}
	}
	return outboxMessage{}, fmt.Errorf("no message %s*: gave up after %d new messages", prefix, maxWakes)
}
