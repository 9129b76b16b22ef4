-- A cancelled order's pick task is closed as 'cancelled', so it leaves the store's
-- pick list and no open task outlives its order.
alter table pick_tasks drop constraint pick_tasks_status_check;
alter table pick_tasks add constraint pick_tasks_status_check check (status in ('open', 'done', 'cancelled'));

-- Why an order needs attention, for support's lists (the workflow's flag reason).
alter table orders add column attention_reason text not null default '';
