package main

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
)

// checkCaptures: the payment of every paid order was captured exactly once, for
// the order's total, and nothing else was captured; the sandbox ledger (what the
// "provider" did) and the status query (what the workflow believes) agree.
func checkCaptures(f *facts, orders []*orderRun) result {
	r := result{name: "exactly one capture per paid order (sandbox ledger)"}
	if f.ledgerErr != nil {
		r.violate("the sandbox payment ledger cannot be read: %v", f.ledgerErr)
		return r
	}
	byPayment := map[string][]captureRow{}
	for _, c := range f.captures {
		byPayment[c.PaymentID] = append(byPayment[c.PaymentID], c)
	}
	known := map[string]bool{}
	for _, o := range orders {
		r.checked++
		p := o.plan
		known[p.PaymentID] = true
		want, _, _, _ := o.snapshot()
		caps := byPayment[p.PaymentID]
		var amount int64
		for _, c := range caps {
			amount += c.Amount
		}
		wantCaptures, wantAmount := 0, int64(0)
		if want.Paid {
			wantCaptures, wantAmount = 1, p.total()
		}
		if len(caps) != wantCaptures || amount != wantAmount || f.payments[p.PaymentID].Captured != wantAmount {
			r.violate("%s: %d capture(s) of %d in the ledger (payment total %d), want %d of %d",
				who(o), len(caps), amount, f.payments[p.PaymentID].Captured, wantCaptures, wantAmount)
		}
		if q := f.workflows[p.ID].query; q != nil && q.Captured != wantAmount {
			r.violate("%s: the workflow says %d captured, want %d", who(o), q.Captured, wantAmount)
		}
	}
	for id, caps := range byPayment {
		if !known[id] {
			r.violate("payment %s of no order of the run was captured %d time(s)", id, len(caps))
		}
	}
	return r
}

// checkRefunds: every order was refunded exactly as due, once per reason: a short
// pick the missing lines, a cancellation or an expired pickup the rest, a
// completed order nothing.
func checkRefunds(f *facts, orders []*orderRun) result {
	r := result{name: "refunds exactly as due (sandbox ledger)"}
	if f.ledgerErr != nil {
		r.violate("the sandbox payment ledger cannot be read: %v", f.ledgerErr)
		return r
	}
	byPayment := map[string][]refundRow{}
	for _, rf := range f.refunds {
		byPayment[rf.PaymentID] = append(byPayment[rf.PaymentID], rf)
	}
	for _, o := range orders {
		r.checked++
		p := o.plan
		want, _, _, _ := o.snapshot()
		got := map[string]int64{}
		var sum int64
		for _, rf := range byPayment[p.PaymentID] {
			reason := strings.TrimPrefix(rf.Key, p.ID+":refund:")
			got[reason] += rf.Amount
			sum += rf.Amount
		}
		var due int64
		for _, a := range want.Refunds {
			due += a
		}
		if !sameAmounts(got, want.Refunds) || f.payments[p.PaymentID].Refunded != due {
			r.violate("%s (stage %s): refunded %s (payment total %d), want %s",
				who(o), f.projection[p.ID].Stage, amounts(got), f.payments[p.PaymentID].Refunded, amounts(want.Refunds))
		}
		if q := f.workflows[p.ID].query; q != nil && q.Refunded != due {
			r.violate("%s: the workflow says %d refunded, want %d", who(o), q.Refunded, due)
		}
	}
	return r
}

// checkLabels: every shipment has one label, bought once and recorded with the
// order; no order has a label it does not need, and a label bought for a key is
// the one the order's shipment names.
func checkLabels(f *facts, orders []*orderRun) result {
	r := result{name: "one label per shipment, none unneeded (shipments, carrier_purchases, sandbox ledger)"}
	if f.ledgerErr != nil {
		r.violate("the sandbox label ledger cannot be read: %v", f.ledgerErr)
		return r
	}
	ledger := map[string]string{} // idempotency key → shipment ID
	for _, l := range f.labels {
		ledger[l.Key] = l.ShipmentID
	}
	recorded := map[string]string{} // "<order>:label:<purpose>" → shipment ID
	for _, s := range f.shipments {
		recorded[s.OrderID+":label:"+s.Purpose] = s.ShipmentID
	}
	purchases := map[string]string{}
	for _, p := range f.purchases {
		purchases[p.Key] = p.ShipmentID
	}
	for _, o := range orders {
		r.checked++
		want, _, _, _ := o.snapshot()
		var bought []string
		for key := range ledger {
			if purpose, ok := strings.CutPrefix(key, o.plan.ID+":label:"); ok {
				bought = append(bought, purpose)
			}
		}
		sort.Strings(bought)
		wantLabels := slices.Sorted(slices.Values(want.Labels))
		if !slices.Equal(bought, wantLabels) {
			r.violate("%s (stage %s): labels bought for %v, want %v", who(o), f.projection[o.plan.ID].Stage, bought, wantLabels)
		}
		for _, purpose := range bought {
			key := o.plan.ID + ":label:" + purpose
			if rec, ok := recorded[key]; !ok || rec != ledger[key] {
				r.violate("%s: label %s (shipment %s) recorded with the order as %q", who(o), key, ledger[key], rec)
			}
			if pur, ok := purchases[key]; ok && pur != ledger[key] {
				r.violate("%s: carrier purchase %s is shipment %s, the label is %s", who(o), key, pur, ledger[key])
			}
		}
	}
	return r
}

// sameAmounts reports whether two reason → amount maps are equal (zero amounts
// count as absent).
func sameAmounts(a, b map[string]int64) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

// amounts formats reason → amount as "{cancel: 249.00}".
func amounts(m map[string]int64) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d.%02d", k, m[k]/100, m[k]%100)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
