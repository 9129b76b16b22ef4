-- Staff can say they started a pick (the customer hears "we are packing your
-- order"); the console shows who is on it.
alter table pick_tasks
	add column started_by text,
	add column started_at timestamptz;
