package postgres_test

import (
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

func TestListOrdersFiltersAndPagesNewestFirst(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	// O-2 and O-3 are placed in the same microsecond: order_id breaks the tie.
	for _, o := range []struct {
		id, customer, store, location, stage string
		placed                               time.Duration
		attention                            bool
	}{
		{"O-1", "c1", "s1", "s1", "picking", 0, false},
		{"O-2", "c2", "", "dc", "shipped", time.Minute, true},
		{"O-3", "c1", "s2", "dc", "in_transit_to_store", time.Minute, false},
		{"O-4", "c3", "s1", "dc", "ready_for_pickup", 2 * time.Minute, true},
		{"O-5", "c1", "s2", "s2", "picking", 3 * time.Minute, false},
	} {
		method := domain.MethodShipToStore
		if o.store == "" {
			method = domain.MethodHomeDelivery
		}
		sum := activities.OrderSummary{OrderID: o.id, CustomerID: o.customer, Method: method, StoreID: o.store,
			LocationID: o.location, Total: 100, Currency: "EUR", PlacedAt: t0.Add(o.placed)}
		if err := st.RecordStage(t.Context(), activities.StageChange{Order: sum, Stage: domain.Stage(o.stage), At: t0.Add(o.placed + time.Second)}); err != nil {
			t.Fatal(err)
		}
		if o.attention {
			if err := st.RecordEntry(t.Context(), activities.JourneyEntry{OrderID: o.id, Kind: activities.EntryAttention,
				Key: "attention:1", Detail: "picking SLA passed", At: t0.Add(o.placed + 2*time.Second)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	yes, no := true, false
	for _, tc := range []struct {
		name   string
		filter records.OrderFilter
		want   []string
	}{
		{"all", records.OrderFilter{}, []string{"O-5", "O-4", "O-3", "O-2", "O-1"}},
		{"stage", records.OrderFilter{Stage: "picking"}, []string{"O-5", "O-1"}},
		{"store is the pickup store or the fulfilling location", records.OrderFilter{StoreID: "dc"}, []string{"O-4", "O-3", "O-2"}},
		{"store s1", records.OrderFilter{StoreID: "s1"}, []string{"O-4", "O-1"}},
		{"customer", records.OrderFilter{CustomerID: "c1"}, []string{"O-5", "O-3", "O-1"}},
		{"needs attention", records.OrderFilter{NeedsAttention: &yes}, []string{"O-4", "O-2"}},
		{"needs no attention", records.OrderFilter{NeedsAttention: &no}, []string{"O-5", "O-3", "O-1"}},
		{"combined", records.OrderFilter{StoreID: "dc", CustomerID: "c1", Stage: "in_transit_to_store", NeedsAttention: &no}, []string{"O-3"}},
		{"nothing", records.OrderFilter{StoreID: "s1", Stage: "shipped"}, nil},
		{"after a tie", records.OrderFilter{After: &records.OrderCursor{PlacedAt: t0.Add(time.Minute), OrderID: "O-3"}}, []string{"O-2", "O-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.filter.Limit = 10
			rows, err := st.ListOrders(t.Context(), tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			if got := orderIDs(rows); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("orders = %v, want %v", got, tc.want)
			}
		})
	}

	// Pages of two follow each other without gaps or repeats.
	var seen []string
	f := records.OrderFilter{Limit: 2}
	for page := 0; page < 5; page++ {
		rows, err := st.ListOrders(t.Context(), f)
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, orderIDs(rows)...)
		if len(rows) < 2 {
			break
		}
		last := rows[len(rows)-1]
		f.After = &records.OrderCursor{PlacedAt: last.PlacedAt, OrderID: last.OrderID}
	}
	if want := []string{"O-5", "O-4", "O-3", "O-2", "O-1"}; !reflect.DeepEqual(seen, want) {
		t.Errorf("paged = %v, want %v", seen, want)
	}
	rows, err := st.ListOrders(t.Context(), records.OrderFilter{Limit: 1, CustomerID: "c3"})
	if err != nil || len(rows) != 1 {
		t.Fatalf("rows %v, %v", rows, err)
	}
	if r := rows[0]; r.Method != domain.MethodShipToStore || r.StoreID != "s1" || r.LocationID != "dc" || r.Stage != "ready_for_pickup" ||
		!r.NeedsAttention || r.Total != 100 || !r.PlacedAt.Equal(t0.Add(2*time.Minute)) || !r.UpdatedAt.Equal(t0.Add(2*time.Minute+time.Second)) {
		t.Errorf("row = %+v", r)
	}
}

func orderIDs(rows []records.OrderRow) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.OrderID)
	}
	return out
}

func TestClaimPickupAttemptLimitsATokenAcrossOrders(t *testing.T) {
	t.Parallel()
	st, pool := newStore(t)
	ctx := t.Context()
	claim := func(token, order string, window time.Duration) (int64, time.Duration) {
		t.Helper()
		id, wait, err := st.ClaimPickupAttempt(ctx, token, order, 3, window)
		if err != nil {
			t.Fatal(err)
		}
		return id, wait
	}
	first, _ := claim("tok-a", "O-1", time.Hour)
	claim("tok-a", "O-2", time.Hour)
	claim("tok-a", "O-3", time.Hour)
	if id, wait := claim("tok-a", "O-4", time.Hour); id != 0 || wait < 59*time.Minute || wait > time.Hour {
		t.Errorf("fourth claim = %d, wait %v; want none and about an hour", id, wait)
	}
	if id, _ := claim("tok-b", "O-4", time.Hour); id == 0 {
		t.Error("another token is throttled by the first one's attempts")
	}
	var rows int
	if err := pool.QueryRow(ctx, `select count(*) from pickup_token_attempts where order_id = 'O-4'`).Scan(&rows); err != nil || rows != 1 {
		t.Errorf("O-4 attempts = %d, %v; want 1 (the refused claim records nothing)", rows, err)
	}
	// A released claim (a right code) gives the allowance back; releasing twice is harmless.
	for range 2 {
		if err := st.ReleasePickupAttempt(ctx, first); err != nil {
			t.Fatal(err)
		}
	}
	if id, _ := claim("tok-a", "O-4", time.Hour); id == 0 {
		t.Error("no claim after a release")
	}

	// Concurrent claims of one token never exceed the limit.
	var wg sync.WaitGroup
	var mu sync.Mutex
	granted := 0
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, _, err := st.ClaimPickupAttempt(ctx, "tok-c", "O-9", 3, time.Hour)
			if err != nil {
				t.Error(err)
				return
			}
			if id != 0 {
				mu.Lock()
				granted++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if granted != 3 {
		t.Errorf("concurrent claims granted = %d, want 3", granted)
	}

	// Claims leave the window: poll until a throttled token may try again.
	for range 3 {
		claim("tok-d", "O-1", 300*time.Millisecond)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		id, wait := claim("tok-d", "O-1", 300*time.Millisecond)
		if id != 0 {
			break
		}
		if wait > 300*time.Millisecond || time.Now().After(deadline) {
			t.Fatalf("still throttled, wait %v", wait)
		}
		time.Sleep(wait)
	}
}
