-- Journey KPIs (docs/kpis.md), recomputed over a sliding window by the `kpis`
-- Temporal Schedule. One row per KPI, store, method, UTC bucket and granularity;
-- store_id and method '*' are the totals over all stores / all methods.
create table kpi_values (
	kpi          text not null,
	store_id     text not null,
	method       text not null,
	granularity  text not null check (granularity in ('hour', 'day')),
	bucket_start timestamptz not null,
	value        double precision not null,
	numerator    double precision,
	denominator  double precision,
	samples      bigint not null,
	computed_at  timestamptz not null,
	primary key (kpi, granularity, store_id, method, bucket_start)
);

create index kpi_values_bucket on kpi_values (granularity, bucket_start);
