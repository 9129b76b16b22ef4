package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/everywherecommerce/fulfilment/starter/api/records"
	"github.com/jackc/pgx/v5"
)

// kpiFacts lists one row per counted record: the KPI it counts towards, its kind
// (count, rate, duration or age), the store and method, when it happened, and
// for a rate its numerator and denominator, for a duration or an age its
// seconds. docs/kpis.md defines each KPI by the branch here that produces it.
//
// $3 is the run's time: the snapshot KPIs (orders needing attention now) count
// at it. o, j and pt are NOT MATERIALIZED so that kpiCompute's "at >= window
// start" reaches every branch's own table and its index (migration 015); the
// other entries a branch joins (a duration's start, an existence check) are
// found by order, whatever their age.
const kpiFacts = `
with o as not materialized (
	select order_id, customer_id, method, coalesce(nullif(store_id, ''), location_id) as store, placed_at, promised_ready_at, needs_attention
	from orders
), j as not materialized (
	select order_id, stage, actor, at from order_journey where kind = 'stage'
), pt as not materialized (
	select order_id, location_id, created_at, picked_at, due_at,
		-- every SKU of the order gets a picked quantity of at most the ordered
		-- one (validateCompletePick), so fewer units in total is a short pick
		picked is not null and (select coalesce(sum((l->>'quantity')::int), 0) from jsonb_array_elements(case when jsonb_typeof(picked) = 'array' then picked else '[]' end) l)
			< (select coalesce(sum((l->>'quantity')::int), 0) from jsonb_array_elements(case when jsonb_typeof(lines) = 'array' then lines else '[]' end) l) as short
	from pick_tasks where status = 'done' and picked_at is not null
), facts (kpi, kind, store, method, at, num, den, secs) as (
	select 'orders_placed', 'count', o.store, o.method, o.placed_at, null::float8, null::float8, null::float8 from o
	union all
	select 'payment_decline_rate', 'rate', o.store, o.method, j.at, (j.stage = 'payment_failed')::int, 1, null
	from j join o using (order_id) where j.stage in ('payment_captured', 'payment_failed')
	union all
	select 'cancellations', 'count', o.store, o.method, j.at, null, null, null
	from j join o using (order_id) where j.stage = 'cancelled'
	union all
	select 'cancellation_rate', 'rate', o.store, o.method, j.at, (j.stage = 'cancelled')::int, 1, null
	from j join o using (order_id) where j.stage in ('cancelled', 'picked_up', 'delivered')
	union all
	select 'expired_pickups', 'count', o.store, o.method, j.at, null, null, null
	from j join o using (order_id)
	where j.stage = 'cancelled' and j.actor = ''
		and exists (select 1 from j r where r.order_id = j.order_id and r.stage = 'ready_for_pickup')
	union all
	select 'pickup_expiry_rate', 'rate', o.store, o.method, j.at, (j.stage = 'cancelled')::int, 1, null
	from j join o using (order_id)
	where j.stage in ('picked_up', 'cancelled')
		and (j.stage = 'picked_up' or j.actor = '' and exists (select 1 from j r where r.order_id = j.order_id and r.stage = 'ready_for_pickup'))
	union all
	select 'ready_on_time_rate', 'rate', o.store, o.method, j.at, (j.at <= o.promised_ready_at)::int, 1, null
	from j join o using (order_id) where j.stage = 'ready_for_pickup' and o.promised_ready_at is not null
	union all
	select 'ready_early_rate', 'rate', o.store, o.method, j.at, (j.at <= o.promised_ready_at - interval '24 hours')::int, 1, null
	from j join o using (order_id) where j.stage = 'ready_for_pickup' and o.promised_ready_at is not null
	union all
	select 'transfer_time', 'duration', o.store, o.method, r.at, null, null, extract(epoch from r.at - t.at)::float8
	from j r join j t on t.order_id = r.order_id and t.stage = 'in_transit_to_store' join o on o.order_id = r.order_id
	where r.stage = 'ready_for_pickup'
	union all
	select 'late_transfer_rate', 'rate', o.store, o.method, r.at, (r.at > o.promised_ready_at)::int, 1, null
	from j r join o using (order_id)
	where r.stage = 'ready_for_pickup' and o.promised_ready_at is not null
		and exists (select 1 from j t where t.order_id = r.order_id and t.stage = 'in_transit_to_store')
	union all
	select 'placed_to_ready', 'duration', o.store, o.method, j.at, null, null, extract(epoch from j.at - o.placed_at)::float8
	from j join o using (order_id) where j.stage in ('ready_for_pickup', 'shipped')
	union all
	select 'pickups', 'count', o.store, o.method, j.at, null, null, null
	from j join o using (order_id) where j.stage = 'picked_up'
	union all
	select 'time_to_pickup', 'duration', o.store, o.method, p.at, null, null, extract(epoch from p.at - r.at)::float8
	from j p join j r on r.order_id = p.order_id and r.stage = 'ready_for_pickup' join o on o.order_id = p.order_id
	where p.stage = 'picked_up'
	union all
	select 'deliveries', 'count', o.store, o.method, j.at, null, null, null
	from j join o using (order_id) where j.stage = 'delivered'
	union all
	select 'delivery_time', 'duration', o.store, o.method, d.at, null, null, extract(epoch from d.at - s.at)::float8
	from j d join j s on s.order_id = d.order_id and s.stage = 'shipped' join o on o.order_id = d.order_id
	where d.stage = 'delivered'
	union all
	select 'review_requests', 'count', o.store, o.method, j.at, null, null, null
	from j join o using (order_id) where j.stage = 'review_requested'
	union all
	select 'time_to_pick', 'duration', pt.location_id, o.method, pt.picked_at, null, null, extract(epoch from pt.picked_at - pt.created_at)::float8
	from pt join o using (order_id)
	union all
	select 'picking_sla_miss_rate', 'rate', pt.location_id, o.method, pt.picked_at, (pt.picked_at > pt.due_at)::int, 1, null
	from pt join o using (order_id)
	union all
	select 'short_picks', 'count', pt.location_id, o.method, pt.picked_at, null, null, null
	from pt join o using (order_id) where pt.short
	union all
	select 'short_pick_rate', 'rate', pt.location_id, o.method, pt.picked_at, pt.short::int, 1, null
	from pt join o using (order_id)
	union all
	select 'carrier_problems', 'count', o.store, o.method, e.at, null, null, null
	from order_journey e join o using (order_id)
	where e.kind = 'attention' and e.detail like 'carrier reports %'
	union all
	select 'orders_needing_attention', 'count', o.store, o.method, $3::timestamptz, null, null, null
	from o where o.needs_attention
	union all
	select 'attention_age', 'age', o.store, o.method, $3::timestamptz, null, null, greatest(0, extract(epoch from $3::timestamptz - a.since))::float8
	from o cross join lateral (
		select min(e.at) as since from order_journey e
		where e.order_id = o.order_id and e.kind = 'attention'
			and e.at > coalesce((select max(r.at) from order_journey r where r.order_id = o.order_id and r.kind = 'attention_resolved'), '-infinity')
	) a
	where o.needs_attention and a.since is not null
	union all
	select 'marketing_consent_rate', 'rate', o.store, o.method, $3::timestamptz, coalesce(p.marketing_consent, false)::int, 1, null
	from o left join contact_preferences p using (customer_id)
	where o.placed_at > $3::timestamptz - interval '30 days' and o.placed_at <= $3::timestamptz
	union all
	select 'messages_' || n.status || '_' || n.channel, 'count', o.store, o.method, n.created_at, null, null, null
	from notifications n join o using (order_id) where n.status <> 'sending'
	union all
	select 'message_failure_rate_' || n.channel, 'rate', o.store, o.method, n.created_at, (n.status in ('failed', 'undeliverable'))::int, 1, null
	from notifications n join o using (order_id) where n.status in ('sent', 'failed', 'undeliverable', 'unconfirmed')
	union all
	select 'email_bounce_rate', 'rate', o.store, o.method, n.created_at, 0, 1, null
	from notifications n join o using (order_id) where n.channel = 'email' and n.status = 'sent'
	union all
	select case when e.entry_key like 'webhook:sendgrid:%' then 'messages_bounced_email' else 'messages_bounced_sms' end,
		'count', o.store, o.method, e.at, null, null, null
	from order_journey e join o using (order_id)
	where e.kind = 'notification' and e.entry_key like 'webhook:%'
		and (e.entry_key like 'webhook:sendgrid:%' or e.entry_key like 'webhook:twilio:%')
	union all
	select 'email_bounce_rate', 'rate', o.store, o.method, e.at, 1, 0, null
	from order_journey e join o using (order_id)
	where e.kind = 'notification' and e.entry_key like 'webhook:%' and e.entry_key like 'webhook:sendgrid:%'
)`

// kpiCompute aggregates the facts of one granularity ($1) from $2 on into UTC
// buckets, per store and method and as totals ('*'), upserts them with
// computed_at $3 and deletes the window's rows it did not write (a bucket whose
// records moved to another store or method), except the snapshots of earlier
// runs' buckets. A rate's samples are its denominator.
const kpiCompute = kpiFacts + `, agg as (
	select kpi, kind,
		case when grouping(store) = 1 then '*' else store end as store,
		case when grouping(method) = 1 then '*' else method end as method,
		date_trunc($1, at, 'UTC') as bucket,
		count(*) as n, sum(num) as num, sum(den) as den,
		percentile_cont(0.5) within group (order by secs) as p50,
		percentile_cont(0.9) within group (order by secs) as p90,
		max(secs) as max
	from facts
	where at >= $2
	group by grouping sets ((kpi, kind, bucket, store, method), (kpi, kind, bucket, store), (kpi, kind, bucket, method), (kpi, kind, bucket))
), rows (kpi, store, method, bucket, value, num, den, n) as (
	select kpi, store, method, bucket, n::float8, null::float8, null::float8, n from agg where kind = 'count'
	union all
	select kpi, store, method, bucket, num / den, num, den, den::bigint from agg where kind = 'rate' and den > 0
	union all
	select kpi || '_p50', store, method, bucket, p50, null, null, n from agg where kind = 'duration'
	union all
	select kpi || '_p90', store, method, bucket, p90, null, null, n from agg where kind = 'duration'
	union all
	select kpi || '_p50', store, method, bucket, p50, null, null, n from agg where kind = 'age'
	union all
	select kpi || '_max', store, method, bucket, max, null, null, n from agg where kind = 'age'
), upserted as (
	insert into kpi_values (kpi, store_id, method, granularity, bucket_start, value, numerator, denominator, samples, computed_at)
	select kpi, store, method, $1, bucket, value, num, den, n, $3 from rows
	on conflict (kpi, granularity, store_id, method, bucket_start) do update set
		value = excluded.value, numerator = excluded.numerator, denominator = excluded.denominator,
		samples = excluded.samples, computed_at = excluded.computed_at
	returning 1
), stale as (
	delete from kpi_values v
	where granularity = $1 and bucket_start >= $2
		-- not exists, not "not in": a NOT IN subquery too large for work_mem is
		-- rescanned for every row (minutes for a window of 40k values)
		and not exists (select 1 from rows r
			where r.kpi = v.kpi and r.store = v.store_id and r.method = v.method and r.bucket = v.bucket_start)
		-- a snapshot of an earlier run's bucket stays as that run left it
		and not (kpi in ('orders_needing_attention', 'attention_age_p50', 'attention_age_max', 'marketing_consent_rate')
			and bucket_start < date_trunc($1, $3::timestamptz, 'UTC'))
	returning 1
)
select (select count(*) from upserted), (select count(*) from stale)`

// ComputeKPIs recomputes every KPI of the window in one transaction and returns
// how many values it wrote. Running it again for the same window writes the same
// values (computed_at aside): the rows are upserted on their key.
func (s *Store) ComputeKPIs(ctx context.Context, w records.KPIWindow) (int64, error) {
	var written int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Plan for this run's window (a generic plan cannot tell a window from
		// the whole table), and do not JIT-compile: on 100k orders compiling the
		// statement took longer than running it (docs/kpis.md, "Cost").
		if _, err := tx.Exec(ctx, "set local plan_cache_mode = force_custom_plan; set local jit = off"); err != nil {
			return fmt.Errorf("compute KPIs: %w", err)
		}
		for _, g := range []struct {
			name string
			from time.Time
		}{{records.GranularityHour, w.HoursFrom}, {records.GranularityDay, w.DaysFrom}} {
			var n, stale int64
			if err := tx.QueryRow(ctx, kpiCompute, g.name, g.from, w.At).Scan(&n, &stale); err != nil {
				return fmt.Errorf("compute %s KPIs from %s: %w", g.name, g.from.Format(time.RFC3339), err)
			}
			written += n
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return written, nil
}

// KPIs reads computed KPI values, oldest bucket first, then by KPI, store and
// method.
func (s *Store) KPIs(ctx context.Context, f records.KPIFilter) ([]records.KPIValue, error) {
	q := `select kpi, store_id, method, granularity, bucket_start, value, numerator, denominator, samples, computed_at
		from kpi_values
		where ($1::text[] is null or kpi = any($1))
			and ($2 = '' or store_id = $2) and ($3 = '' or method = $3) and ($4 = '' or granularity = $4)
			and ($5::timestamptz is null or bucket_start >= $5) and ($6::timestamptz is null or bucket_start < $6)
		order by bucket_start, kpi, store_id, method, granularity
		limit $7`
	var kpis []string
	if len(f.KPIs) > 0 {
		kpis = f.KPIs
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 10000
	}
	rows, err := s.pool.Query(ctx, q, kpis, f.StoreID, f.Method, f.Granularity, nullTime(f.From), nullTime(f.To), limit)
	if err != nil {
		return nil, fmt.Errorf("read KPIs: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (records.KPIValue, error) {
		var v records.KPIValue
		err := row.Scan(&v.KPI, &v.StoreID, &v.Method, &v.Granularity, &v.BucketStart, &v.Value, &v.Numerator, &v.Denominator, &v.Samples, &v.ComputedAt)
		v.BucketStart, v.ComputedAt = v.BucketStart.UTC(), v.ComputedAt.UTC()
		return v, err
	})
	if err != nil {
		return nil, fmt.Errorf("read KPIs: %w", err)
	}
	return out, nil
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
