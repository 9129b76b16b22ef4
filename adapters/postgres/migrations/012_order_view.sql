-- The orders projection holds everything GET /v1/orders/{id} shows, so that reading
-- an order costs no Temporal Action (the workflow's status query costs one). The
-- workflow's own activities write it (activities.OrderView), in the transaction of
-- each stage or journey entry.

-- Written with a stage only (RecordStage), after the stage's messages: money, the
-- lines with what was picked, the parcel's label, whether a pickup code was sent.
-- lines is null on a row no stage has written since this migration: the API then
-- reads that order with the status query.
alter table orders
	add column captured               bigint not null default 0,
	add column refunded               bigint not null default 0,
	add column lines                  jsonb,
	add column shipment_carrier       text not null default '',
	add column shipment_service       text not null default '',
	add column shipment_tracking_code text not null default '',
	add column shipment_tracking_url  text not null default '',
	add column pickup_code_issued     boolean not null default false;

-- Live: written with every stage and every journey entry that carries the
-- workflow's view, the highest view_seq winning (an update's entry and the run's
-- stage may be written concurrently). needs_attention and attention_reason follow
-- the same rule when a view comes with the write.
alter table orders
	add column shipment_status text not null default '',
	add column pickup_locked   boolean not null default false,
	add column problem         jsonb,
	add column view_seq        bigint not null default 0;
