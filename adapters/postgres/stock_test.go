package postgres_test

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

func TestReserve(t *testing.T) {
	t.Parallel()
	lines := []domain.Line{{SKU: "A", Quantity: 2}, {SKU: "B", Quantity: 1}}
	tests := []struct {
		name      string
		stock     map[string]map[string]int
		locations []string
		want      activities.Reservation
		after     map[string]map[string]int
	}{
		{
			name:      "first location has everything",
			stock:     map[string]map[string]int{"s1": {"A": 5, "B": 5}, "dc": {"A": 9, "B": 9}},
			locations: []string{"s1", "dc"},
			want:      activities.Reservation{LocationID: "s1"},
			after:     map[string]map[string]int{"s1": {"A": 3, "B": 4}, "dc": {"A": 9, "B": 9}},
		},
		{
			name:      "falls back to the second location",
			stock:     map[string]map[string]int{"s1": {"A": 5, "B": 0}, "dc": {"A": 2, "B": 1}},
			locations: []string{"s1", "dc"},
			want:      activities.Reservation{LocationID: "dc"},
			after:     map[string]map[string]int{"s1": {"A": 5, "B": 0}, "dc": {"A": 0, "B": 0}},
		},
		{
			name:      "short lines name the best single location",
			stock:     map[string]map[string]int{"s1": {"A": 1, "B": 0}, "dc": {"A": 0}},
			locations: []string{"s1", "dc"},
			want: activities.Reservation{Short: []activities.ShortLine{
				{SKU: "A", Requested: 2, Available: 1}, {SKU: "B", Requested: 1, Available: 0},
			}},
			after: map[string]map[string]int{"s1": {"A": 1, "B": 0}, "dc": {"A": 0}},
		},
		{
			name:      "split stock is short where the fewest lines are missing",
			stock:     map[string]map[string]int{"s1": {"A": 2, "B": 0}, "dc": {"A": 0, "B": 1}},
			locations: []string{"s1", "dc"},
			want:      activities.Reservation{Short: []activities.ShortLine{{SKU: "B", Requested: 1, Available: 0}}},
			after:     map[string]map[string]int{"s1": {"A": 2, "B": 0}, "dc": {"A": 0, "B": 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st, _ := newStore(t)
			for loc, skus := range tt.stock {
				for sku, q := range skus {
					setStock(t, st, loc, sku, q)
				}
			}
			got, err := st.Reserve(t.Context(), activities.ReserveRequest{OrderID: "o1", Locations: tt.locations, Lines: lines})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Reserve = %+v, want %+v", got, tt.want)
			}
			for loc, skus := range tt.after {
				for sku, q := range skus {
					if got := stockOf(t, st, loc, sku); got != q {
						t.Errorf("stock of %s at %s = %d, want %d", sku, loc, got, q)
					}
				}
			}
		})
	}
}

func TestReserveIsIdempotentPerOrder(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	setStock(t, st, "s1", "A", 3)
	setStock(t, st, "dc", "A", 10)
	req := activities.ReserveRequest{OrderID: "o1", Locations: []string{"s1", "dc"},
		Lines: []domain.Line{{SKU: "A", Quantity: 1}, {SKU: "A", Quantity: 1}}}
	for range 3 {
		got, err := st.Reserve(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		if got.LocationID != "s1" {
			t.Fatalf("Reserve = %+v, want s1", got)
		}
	}
	if got := stockOf(t, st, "s1", "A"); got != 1 {
		t.Errorf("stock after three reserves of 2 = %d, want 1 (taken once, duplicate SKU lines summed)", got)
	}
}

func TestReserveUnknownLocation(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	_, err := st.Reserve(t.Context(), activities.ReserveRequest{OrderID: "o1", Locations: []string{"s1", "nowhere"},
		Lines: []domain.Line{{SKU: "A", Quantity: 1}}})
	if !errors.Is(err, activities.ErrUnknownLocation) {
		t.Errorf("err = %v, want ErrUnknownLocation", err)
	}
}

func TestConcurrentReservationsNeverOversell(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	setStock(t, st, "s1", "A", 10)
	setStock(t, st, "s1", "B", 100)
	var reserved atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Go(func() {
			// Half the orders also take B, in the other SKU order, to provoke deadlocks.
			lines := []domain.Line{{SKU: "A", Quantity: 1}}
			if i%2 == 0 {
				lines = []domain.Line{{SKU: "B", Quantity: 1}, {SKU: "A", Quantity: 1}}
			}
			res, err := st.Reserve(t.Context(), activities.ReserveRequest{
				OrderID: fmt.Sprintf("o%d", i), Locations: []string{"s1"}, Lines: lines})
			if err != nil {
				errs <- err
				return
			}
			if res.LocationID == "s1" {
				reserved.Add(1)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := reserved.Load(); got != 10 {
		t.Errorf("%d orders reserved, want exactly 10", got)
	}
	if got := stockOf(t, st, "s1", "A"); got != 0 {
		t.Errorf("stock of A = %d, want 0", got)
	}
}

func TestReleaseTakesAbsoluteTargets(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	setStock(t, st, "s1", "A", 5)
	setStock(t, st, "s1", "B", 5)
	if _, err := st.Reserve(t.Context(), activities.ReserveRequest{OrderID: "o1", Locations: []string{"s1"},
		Lines: []domain.Line{{SKU: "A", Quantity: 3}, {SKU: "B", Quantity: 2}}}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name  string
		lines []domain.PickedLine
		wantA int
		wantB int
	}{
		{name: "release 1 of A", lines: []domain.PickedLine{{SKU: "A", Quantity: 1}}, wantA: 3, wantB: 3},
		{name: "the same target again", lines: []domain.PickedLine{{SKU: "A", Quantity: 1}}, wantA: 3, wantB: 3},
		{name: "a lower target returns nothing", lines: []domain.PickedLine{{SKU: "A", Quantity: 0}}, wantA: 3, wantB: 3},
		{name: "target above reserved is capped", lines: []domain.PickedLine{{SKU: "A", Quantity: 7}}, wantA: 5, wantB: 3},
		{name: "nil releases the rest", lines: nil, wantA: 5, wantB: 5},
		{name: "nil again changes nothing", lines: nil, wantA: 5, wantB: 5},
	}
	for _, s := range steps {
		if err := st.Release(t.Context(), "o1", s.lines); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if a, b := stockOf(t, st, "s1", "A"), stockOf(t, st, "s1", "B"); a != s.wantA || b != s.wantB {
			t.Errorf("%s: stock A=%d B=%d, want A=%d B=%d", s.name, a, b, s.wantA, s.wantB)
		}
	}
	if err := st.Release(t.Context(), "unknown", nil); err != nil {
		t.Errorf("release of an unknown order: %v, want nil", err)
	}
}

func TestConsumeKeepsStockTaken(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	setStock(t, st, "s1", "A", 5)
	if _, err := st.Reserve(t.Context(), activities.ReserveRequest{OrderID: "o1", Locations: []string{"s1"},
		Lines: []domain.Line{{SKU: "A", Quantity: 3}}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Release(t.Context(), "o1", []domain.PickedLine{{SKU: "A", Quantity: 1}}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := st.Consume(t.Context(), "o1"); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Release(t.Context(), "o1", nil); err != nil {
		t.Fatal(err)
	}
	if got := stockOf(t, st, "s1", "A"); got != 3 {
		t.Errorf("stock = %d, want 3 (5 - 3 reserved + 1 released; consumed stays sold)", got)
	}
	if err := st.Consume(t.Context(), "unknown"); err != nil {
		t.Errorf("consume of an unknown order: %v, want nil", err)
	}
}
