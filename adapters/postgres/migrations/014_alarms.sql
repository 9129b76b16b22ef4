-- Journey alarms (docs/alarms.md): the alarm bell. The detector compares each
-- store's recent KPI windows with its own baseline; a shift opens one episode,
-- which stays open (updated as evaluations go on) until the KPI returns.
create table alarms (
	alarm_id          bigserial primary key,
	signal            text not null,   -- what is watched, e.g. pickup_expiry_rate
	kpi               text not null,   -- the KPI it is read from
	store_id          text not null,   -- a store, or '*' for all stores
	direction         text not null check (direction in ('up', 'down')),
	opened_at         timestamptz not null, -- end of the first window that showed the shift
	resolved_at       timestamptz,          -- end of the window in which it had returned
	window_hours      int not null,         -- the window that showed it
	observed          double precision not null, -- the window's value (count, rate or seconds)
	expected          double precision not null, -- the baseline's value for the same window
	observed_events   double precision not null, -- counted events behind observed (numerator, count or samples)
	expected_events   double precision not null,
	volume            double precision not null, -- the rate's denominator in the window (orders, messages, ...)
	baseline          text not null,        -- how expected was formed, in words
	p_value           double precision not null,
	peak_ratio        double precision not null, -- the largest observed/expected of the episode (smallest for down)
	last_evaluated_at timestamptz not null,
	last_observed     double precision not null,
	last_expected     double precision not null
);

-- One open episode per signal and store; one episode per opening.
create unique index alarms_one_open on alarms (signal, store_id) where resolved_at is null;
create unique index alarms_episode on alarms (signal, store_id, opened_at);
create index alarms_opened on alarms (opened_at);

-- What was sent about an alarm: one row per alarm, event and channel, written in
-- the transaction that opens or resolves the alarm (an outbox), then sent once.
-- A webhook has no idempotency key: a row left 'sending' by a crash becomes
-- 'unconfirmed' and is not sent again.
create table alarm_notifications (
	alarm_id   bigint not null references alarms (alarm_id),
	event      text not null check (event in ('opened', 'resolved')),
	channel    text not null check (channel in ('webhook', 'email')),
	status     text not null check (status in ('pending', 'sending', 'sent', 'failed', 'unconfirmed', 'skipped')),
	attempts   int not null default 0,
	last_error text not null default '',
	created_at timestamptz not null default now(),
	claimed_at timestamptz, -- when a sender took it (status sending)
	sent_at    timestamptz,
	primary key (alarm_id, event, channel)
);

create index alarm_notifications_pending on alarm_notifications (created_at) where status in ('pending', 'sending');

-- How far the detector has evaluated: every hour up to evaluated_through
-- (exclusive end of the last window) has been looked at once.
create table alarm_watermark (
	id                 boolean primary key default true check (id),
	evaluated_through  timestamptz not null
);

-- Workflow tasks that failed (a panic or a non-determinism error after a
-- deploy): the order's workflow shows Running but makes no progress, and its
-- own code cannot flag it. The worker records each failure the SDK reports
-- (docs/runbook.md); support lists them at GET /v1/workflow-problems.
create table workflow_task_failures (
	workflow_id     text not null,
	run_id          text not null,
	workflow_type   text not null,
	attempt         int not null,
	error           text not null,
	first_failed_at timestamptz not null,
	last_failed_at  timestamptz not null,
	primary key (workflow_id, run_id)
);

create index workflow_task_failures_last on workflow_task_failures (last_failed_at);
