package postgres_test

import (
	"testing"

	"github.com/everywherecommerce/fulfilment/adapters/postgres"
	"github.com/everywherecommerce/fulfilment/adapters/postgres/pgtest"
)

func TestMigrateTwice(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t) // already migrated once, from the template
	conn, err := pool.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	for range 2 {
		if err := postgres.Migrate(t.Context(), conn.Conn()); err != nil {
			t.Fatal(err)
		}
	}
	var version int
	if err := conn.QueryRow(t.Context(), `select version from schema_version`).Scan(&version); err != nil || version < 1 {
		t.Errorf("schema_version = %d, %v", version, err)
	}
	want := []string{"stores", "stock", "reservations", "pick_tasks", "orders", "order_journey", "notifications",
		"shipments", "api_tokens", "sandbox_outbox", "contact_preferences", "recommendations", "webhook_events"}
	for _, table := range want {
		var ok bool
		if err := conn.QueryRow(t.Context(), `select to_regclass($1) is not null`, table).Scan(&ok); err != nil || !ok {
			t.Errorf("table %s exists = %v, %v", table, ok, err)
		}
	}
}

func TestSeedDemoTwice(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	st := postgres.NewStore(pool)
	ctx := t.Context()
	if err := st.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.SetStock(ctx, "berlin-mitte", "WATCH-001", 7); err != nil {
		t.Fatal(err)
	}
	if err := st.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	if q, _ := st.StockQuantity(ctx, "berlin-mitte", "WATCH-001"); q != 7 {
		t.Errorf("stock after a second seed = %d, want 7 (seeding keeps what orders took)", q)
	}
	loc, err := st.Location(ctx, "berlin-mitte")
	if err != nil {
		t.Fatal(err)
	}
	if loc.Name != "Berlin Mitte" || loc.TimeZone != "Europe/Berlin" || loc.Address.PostalCode != "10178" || loc.Hours["sat"] != "10:00-20:00" || loc.Hours["sun"] != "" {
		t.Errorf("berlin-mitte = %+v", loc)
	}
	var recs int
	if err := pool.QueryRow(ctx, `select count(*) from recommendations where sku = 'WATCH-001'`).Scan(&recs); err != nil || recs != 3 {
		t.Errorf("recommendations of WATCH-001 = %d, %v; want 3", recs, err)
	}
	for _, sku := range postgres.DemoSKUs() {
		if q, err := st.StockQuantity(ctx, "dc-erfurt", sku.SKU); err != nil || q != 100 {
			t.Errorf("dc-erfurt stock of %s = %d, %v; want 100", sku.SKU, q, err)
		}
	}
}
