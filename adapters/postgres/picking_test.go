package postgres_test

import (
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

func TestPickTaskOncePerOrder(t *testing.T) {
	t.Parallel()
	st, pool := newStore(t)
	ctx := t.Context()
	due := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	task := activities.PickTask{OrderID: "A-1", LocationID: "s1", Lines: []domain.Line{{SKU: "A", Quantity: 2}}, DueAt: due}
	for range 2 {
		if err := st.CreatePickTask(ctx, task); err != nil {
			t.Fatal(err)
		}
	}
	first := activities.PickResult{OrderID: "A-1", Picked: []domain.PickedLine{{SKU: "A", Quantity: 1}}, By: "anna", At: due}
	second := activities.PickResult{OrderID: "A-1", Picked: []domain.PickedLine{{SKU: "A", Quantity: 2}}, By: "ben", At: due.Add(time.Hour)}
	for _, res := range []activities.PickResult{first, first, second} {
		if err := st.CompletePickTask(ctx, res); err != nil {
			t.Fatal(err)
		}
	}
	var status, by string
	var picked []domain.PickedLine
	if err := pool.QueryRow(ctx, `select status, picked_by, picked from pick_tasks where order_id = 'A-1'`).Scan(&status, &by, &picked); err != nil {
		t.Fatal(err)
	}
	if status != "done" || by != "anna" || len(picked) != 1 || picked[0].Quantity != 1 {
		t.Errorf("pick task = %s by %s %+v, want done by anna with 1 picked (first completion wins)", status, by, picked)
	}
	if err := st.CompletePickTask(ctx, activities.PickResult{OrderID: "none"}); !errorsIs(err, activities.ErrNotFound) {
		t.Errorf("complete unknown task: %v, want ErrNotFound", err)
	}
	if err := st.CreatePickTask(ctx, activities.PickTask{OrderID: "A-2", LocationID: "nowhere", DueAt: due}); !errorsIs(err, activities.ErrUnknownLocation) {
		t.Errorf("task at unknown location: %v, want ErrUnknownLocation", err)
	}
}
