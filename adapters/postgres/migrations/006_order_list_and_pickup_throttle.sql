-- Support's order list (GET /v1/orders) pages newest first by (placed_at, order_id)
-- with a keyset cursor: one index per filter that leads with the filter's column,
-- then the sort key, so a page is an index range scan however many orders there are.
-- A customer's orders use orders_customer (customer_id, placed_at desc) from 001.
create index orders_placed on orders (placed_at desc, order_id desc);
create index orders_stage_placed on orders (stage, placed_at desc, order_id desc);
-- The store filter matches the pickup store or the fulfilling location; PostgreSQL
-- combines these two indexes (BitmapOr).
create index orders_store_placed on orders (store_id, placed_at desc, order_id desc);
create index orders_location_placed on orders (location_id, placed_at desc, order_id desc);
create index orders_attention_placed on orders (placed_at desc, order_id desc) where needs_attention;

-- Pickup codes tried per API token, so that a staff token cannot guess codes across
-- many orders (the per-order lock in pickup_attempts stops at one order). The
-- starter claims a row before it asks the workflow and deletes it when the code was
-- right or never tried, so rows in the window are wrong codes (or attempts in
-- flight). Several starter instances share the count; rows older than the window
-- no longer count and are deleted by later claims of the same token.
create table pickup_token_attempts (
	id         bigserial primary key,
	token_hash text not null,
	order_id   text not null,
	at         timestamptz not null default now()
);

create index pickup_token_attempts_token_at on pickup_token_attempts (token_hash, at);
