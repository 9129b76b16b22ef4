package postgres_test

import (
	"testing"

	"github.com/everywherecommerce/fulfilment/adapters/postgres"
)

func TestOutbox(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()
	for _, key := range []string{"A_1:notify:order-confirmed:email", "AB1:notify:order-confirmed:email", "A_1:notify:ready-for-pickup:email"} {
		if err := st.PutOutbox(ctx, postgres.OutboxMessage{Channel: "email", Recipient: "c@example.com", Subject: key, Body: "hi", NotificationKey: key}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := st.Outbox(ctx, 2)
	if err != nil || len(all) != 2 || all[0].NotificationKey != "A_1:notify:ready-for-pickup:email" || all[0].CreatedAt.IsZero() {
		t.Errorf("Outbox(2) = %+v, %v; want the two newest", all, err)
	}
	mine, err := st.OutboxFor(ctx, "A_1:")
	if err != nil || len(mine) != 2 || mine[0].Subject != "A_1:notify:ready-for-pickup:email" {
		t.Errorf("OutboxFor(A_1:) = %+v, %v; want the two messages of A_1, newest first, and not AB1's", mine, err)
	}
}

func TestWebhookEventOnce(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	for i, want := range []bool{true, false} {
		fresh, err := st.RecordWebhookEvent(t.Context(), "stripe", "evt_1")
		if err != nil || fresh != want {
			t.Errorf("call %d: fresh = %v, %v; want %v", i, fresh, err, want)
		}
	}
}
