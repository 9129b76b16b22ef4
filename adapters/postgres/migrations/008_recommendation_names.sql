-- Cross-sell suggestions name the product the customer reads in the message.
alter table recommendations add column name text not null default '';
