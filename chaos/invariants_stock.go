package main

import (
	"cmp"
	"maps"
	"slices"
)

// checkStock: for every (location, SKU), the stock now is the stock before the
// first order minus what was sold: the picked lines of the orders that were
// handed over or delivered, at the location that picked them. Cancelled,
// declined, rejected and expired orders sold nothing.
func checkStock(f *facts, orders []*orderRun) result {
	r := result{name: "stock = initial − sold per (location, SKU)"}
	sold := map[stockKey]int{}
	for _, o := range orders {
		want, loc, _, _ := o.snapshot()
		if !want.Sold {
			continue
		}
		if loc == "" {
			loc = o.plan.Location
		}
		for _, l := range o.plan.Picked {
			sold[stockKey{loc, l.SKU}] += l.Quantity
		}
	}
	keys := map[stockKey]bool{}
	for k := range f.initialStock {
		keys[k] = true
	}
	for k := range f.stock {
		keys[k] = true
	}
	for _, k := range slices.SortedFunc(maps.Keys(keys), compareStockKeys) {
		r.checked++
		want := f.initialStock[k] - sold[k]
		if got := f.stock[k]; got != want {
			r.violate("%s at %s: %d on hand, want %d (initial %d − sold %d): %+d",
				k.sku, k.location, got, want, f.initialStock[k], sold[k], got-want)
		}
	}
	return r
}

// checkPickTasks: no pick task is still open once every order has ended.
func checkPickTasks(f *facts, orders []*orderRun) result {
	r := result{name: "no open pick task (pick_tasks.status = 'open')"}
	kinds := kindsByID(orders)
	for _, t := range f.pickTasks {
		r.checked++
		if t.Status == "open" {
			r.violate("%s (%s): pick task at %s still open, order at stage %s", t.OrderID, kinds[t.OrderID], t.LocationID, f.projection[t.OrderID].Stage)
		}
	}
	return r
}

// checkReservations: no finished order still holds stock (quantity not released
// and not consumed).
func checkReservations(f *facts, orders []*orderRun) result {
	r := result{name: "no reservation held by a finished order"}
	kinds := kindsByID(orders)
	for _, res := range f.reservations {
		r.checked++
		if held := res.Quantity - res.Released - res.Consumed; held > 0 {
			r.violate("%s (%s): holds %d × %s at %s (reserved %d, released %d, consumed %d), order at stage %s",
				res.OrderID, kinds[res.OrderID], held, res.SKU, res.LocationID, res.Quantity, res.Released, res.Consumed,
				f.projection[res.OrderID].Stage)
		}
	}
	return r
}

func kindsByID(orders []*orderRun) map[string]kind {
	out := make(map[string]kind, len(orders))
	for _, o := range orders {
		out[o.plan.ID] = o.plan.Kind
	}
	return out
}

func compareStockKeys(a, b stockKey) int {
	return cmp.Or(cmp.Compare(a.location, b.location), cmp.Compare(a.sku, b.sku))
}
