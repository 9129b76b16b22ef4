-- The first schema of Everywhere Fulfilment. Every table written by an activity has
-- a natural key, so retried activities write with ON CONFLICT instead of duplicating.

-- Stores and distribution centres: where stock sits and orders are picked.
create table stores (
	id        text primary key,
	kind      text not null check (kind in ('store', 'distribution_centre')),
	name      text not null,
	time_zone text not null,
	address   jsonb not null default '{}',
	hours     jsonb not null default '{}'
);

-- Stock on hand per location and SKU; reservations are already taken off.
create table stock (
	location_id text not null references stores (id),
	sku         text not null,
	quantity    integer not null check (quantity >= 0),
	primary key (location_id, sku)
);

-- One row per order and SKU. released and consumed count how much of quantity went
-- back to stock and how much was sold; the rest is still held.
create table reservations (
	order_id    text not null,
	location_id text not null references stores (id),
	sku         text not null,
	quantity    integer not null check (quantity > 0),
	released    integer not null default 0 check (released >= 0),
	consumed    integer not null default 0 check (consumed >= 0),
	created_at  timestamptz not null default now(),
	primary key (order_id, sku),
	check (released + consumed <= quantity)
);

create index reservations_location_sku on reservations (location_id, sku);

-- The pick list of every location.
create table pick_tasks (
	order_id    text primary key,
	location_id text not null references stores (id),
	lines       jsonb not null,
	due_at      timestamptz not null,
	status      text not null default 'open' check (status in ('open', 'done')),
	picked      jsonb,
	picked_by   text,
	picked_at   timestamptz,
	created_at  timestamptz not null default now()
);

create index pick_tasks_location_open on pick_tasks (location_id, due_at) where status = 'open';

-- Projection of every order for lists, the store console and support; the workflow
-- is the source of truth.
create table orders (
	order_id        text primary key,
	customer_id     text not null,
	method          text not null,
	store_id        text not null default '',
	location_id     text not null default '',
	stage           text not null,
	needs_attention boolean not null default false,
	total           bigint not null,
	currency        text not null,
	placed_at       timestamptz not null,
	updated_at      timestamptz not null
);

create index orders_store_stage on orders (store_id, stage);
create index orders_location_stage on orders (location_id, stage);
create index orders_customer on orders (customer_id, placed_at desc);
create index orders_needs_attention on orders (updated_at) where needs_attention;

-- Every touchpoint of an order: stage changes, notifications, staff actions.
create table order_journey (
	id        bigserial primary key,
	order_id  text not null,
	kind      text not null,
	entry_key text not null,
	stage     text not null default '',
	detail    text not null default '',
	actor     text not null default '',
	at        timestamptz not null,
	unique (order_id, entry_key)
);

create index order_journey_order_at on order_journey (order_id, at, id);

-- Guard rows for providers without idempotency keys: written before the call,
-- completed after it.
create table notifications (
	key                 text primary key,
	order_id            text not null,
	touchpoint          text not null,
	channel             text not null,
	status              text not null check (status in ('sending', 'sent')),
	provider_message_id text not null default '',
	created_at          timestamptz not null default now(),
	sent_at             timestamptz
);

create index notifications_order on notifications (order_id);

-- Bought labels, so carrier tracking events can be routed to orders.
create table shipments (
	order_id      text not null,
	purpose       text not null,
	provider      text not null,
	shipment_id   text not null,
	carrier       text not null default '',
	service       text not null default '',
	tracking_code text not null default '',
	tracking_url  text not null default '',
	label_url     text not null default '',
	created_at    timestamptz not null default now(),
	last_event    text not null default '',
	last_event_at timestamptz,
	primary key (order_id, purpose)
);

create index shipments_tracking_code on shipments (tracking_code);
create index shipments_provider_active on shipments (provider, created_at) where last_event <> 'delivered';

-- API bearer tokens. Only the SHA-256 of a token is stored; staff tokens are scoped
-- to one store.
create table api_tokens (
	token_hash text primary key,
	subject    text not null,
	role       text not null check (role in ('checkout', 'staff', 'support')),
	store_id   text references stores (id),
	created_at timestamptz not null default now(),
	revoked_at timestamptz,
	check (role <> 'staff' or store_id is not null)
);

create index api_tokens_subject on api_tokens (subject) where revoked_at is null;

-- Messages the sandbox providers "sent", shown by the demo instead of a real inbox.
create table sandbox_outbox (
	id               bigserial primary key,
	channel          text not null,
	recipient        text not null,
	subject          text not null default '',
	body             text not null default '',
	notification_key text not null default '',
	created_at       timestamptz not null default now()
);

create index sandbox_outbox_notification_key on sandbox_outbox (notification_key text_pattern_ops);

-- What the customer allows, read at send time (marketing consent can change after
-- checkout).
create table contact_preferences (
	customer_id       text primary key,
	email             text not null default '',
	phone             text not null default '',
	locale            text not null default 'en',
	time_zone         text not null default 'Europe/Berlin',
	marketing_consent boolean not null default false,
	updated_at        timestamptz not null default now()
);

-- Cross-sell per SKU, best first.
create table recommendations (
	sku             text not null,
	recommended_sku text not null,
	rank            integer not null,
	primary key (sku, recommended_sku)
);

-- Provider webhook events already handled; providers deliver at least once.
create table webhook_events (
	provider    text not null,
	event_id    text not null,
	received_at timestamptz not null default now(),
	primary key (provider, event_id)
);
