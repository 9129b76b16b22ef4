package journeygen

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Load writes the month into the system's tables in one transaction: the
// locations it names (existing ones are kept as they are), then every row by
// COPY. Rows already there with the same keys (the same seed loaded twice) make
// it fail and write nothing. It runs ANALYZE afterwards, so the KPI query plans
// for the new sizes.
func Load(ctx context.Context, pool *pgxpool.Pool, m Month) error {
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		for _, l := range m.Locations {
			hours, err := json.Marshal(l.Hours)
			if err != nil {
				return fmt.Errorf("hours of %s: %w", l.ID, err)
			}
			if _, err := tx.Exec(ctx, `insert into stores (id, kind, name, time_zone, hours) values ($1, $2, $3, $4, $5)
				on conflict (id) do nothing`, l.ID, string(l.Kind), l.Name, l.TimeZone, hours); err != nil {
				return fmt.Errorf("add location %s: %w", l.ID, err)
			}
		}
		for _, c := range copies(m) {
			if err := c.run(ctx, tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load generated month: %w", err)
	}
	if _, err := pool.Exec(ctx, "analyze orders, order_journey, pick_tasks, notifications, shipments, contact_preferences"); err != nil {
		return fmt.Errorf("analyze after loading: %w", err)
	}
	return nil
}

// HasOrders reports whether the database holds any order, so that the command
// refuses to mix generated history into a system's own unless asked to.
func HasOrders(ctx context.Context, pool *pgxpool.Pool) (bool, error) {
	var has bool
	if err := pool.QueryRow(ctx, "select exists (select 1 from orders)").Scan(&has); err != nil {
		return false, fmt.Errorf("look for orders: %w", err)
	}
	return has, nil
}

// tableCopy is one table's COPY.
type tableCopy struct {
	table   string
	columns []string
	rows    [][]any
}

func (c tableCopy) run(ctx context.Context, tx pgx.Tx) error {
	n, err := tx.CopyFrom(ctx, pgx.Identifier{c.table}, c.columns, pgx.CopyFromRows(c.rows))
	if err != nil {
		return fmt.Errorf("copy %d rows into %s: %w", len(c.rows), c.table, err)
	}
	if n != int64(len(c.rows)) {
		return fmt.Errorf("copy into %s: %d of %d rows written", c.table, n, len(c.rows))
	}
	return nil
}

// jsonb marshals a value for a jsonb column (nil stays SQL null).
func jsonb(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" {
		return nil // the generated values always marshal; null stays null
	}
	return b
}

// copies are the month's rows per table, in the column order of the COPY.
func copies(m Month) []tableCopy {
	orders := tableCopy{table: "orders", columns: []string{
		"order_id", "customer_id", "method", "store_id", "location_id", "stage", "total", "currency", "placed_at", "updated_at",
		"customer_name", "promised_ready_at", "pickup_deadline", "captured", "refunded", "lines", "shipment_carrier",
		"shipment_service", "shipment_tracking_code", "shipment_tracking_url", "shipment_status", "pickup_code_issued", "view_seq",
	}}
	for _, o := range m.Orders {
		orders.rows = append(orders.rows, []any{
			o.OrderID, o.CustomerID, string(o.Method), o.StoreID, o.LocationID, string(o.Stage), o.Total, o.Currency, o.PlacedAt, o.UpdatedAt,
			o.CustomerName, o.PromisedReadyAt, o.PickupDeadline, o.Captured, o.Refunded, jsonb(o.Lines), o.Carrier,
			o.Service, o.TrackingCode, o.TrackingURL, o.ShipmentStatus, o.PickupCodeSent, int64(1),
		})
	}
	journey := tableCopy{table: "order_journey", columns: []string{"order_id", "kind", "entry_key", "stage", "detail", "actor", "at"}}
	for _, j := range m.Journey {
		journey.rows = append(journey.rows, []any{j.OrderID, j.Kind, j.Key, string(j.Stage), j.Detail, j.Actor, j.At})
	}
	tasks := tableCopy{table: "pick_tasks", columns: []string{
		"order_id", "location_id", "lines", "due_at", "status", "picked", "picked_by", "picked_at", "created_at", "started_by", "started_at",
	}}
	for _, t := range m.PickTasks {
		var picked []byte
		if t.Picked != nil {
			picked = jsonb(t.Picked)
		}
		tasks.rows = append(tasks.rows, []any{
			t.OrderID, t.LocationID, jsonb(t.Lines), t.DueAt, t.Status, picked, nullable(t.PickedBy), t.PickedAt, t.CreatedAt,
			nullable(t.StartedBy), t.StartedAt,
		})
	}
	notes := tableCopy{table: "notifications", columns: []string{
		"key", "order_id", "touchpoint", "channel", "status", "provider_message_id", "created_at", "sent_at", "detail",
	}}
	for _, n := range m.Notifications {
		notes.rows = append(notes.rows, []any{
			n.Key, n.OrderID, string(n.Touchpoint), string(n.Channel), n.Status, n.ProviderMessageID, n.CreatedAt, n.SentAt, n.Detail,
		})
	}
	ships := tableCopy{table: "shipments", columns: []string{
		"order_id", "purpose", "provider", "shipment_id", "carrier", "service", "tracking_code", "tracking_url", "label_url",
		"created_at", "last_event", "last_event_at",
	}}
	for _, s := range m.Shipments {
		ships.rows = append(ships.rows, []any{
			s.OrderID, s.Purpose, s.Provider, s.ShipmentID, s.Carrier, s.Service, s.TrackingCode, s.TrackingURL, s.LabelURL,
			s.CreatedAt, s.LastEvent, s.LastEventAt,
		})
	}
	customers := tableCopy{table: "contact_preferences", columns: []string{
		"customer_id", "email", "phone", "locale", "time_zone", "marketing_consent", "updated_at",
		"email_undeliverable", "sms_undeliverable", "push_token", "channels",
	}}
	for _, c := range m.Customers {
		customers.rows = append(customers.rows, []any{
			c.CustomerID, c.Email, c.Phone, c.Locale, c.TimeZone, c.MarketingConsent, c.UpdatedAt,
			c.EmailUndeliverable, c.SMSUndeliverable, c.PushToken, c.Channels,
		})
	}
	return []tableCopy{orders, journey, tasks, notes, ships, customers}
}

// nullable is nil for an empty string (a column that is null until set).
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Count is how many rows of each table a month has, for -dry-run and logs.
func (m Month) Count() map[string]int {
	return map[string]int{
		"locations": len(m.Locations), "orders": len(m.Orders), "order_journey": len(m.Journey), "pick_tasks": len(m.PickTasks),
		"notifications": len(m.Notifications), "shipments": len(m.Shipments), "contact_preferences": len(m.Customers),
	}
}
