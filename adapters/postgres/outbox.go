package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// OutboxMessage is a message a sandbox provider "sent", in the starter's words
// (records.OutboxMessage, what GET /dev/outbox shows): the worker's sandbox writes
// it, the starter and the demo read it.
type OutboxMessage = records.OutboxMessage

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

// Outbox returns the newest messages first, at most limit of them (GET /dev/outbox).
func (s *Store) Outbox(ctx context.Context, limit int) ([]OutboxMessage, error) {
	return s.outbox(ctx, `select id, channel, recipient, subject, body, notification_key, created_at
		from sandbox_outbox order by id desc limit $1`, limit)
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
