-- Wrong pickup codes per order, counted by the starter: the workflow's validator
-- rejects a wrong code without a trace, so the count lives here. At the limit the
-- starter locks the handover in the workflow; support's unlock resets the count.
create table pickup_attempts (
	order_id   text primary key,
	failed     int not null default 0 check (failed >= 0),
	updated_at timestamptz not null default now()
);
