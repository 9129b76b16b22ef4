-- Indexes on the event times of the journey KPIs (docs/kpis.md), so that a
-- recomputation reads the records of its window instead of whole tables. Each
-- KPI branch filters its own event time (at >= window start); the entries it
-- joins (a duration's start) are found by order (order_journey_order_at).
-- Built in the migration's transaction (not CONCURRENTLY), so writes to these
-- tables wait while they build: about 5 s in all on 100k orders (1.4 M journey
-- entries, 800 k notifications).
--
-- Stage entries by stage and time: one range per KPI branch. Partial, so that
-- the other journey entries (notifications, staff actions) cost nothing more.
create index order_journey_stage_at on order_journey (stage, at) where kind = 'stage';
-- The few entries counted besides stages: attention flags (carrier problems) and
-- the providers' webhook reports (bounces).
create index order_journey_attention_at on order_journey (at) where kind = 'attention';
create index order_journey_webhook_at on order_journey (at) where kind = 'notification' and entry_key like 'webhook:%';
create index orders_placed_at on orders (placed_at);
create index notifications_created_at on notifications (created_at);
create index pick_tasks_done_picked_at on pick_tasks (picked_at) where status = 'done';
