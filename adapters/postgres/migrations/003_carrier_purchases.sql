-- Shipments created at a carrier API without idempotency keys (EasyPost), per label
-- idempotency key. The adapter records the shipment before it buys it and buys only
-- the recorded one, so a retried activity never pays for a second label. The first
-- shipment recorded for a key stays: rows are never updated.
create table carrier_purchases (
	idempotency_key text primary key,
	shipment_id     text not null,
	created_at      timestamptz not null default now()
);
