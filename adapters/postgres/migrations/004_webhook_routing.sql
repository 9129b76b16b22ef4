-- Routing of provider webhooks to orders, and what they teach us about channels.

-- Stripe events name the PaymentIntent, never our order: the starter records the
-- pair when it starts the order, and the Stripe webhook looks the order up here.
create table payment_orders (
	payment_id text primary key,
	order_id   text not null
);

-- A bounced email or an undelivered SMS marks that channel of the customer as
-- undeliverable, so that later notifications choose another channel instead of
-- failing again.
alter table contact_preferences
	add column email_undeliverable boolean not null default false,
	add column sms_undeliverable boolean not null default false;

-- Twilio's status callbacks name only the message SID.
create index notifications_provider_message_id on notifications (provider_message_id)
	where provider_message_id <> '';
