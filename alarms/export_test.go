package alarms

import (
	"time"

	"github.com/everywherecommerce/fulfilment/starter/api/records"
)

// SimShift, SimStart and Simulate let the PostgreSQL tests (package
// alarms_test) use the simulated month of sim_test.go.
type SimShift struct {
	Store, What string
	From, To    int
	Factor      float64
}

var SimStart = simStart

// Simulate is simulate over simStores, returning the data and its values.
func Simulate(seed uint64, start time.Time, days int, shifts []SimShift) (*Data, []records.KPIValue) {
	var sh []simShift
	for _, s := range shifts {
		sh = append(sh, simShift{store: s.Store, what: s.What, from: s.From, to: s.To, factor: s.Factor})
	}
	vals := simulateValues(seed, start, days, simStores(), sh)
	d := NewData(start, days*24)
	for _, v := range vals {
		d.Add(v)
	}
	return d, vals
}
