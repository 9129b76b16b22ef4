package postgres_test

import (
	"errors"
	"testing"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

// errorsIs keeps the table tests short.
func errorsIs(err, target error) bool { return errors.Is(err, target) }

func TestNotificationBeginComplete(t *testing.T) {
	t.Parallel()
	st, pool := newStore(t)
	ctx := t.Context()
	rec := activities.NotificationRecord{Key: "A-1:notify:ready-for-pickup:email", OrderID: "A-1",
		Touchpoint: domain.TouchReadyForPickup, Channel: domain.ChannelEmail, Status: activities.NotificationSending}

	got, fresh, err := st.Begin(ctx, rec)
	if err != nil || !fresh || got.Status != activities.NotificationSending {
		t.Fatalf("first Begin = %+v, %v, %v; want fresh sending row", got, fresh, err)
	}
	got, fresh, err = st.Begin(ctx, rec)
	if err != nil || fresh || got.Status != activities.NotificationSending {
		t.Fatalf("second Begin = %+v, %v, %v; want the existing sending row", got, fresh, err)
	}
	for _, id := range []string{"msg-1", "msg-2"} {
		if err := st.Complete(ctx, rec.Key, id); err != nil {
			t.Fatal(err)
		}
	}
	got, fresh, err = st.Begin(ctx, rec)
	if err != nil || fresh || got.Status != activities.NotificationSent || got.ProviderMessageID != "msg-1" {
		t.Errorf("Begin after Complete = %+v, %v, %v; want sent with the first message ID", got, fresh, err)
	}
	journey, err := st.Journey(ctx, "A-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(journey) != 1 || journey[0].Kind != activities.EntryNotification || journey[0].Key != rec.Key ||
		journey[0].Detail != "ready-for-pickup via email" {
		t.Errorf("journey = %+v, want one notification entry", journey)
	}
	var sentAt bool
	if err := pool.QueryRow(ctx, `select sent_at is not null from notifications where key = $1`, rec.Key).Scan(&sentAt); err != nil || !sentAt {
		t.Errorf("sent_at set = %v (%v), want true", sentAt, err)
	}
	if err := st.Complete(ctx, "unknown", "x"); !errorsIs(err, activities.ErrNotFound) {
		t.Errorf("Complete(unknown) = %v, want ErrNotFound", err)
	}
}
