-- Instant channels besides email: the app's push token and the channels the
-- customer allows, and the fates a message can have besides "sent".

-- push_token: the app's FCM registration token ('' = no app). It is dropped when
-- FCM answers UNREGISTERED. channels: the channels the customer allows; email is
-- always one of them (transactional messages always go by email).
alter table contact_preferences
	add column push_token text not null default '',
	add column channels text[] not null default '{email,sms,push}';

-- sending       the row is written, the provider is being called
-- sent          the provider accepted it (provider_message_id)
-- failed        the provider refused it for now; a retry sends again
-- undeliverable the provider refused the recipient for good
-- unconfirmed   an SMS whose send was interrupted (worker crash, timeout): SMS is
--               at most once, so it is not sent again
alter table notifications drop constraint notifications_status_check;
alter table notifications add constraint notifications_status_check
	check (status in ('sending', 'sent', 'failed', 'undeliverable', 'unconfirmed'));
alter table notifications add column detail text not null default '';
