-- An alarm's baseline in parts (records.BaselineParts: kind, span, events,
-- volume, spread), so that the console says it in the reader's language; the
-- baseline column keeps the English words for the notifications. Null for
-- episodes opened before: the console shows their English words.
alter table alarms add column baseline_parts jsonb;
