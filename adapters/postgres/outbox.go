package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// OutboxMessage is a message a sandbox provider "sent": the demo shows these
// instead of a real inbox or phone.
type OutboxMessage struct {
	ID        int64  `json:"id"`
	Channel   string `json:"channel"`
	Recipient string `json:"recipient"`
	Subject   string `json:"subject,omitempty"`
	Body      string `json:"body"`
	// NotificationKey ("<order_id>:notify:<touchpoint>:<channel>") ties the message
	// to its order and notifications row.
	NotificationKey string    `json:"notification_key,omitempty"`
	CreatedAt       time.Time `json:"created_at"`
}

// PutOutbox appends a message; ID is assigned, and CreatedAt defaults to now. Each
// call is one send, so a retried send appears twice, as it would at a provider.
func (s *Store) PutOutbox(ctx context.Context, m OutboxMessage) error {
	var at *time.Time
	if !m.CreatedAt.IsZero() {
		at = &m.CreatedAt
	}
	_, err := s.pool.Exec(ctx, `
		insert into sandbox_outbox (channel, recipient, subject, body, notification_key, created_at)
		values ($1, $2, $3, $4, $5, coalesce($6, now()))`,
		m.Channel, m.Recipient, m.Subject, m.Body, m.NotificationKey, at)
	if err != nil {
		return fmt.Errorf("put outbox message %s: %w", m.NotificationKey, err)
	}
	return nil
}

// Outbox returns the newest messages first, at most limit of them, in the
// starter's words (GET /dev/outbox); OutboxFor and PutOutbox speak this
// package's OutboxMessage, for the worker's sandbox, the demo and tests.
func (s *Store) Outbox(ctx context.Context, limit int) ([]records.OutboxMessage, error) {
	msgs, err := s.outbox(ctx, `select id, channel, recipient, subject, body, notification_key, created_at
		from sandbox_outbox order by id desc limit $1`, limit)
	if err != nil {
		return nil, err
	}
	out := make([]records.OutboxMessage, len(msgs))
	for i, m := range msgs {
		out[i] = records.OutboxMessage(m)
	}
	return out, nil
}

// OutboxFor returns the messages whose notification key starts with prefix, newest
// first; prefix "A-10001:" finds every message of order A-10001. The prefix is
// matched literally (no LIKE wildcards), since order IDs may contain "_".
func (s *Store) OutboxFor(ctx context.Context, notificationKeyPrefix string) ([]OutboxMessage, error) {
	return s.outbox(ctx, `select id, channel, recipient, subject, body, notification_key, created_at
		from sandbox_outbox where starts_with(notification_key, $1) order by id desc`, notificationKeyPrefix)
}

// outbox runs one of the outbox queries.
func (s *Store) outbox(ctx context.Context, sql string, arg any) ([]OutboxMessage, error) {
	rows, err := s.pool.Query(ctx, sql, arg)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	msgs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[OutboxMessage])
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	return msgs, nil
}
