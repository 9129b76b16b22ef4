package envvar_test

import (
	"strings"
	"testing"
	"time"

	"github.com/everywherecommerce/fulfilment/envvar"
)

func TestPool(t *testing.T) {
	lookup := func(m map[string]string) envvar.Lookup { return func(n string) string { return m[n] } }
	t.Run("defaults", func(t *testing.T) {
		cfg, err := lookup(nil).Pool("postgres://app@db/fulfilment")
		if err != nil {
			t.Fatal(err)
		}
		if cfg.MaxConns != 10 || cfg.MinConns != 2 || cfg.MaxConnLifetime != time.Hour || cfg.MaxConnIdleTime != 30*time.Minute {
			t.Errorf("defaults: max %d min %d lifetime %s idle %s", cfg.MaxConns, cfg.MinConns, cfg.MaxConnLifetime, cfg.MaxConnIdleTime)
		}
	})
	t.Run("variables over the URL over the defaults", func(t *testing.T) {
		cfg, err := lookup(map[string]string{"DATABASE_MAX_CONNS": "25", "DATABASE_MAX_CONN_IDLE_TIME": "5m"}).
			Pool("postgres://app@db/fulfilment?pool_max_conns=7&pool_min_conns=3")
		if err != nil {
			t.Fatal(err)
		}
		if cfg.MaxConns != 25 || cfg.MinConns != 3 || cfg.MaxConnLifetime != time.Hour || cfg.MaxConnIdleTime != 5*time.Minute {
			t.Errorf("got max %d min %d lifetime %s idle %s", cfg.MaxConns, cfg.MinConns, cfg.MaxConnLifetime, cfg.MaxConnIdleTime)
		}
	})
	t.Run("every bad value at once", func(t *testing.T) {
		_, err := lookup(map[string]string{"DATABASE_MAX_CONNS": "many", "DATABASE_MAX_CONN_LIFETIME": "-1h", "DATABASE_MIN_CONNS": "x"}).
			Pool("postgres://app@db/fulfilment")
		for _, want := range []string{"DATABASE_MAX_CONNS", "DATABASE_MAX_CONN_LIFETIME", "DATABASE_MIN_CONNS"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error %v does not name %s", err, want)
			}
		}
	})
	t.Run("min above max", func(t *testing.T) {
		if _, err := lookup(map[string]string{"DATABASE_MAX_CONNS": "2", "DATABASE_MIN_CONNS": "3"}).Pool("postgres://app@db/x"); err == nil {
			t.Error("min 3 > max 2 accepted")
		}
	})
}
