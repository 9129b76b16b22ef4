// Package alarms is the alarm bell (docs/alarms.md): it compares each store's
// recent journey KPIs with the store's own baseline and opens an alarm episode
// when one shifts for real, resolves it when the KPI returns, and tells people
// by webhook and email.
package alarms

// Kind says how a signal is read from the hourly KPI values and tested.
type Kind int

const (
	// KindCount is a count of events per hour (orders placed), tested against
	// the store's own seasonal profile (weekday and hour) as a Poisson count.
	KindCount Kind = iota
	// KindRate is events out of a volume (declined out of attempted payments),
	// tested as a count against the baseline rate times the window's volume.
	KindRate
	// KindDuration is a median duration (time to pick), tested against the
	// median and spread of the store's daily values.
	KindDuration
)

// Direction is the way a signal moves when something is wrong.
type Direction string

const (
	Up   Direction = "up"
	Down Direction = "down"
)

// Signal is one thing the alarm bell watches for every store.
type Signal struct {
	// Name names the alarm (records.Alarm.Signal).
	Name string
	// KPI is the KPI it is read from and shown with (docs/kpis.md).
	KPI  string
	Kind Kind
	// Num and Den are count KPIs summed into the events and, for a rate, its
	// volume. A rate with neither reads the numerator and denominator of KPI.
	Num, Den []string
	// Complement counts the denominator's other part (late = all − on time).
	Complement bool
	Direction  Direction
	// MinRatio is the least shift that rings: observed/expected at least this
	// (up), at most 1/MinRatio (down).
	MinRatio float64
	// MinEvents is the least number of events (up: observed; down: expected;
	// durations: samples) in the window for it to ring: three orders ring no bell.
	MinEvents float64
	// MinVolume is the least denominator of a rate in the window.
	MinVolume float64
}

// Signals are what the alarm bell watches (docs/alarms.md has the table).
func Signals() []Signal {
	emailAll := []string{"messages_sent_email", "messages_failed_email", "messages_undeliverable_email", "messages_unconfirmed_email"}
	smsAll := []string{"messages_sent_sms", "messages_failed_sms", "messages_undeliverable_sms", "messages_unconfirmed_sms"}
	pushAll := []string{"messages_sent_push", "messages_failed_push", "messages_undeliverable_push", "messages_unconfirmed_push"}
	return []Signal{
		{Name: "orders_drop", KPI: "orders_placed", Kind: KindCount, Num: []string{"orders_placed"}, Direction: Down, MinRatio: 2, MinEvents: 40},
		{Name: "orders_surge", KPI: "orders_placed", Kind: KindCount, Num: []string{"orders_placed"}, Direction: Up, MinRatio: 2, MinEvents: 40},
		{Name: "payment_declines", KPI: "payment_decline_rate", Kind: KindRate, Direction: Up, MinRatio: 1.5, MinEvents: 10, MinVolume: 50},
		{Name: "pickup_expiries", KPI: "pickup_expiry_rate", Kind: KindRate, Direction: Up, MinRatio: 1.5, MinEvents: 8, MinVolume: 40},
		{Name: "late_ready", KPI: "ready_on_time_rate", Kind: KindRate, Complement: true, Direction: Up, MinRatio: 1.5, MinEvents: 10, MinVolume: 50},
		{Name: "late_transfers", KPI: "late_transfer_rate", Kind: KindRate, Direction: Up, MinRatio: 1.5, MinEvents: 8, MinVolume: 30},
		{Name: "picking_sla_misses", KPI: "picking_sla_miss_rate", Kind: KindRate, Direction: Up, MinRatio: 1.5, MinEvents: 10, MinVolume: 50},
		{Name: "short_picks", KPI: "short_pick_rate", Kind: KindRate, Direction: Up, MinRatio: 2, MinEvents: 8, MinVolume: 50},
		{Name: "cancellations", KPI: "cancellation_rate", Kind: KindRate, Direction: Up, MinRatio: 1.5, MinEvents: 10, MinVolume: 50},
		{Name: "email_bounces", KPI: "messages_bounced_email", Kind: KindRate, Num: []string{"messages_bounced_email"}, Den: []string{"messages_sent_email"}, Direction: Up, MinRatio: 1.5, MinEvents: 10, MinVolume: 100},
		{Name: "email_failures", KPI: "messages_failed_email", Kind: KindRate, Num: []string{"messages_failed_email", "messages_undeliverable_email"}, Den: emailAll, Direction: Up, MinRatio: 2, MinEvents: 10, MinVolume: 100},
		{Name: "sms_failures", KPI: "messages_failed_sms", Kind: KindRate, Num: []string{"messages_failed_sms", "messages_undeliverable_sms", "messages_bounced_sms"}, Den: smsAll, Direction: Up, MinRatio: 2, MinEvents: 10, MinVolume: 100},
		{Name: "push_failures", KPI: "messages_failed_push", Kind: KindRate, Num: []string{"messages_failed_push", "messages_undeliverable_push"}, Den: pushAll, Direction: Up, MinRatio: 2, MinEvents: 10, MinVolume: 100},
		{Name: "slow_picking", KPI: "time_to_pick_p50", Kind: KindDuration, Num: []string{"time_to_pick_p50"}, Direction: Up, MinRatio: 1.5, MinEvents: 30},
		{Name: "slow_transfers", KPI: "transfer_time_p50", Kind: KindDuration, Num: []string{"transfer_time_p50"}, Direction: Up, MinRatio: 1.5, MinEvents: 20},
		{Name: "slow_pickups", KPI: "time_to_pickup_p50", Kind: KindDuration, Num: []string{"time_to_pickup_p50"}, Direction: Up, MinRatio: 1.5, MinEvents: 30},
		{Name: "slow_deliveries", KPI: "delivery_time_p50", Kind: KindDuration, Num: []string{"delivery_time_p50"}, Direction: Up, MinRatio: 1.5, MinEvents: 20},
	}
}

// KPIs lists every KPI the signals read.
func KPIs(signals []Signal) []string {
	seen := map[string]bool{}
	var out []string
	add := func(names ...string) {
		for _, n := range names {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	for _, s := range signals {
		if s.Kind == KindRate && len(s.Num) == 0 {
			add(s.KPI)
		}
		add(s.Num...)
		add(s.Den...)
	}
	return out
}
