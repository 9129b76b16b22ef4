package postgres

import (
	"context"
	"fmt"
)

// RecordWebhookEvent remembers a provider's webhook event and reports whether it is
// new. Providers deliver at least once; a handler acts only when fresh is true.
func (s *Store) RecordWebhookEvent(ctx context.Context, provider, eventID string) (fresh bool, err error) {
	tag, err := s.pool.Exec(ctx, `insert into webhook_events (provider, event_id) values ($1, $2)
		on conflict (provider, event_id) do nothing`, provider, eventID)
	if err != nil {
		return false, fmt.Errorf("record webhook event %s of %s: %w", eventID, provider, err)
	}
	return tag.RowsAffected() == 1, nil
}
