-- What the sandbox payment provider and carrier remember (FULFILMENT_PROVIDERS=sandbox
-- only), so that they remember like Stripe and EasyPost do: across worker restarts
-- and for every worker process. A refund after a restart sees the capture made
-- before it; a label bought again with the same idempotency key is the first one.
-- Rows are never deleted; amounts are minor units.

-- One row per PaymentIntent the sandbox changed: its totals, and the row every
-- capture, refund and void locks (select ... for update), so that two workers
-- cannot both refund the last euro. The checks repeat the fake's rules.
create table sandbox_payments (
	payment_id text primary key,
	captured   bigint not null default 0 check (captured >= 0),
	refunded   bigint not null default 0 check (refunded >= 0),
	voided     boolean not null default false,
	check (refunded <= captured),
	check (not (voided and captured > 0))
);

-- Captures per idempotency key: a repeated request is compared with the first and
-- answered with its result.
create table sandbox_captures (
	idempotency_key text primary key,
	payment_id      text not null references sandbox_payments (payment_id),
	amount          bigint not null check (amount > 0),
	currency        text not null,
	capture_id      text not null,
	created_at      timestamptz not null default now()
);

-- Refunds per idempotency key; several per payment, their sum is
-- sandbox_payments.refunded.
create table sandbox_refunds (
	idempotency_key text primary key,
	payment_id      text not null references sandbox_payments (payment_id),
	amount          bigint not null check (amount > 0),
	currency        text not null,
	reason          text not null,
	refund_id       text not null,
	created_at      timestamptz not null default now()
);

-- Labels bought per idempotency key; the first label recorded for a key stays.
create table sandbox_labels (
	idempotency_key text primary key,
	shipment_id     text not null,
	carrier         text not null,
	service         text not null,
	tracking_code   text not null,
	tracking_url    text not null,
	label_url       text not null,
	created_at      timestamptz not null default now()
);

-- Voided labels by shipment ID (the carrier's void takes no idempotency key, and
-- voiding twice is fine).
create table sandbox_label_voids (
	shipment_id text primary key,
	voided_at   timestamptz not null default now()
);
