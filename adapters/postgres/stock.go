package postgres

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/jackc/pgx/v5"
)

// Reserve takes stock for every line at the first of req.Locations that has all of
// it, in one transaction. A repeated call for an order that already holds a
// reservation returns that reservation's location and changes nothing.
//
// Concurrent orders cannot oversell: the candidate stock rows are locked (in one
// global order, location then SKU, so two reservations never deadlock) before they
// are checked and decremented, and the quantity >= 0 constraint backs this up.
// Concurrent calls for the same order are serialised by an advisory lock on the
// order ID.
//
// When no location has every line, nothing changes and Short lists each SKU that
// even the best single candidate lacks (Available = that best quantity). If every
// SKU is available somewhere but no location has them all, Short lists what the
// candidate with the fewest gaps lacks, so a failed reservation never comes back
// with an empty Short.
func (s *Store) Reserve(ctx context.Context, req activities.ReserveRequest) (activities.Reservation, error) {
	skus, want, err := reserveWants(req)
	if err != nil {
		return activities.Reservation{}, err
	}
	var res activities.Reservation
	// Five round trips (begin; the order's lock with what is known; the stock rows
	// locked; the stock taken with the reservation; commit), two of them while
	// the stock rows, which every order of the same articles wants, are locked.
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(`select pg_advisory_xact_lock(hashtextextended('reserve:' || $1, 0))`, req.OrderID)
		var existing *string
		var known []string
		b.Queue(`select (select location_id from reservations where order_id = $1 limit 1),
				array(select id from stores where id = any($2))`, req.OrderID, req.Locations).
			QueryRow(func(row pgx.Row) error { return row.Scan(&existing, &known) })
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("lock order and read reservation: %w", err)
		}
		if existing != nil {
			res = activities.Reservation{LocationID: *existing}
			return nil
		}
		if err := checkLocations(known, req.Locations); err != nil {
			return err
		}
		have, err := lockStock(ctx, tx, req.Locations, skus)
		if err != nil {
			return err
		}
		loc, short := activities.ChooseLocation(req.Locations, skus, want, func(loc, sku string) int { return have[loc][sku] })
		if loc == "" {
			res = activities.Reservation{Short: short}
			return nil
		}
		qty := make([]int32, len(skus))
		for i, sku := range skus {
			qty[i] = int32(want[sku])
		}
		b = &pgx.Batch{}
		b.Queue(`
			update stock set quantity = stock.quantity - r.qty
			from unnest($2::text[], $3::int[]) as r(sku, qty)
			where stock.location_id = $1 and stock.sku = r.sku`, loc, skus, qty)
		b.Queue(`
			insert into reservations (order_id, location_id, sku, quantity)
			select $1, $2, r.sku, r.qty from unnest($3::text[], $4::int[]) as r(sku, qty)`,
			req.OrderID, loc, skus, qty)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("take stock at %s: %w", loc, err)
		}
		res = activities.Reservation{LocationID: loc}
		return nil
	})
	if err != nil {
		return activities.Reservation{}, fmt.Errorf("reserve order %s: %w", req.OrderID, err)
	}
	return res, nil
}

// reserveWants validates req and sums its lines per SKU; skus come back sorted.
func reserveWants(req activities.ReserveRequest) ([]string, map[string]int, error) {
	if req.OrderID == "" || len(req.Locations) == 0 || len(req.Lines) == 0 {
		return nil, nil, fmt.Errorf("reserve order %q: order, locations and lines are required: %w", req.OrderID, activities.ErrInvalidRequest)
	}
	want := map[string]int{}
	for _, l := range req.Lines {
		if l.SKU == "" || l.Quantity <= 0 {
			return nil, nil, fmt.Errorf("reserve order %s: line %q quantity %d: %w", req.OrderID, l.SKU, l.Quantity, activities.ErrInvalidRequest)
		}
		want[l.SKU] += l.Quantity
	}
	skus := make([]string, 0, len(want))
	for sku := range want {
		skus = append(skus, sku)
	}
	sort.Strings(skus)
	return skus, want, nil
}

// checkLocations returns an error wrapping ErrUnknownLocation naming the first
// candidate of ids that is not among known (the ones in stores).
func checkLocations(known, ids []string) error {
	seen := map[string]bool{}
	for _, id := range known {
		seen[id] = true
	}
	for _, id := range ids {
		if !seen[id] {
			return fmt.Errorf("location %q: %w", id, activities.ErrUnknownLocation)
		}
	}
	return nil
}

// lockStock locks and reads the stock rows of the candidates for skus. A missing
// row is no stock.
func lockStock(ctx context.Context, tx pgx.Tx, locations, skus []string) (map[string]map[string]int, error) {
	rows, err := tx.Query(ctx, `
		select location_id, sku, quantity from stock
		where location_id = any($1) and sku = any($2)
		order by location_id, sku
		for update`, locations, skus)
	if err != nil {
		return nil, fmt.Errorf("lock stock: %w", err)
	}
	have := map[string]map[string]int{}
	var loc, sku string
	var qty int
	_, err = pgx.ForEachRow(rows, []any{&loc, &sku, &qty}, func() error {
		if have[loc] == nil {
			have[loc] = map[string]int{}
		}
		have[loc][sku] = qty
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("lock stock: %w", err)
	}
	return have, nil
}

// Release returns reserved stock to its location. Lines are absolute targets per
// SKU of the quantity released for the order (summed when a SKU repeats, capped at
// what is reserved and not consumed), so repeating a call changes nothing; stock
// grows by the difference to what was released before, never shrinks. Nil lines
// release everything not consumed. An order without reservations is a no-op.
func (s *Store) Release(ctx context.Context, orderID string, lines []domain.PickedLine) error {
	var targets map[string]int
	if lines != nil {
		targets = map[string]int{}
		for _, l := range lines {
			targets[l.SKU] += max(l.Quantity, 0)
		}
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			select sku, location_id, quantity, released, consumed from reservations
			where order_id = $1 order by sku for update`, orderID)
		if err != nil {
			return fmt.Errorf("lock reservations: %w", err)
		}
		type held struct {
			SKU                          string
			LocationID                   string
			Quantity, Released, Consumed int
		}
		res, err := pgx.CollectRows(rows, pgx.RowToStructByPos[held])
		if err != nil {
			return fmt.Errorf("lock reservations: %w", err)
		}
		for _, r := range res {
			target := r.Quantity - r.Consumed
			if targets != nil {
				t, ok := targets[r.SKU]
				if !ok {
					continue
				}
				target = min(t, target)
			}
			delta := target - r.Released
			if delta <= 0 {
				continue
			}
			if _, err := tx.Exec(ctx, `update reservations set released = $3 where order_id = $1 and sku = $2`,
				orderID, r.SKU, target); err != nil {
				return fmt.Errorf("release %s: %w", r.SKU, err)
			}
			if _, err := tx.Exec(ctx, `
				insert into stock (location_id, sku, quantity) values ($1, $2, $3)
				on conflict (location_id, sku) do update set quantity = stock.quantity + excluded.quantity`,
				r.LocationID, r.SKU, delta); err != nil {
				return fmt.Errorf("return %s to %s: %w", r.SKU, r.LocationID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("release order %s: %w", orderID, err)
	}
	return nil
}

// Consume marks what the order still holds as sold: stock stays taken and a later
// Release returns nothing of it. Repeating it, or consuming an order without
// reservations, changes nothing.
func (s *Store) Consume(ctx context.Context, orderID string) error {
	_, err := s.pool.Exec(ctx, `update reservations set consumed = quantity - released
		where order_id = $1 and consumed <> quantity - released`, orderID)
	if err != nil {
		return fmt.Errorf("consume order %s: %w", orderID, err)
	}
	return nil
}

// SetStock sets the quantity on hand of a SKU at a location, as an inventory feed
// or the demo would. It returns an error wrapping ErrUnknownLocation for a
// location that does not exist.
func (s *Store) SetStock(ctx context.Context, locationID, sku string, quantity int) error {
	if sku == "" || quantity < 0 {
		return fmt.Errorf("set stock of %q at %s to %d: %w", sku, locationID, quantity, activities.ErrInvalidRequest)
	}
	_, err := s.pool.Exec(ctx, `
		insert into stock (location_id, sku, quantity) values ($1, $2, $3)
		on conflict (location_id, sku) do update set quantity = excluded.quantity`, locationID, sku, quantity)
	if isForeignKeyViolation(err) {
		return fmt.Errorf("set stock at %q: %w", locationID, activities.ErrUnknownLocation)
	}
	if err != nil {
		return fmt.Errorf("set stock of %s at %s: %w", sku, locationID, err)
	}
	return nil
}

// StockQuantity is the quantity on hand (reservations already taken off) of a SKU
// at a location; a SKU never stocked there has 0.
func (s *Store) StockQuantity(ctx context.Context, locationID, sku string) (int, error) {
	var qty int
	err := s.pool.QueryRow(ctx, `select quantity from stock where location_id = $1 and sku = $2`, locationID, sku).Scan(&qty)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read stock of %s at %s: %w", sku, locationID, err)
	}
	return qty, nil
}
