package postgres

import (
	"context"
	"fmt"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

var _ activities.OnceRecorder = (*Store)(nil)

// RecordStage upserts the order's projection row and adds the journey entry
// "stage:<stage>" in one transaction. The entry is written once per stage. The
// projection only moves forward in time: a change older than the row's updated_at
// (a retry that lost a race with a later stage) leaves stage, summary and the
// view's stage fields as they are, but is still recorded in the journey, where it
// belongs by its time. The view's live fields (attention, problem, lock, carrier
// status) follow its sequence number instead (recordLiveView). Without a view (a
// workflow older than migration 012) the attention flag is taken from the
// summary only when the row is created (a flag raised before the order had a
// row); afterwards attention entries own it.
func (s *Store) RecordStage(ctx context.Context, c activities.StageChange) error {
	_, err := s.RecordStageOnce(ctx, c)
	return err
}

// RecordStageOnce is RecordStage, and reports whether the stage's journey entry
// was new (false: the stage was recorded before, by an earlier attempt).
func (s *Store) RecordStageOnce(ctx context.Context, c activities.StageChange) (bool, error) {
	o := c.Order
	if o.OrderID == "" || c.Stage == "" {
		return false, fmt.Errorf("record stage %q of order %q: %w", c.Stage, o.OrderID, activities.ErrInvalidRequest)
	}
	// One round trip: the statements go as a batch, which PostgreSQL runs as one
	// implicit transaction (all of them or none).
	fresh := false
	b := &pgx.Batch{}
	b.Queue(`
			insert into orders (order_id, customer_id, method, store_id, location_id, stage, total, currency, placed_at, updated_at,
				customer_name, promised_ready_at, pickup_deadline, needs_attention, attention_reason)
			values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
			on conflict (order_id) do update set
				customer_id = case when excluded.updated_at >= orders.updated_at then excluded.customer_id else orders.customer_id end,
				method      = case when excluded.updated_at >= orders.updated_at then excluded.method else orders.method end,
				store_id    = case when excluded.updated_at >= orders.updated_at and excluded.store_id <> '' then excluded.store_id else orders.store_id end,
				location_id = case when excluded.updated_at >= orders.updated_at and excluded.location_id <> '' then excluded.location_id else orders.location_id end,
				stage       = case when excluded.updated_at >= orders.updated_at then excluded.stage else orders.stage end,
				total       = case when excluded.updated_at >= orders.updated_at then excluded.total else orders.total end,
				currency    = case when excluded.updated_at >= orders.updated_at then excluded.currency else orders.currency end,
				placed_at   = case when excluded.updated_at >= orders.updated_at then excluded.placed_at else orders.placed_at end,
				updated_at  = greatest(orders.updated_at, excluded.updated_at),
				-- set once known; an empty value (an older writer) keeps what is there
				customer_name     = case when excluded.customer_name <> '' then excluded.customer_name else orders.customer_name end,
				promised_ready_at = coalesce(excluded.promised_ready_at, orders.promised_ready_at),
				pickup_deadline   = case when excluded.updated_at >= orders.updated_at and excluded.pickup_deadline is not null
					then excluded.pickup_deadline else orders.pickup_deadline end`,
		o.OrderID, o.CustomerID, string(o.Method), o.StoreID, o.LocationID, string(c.Stage), o.Total, o.Currency, o.PlacedAt, c.At,
		o.CustomerName, o.PromisedReadyAt, o.PickupDeadline, o.NeedsAttention, o.AttentionReason,
	)
	if v := o.View; v != nil {
		queueStageView(b, o.OrderID, c.At, *v)
		queueLiveView(b, o.OrderID, *v)
	}
	b.Queue(`
			insert into order_journey (order_id, kind, entry_key, stage, detail, actor, at)
			values ($1, $2, $3, $4, $5, $6, $7)
			on conflict (order_id, entry_key) do nothing`,
		o.OrderID, activities.EntryStage, "stage:"+string(c.Stage), string(c.Stage), c.Note, c.Actor, c.At,
	).Exec(func(ct pgconn.CommandTag) error {
		fresh = ct.RowsAffected() == 1
		return nil
	})
	err := s.pool.SendBatch(ctx, b).Close()
	if err != nil {
		return false, fmt.Errorf("record stage %s of order %s: %w", c.Stage, o.OrderID, err)
	}
	return fresh, nil
}

// RecordEntry adds a journey entry once per (order, key); a repeat changes nothing.
// In the same transaction, an entry with the workflow's view updates the
// projection's live fields (needs_attention and its reason, problem, lock, carrier
// status; never the stage or what goes with it). Without a view, an attention
// entry (activities.EntryAttention) sets needs_attention, so support lists show
// the order, and an EntryAttentionResolved entry clears it.
func (s *Store) RecordEntry(ctx context.Context, e activities.JourneyEntry) error {
	_, err := s.RecordEntryOnce(ctx, e)
	return err
}

// RecordEntryOnce is RecordEntry, and reports whether the entry was new.
func (s *Store) RecordEntryOnce(ctx context.Context, e activities.JourneyEntry) (bool, error) {
	if e.OrderID == "" || e.Key == "" || e.Kind == "" {
		return false, fmt.Errorf("record journey %q of order %q: %w", e.Key, e.OrderID, activities.ErrInvalidRequest)
	}
	// One round trip: a batch runs as one implicit transaction.
	fresh := false
	b := &pgx.Batch{}
	b.Queue(`
			insert into order_journey (order_id, kind, entry_key, stage, detail, actor, at)
			values ($1, $2, $3, $4, $5, $6, $7)
			on conflict (order_id, entry_key) do nothing`,
		e.OrderID, e.Kind, e.Key, string(e.Stage), e.Detail, e.Actor, e.At,
	).Exec(func(ct pgconn.CommandTag) error {
		fresh = ct.RowsAffected() == 1
		return nil
	})
	if e.Pickup != nil {
		queuePickupFacts(b, e.OrderID, *e.Pickup)
	}
	switch {
	case e.View != nil:
		queueLiveView(b, e.OrderID, *e.View)
	case e.Kind == activities.EntryAttention || e.Kind == activities.EntryAttentionResolved:
		needs, reason := e.Kind == activities.EntryAttention, ""
		if needs {
			reason = e.Detail
		}
		b.Queue(`update orders set needs_attention = $2, attention_reason = $3 where order_id = $1`, e.OrderID, needs, reason)
	}
	err := s.pool.SendBatch(ctx, b).Close()
	if err != nil {
		return false, fmt.Errorf("record journey %s of order %s: %w", e.Key, e.OrderID, err)
	}
	return fresh, nil
}

// Journey returns the order's touchpoints in the order they happened (time, then
// insertion). An unknown order has an empty journey.
func (s *Store) Journey(ctx context.Context, orderID string) ([]activities.JourneyEntry, error) {
	rows, err := s.pool.Query(ctx, `
		select order_id, kind, entry_key, detail, actor, at from order_journey
		where order_id = $1 order by at, id`, orderID)
	if err != nil {
		return nil, fmt.Errorf("read journey of order %s: %w", orderID, err)
	}
	entries, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (activities.JourneyEntry, error) {
		var e activities.JourneyEntry
		err := row.Scan(&e.OrderID, &e.Kind, &e.Key, &e.Detail, &e.Actor, &e.At)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("read journey of order %s: %w", orderID, err)
	}
	return entries, nil
}
