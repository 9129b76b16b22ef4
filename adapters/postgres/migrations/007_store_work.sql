-- What the store console needs beyond the stage, kept in the orders projection so
-- that GET /v1/stores/{store}/work reads PostgreSQL only, never workflows.
--
-- customer_name     the name given at checkout: staff search ready orders by it at
--                   the counter (personal data, shown only to the pickup store)
-- promised_ready_at when the order was promised ready at checkout: the day a
--                   ship-to-store parcel is expected at the store
-- pickup_deadline   when an uncollected ready order goes back; null before ready
alter table orders
	add column customer_name text not null default '',
	add column promised_ready_at timestamptz,
	add column pickup_deadline timestamptz;
