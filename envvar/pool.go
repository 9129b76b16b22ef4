package envvar

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Pool defaults, where neither a variable nor the URL's pool_* parameter says
// otherwise. pgx's own default of max(4, CPUs) connections queues a checkout's
// queries behind a handful of concurrent activities on a small machine; two idle
// connections kept open spare the first requests after a quiet spell the TCP and
// authentication handshake.
const (
	defaultMaxConns        = 10
	defaultMinConns        = 2
	defaultMaxConnLifetime = time.Hour
	defaultMaxConnIdleTime = 30 * time.Minute
)

// Pool parses DATABASE_URL into a pgx pool configuration sized by
// DATABASE_MAX_CONNS, DATABASE_MIN_CONNS, DATABASE_MAX_CONN_LIFETIME and
// DATABASE_MAX_CONN_IDLE_TIME. Each setting comes from its variable, else from
// the URL's pgx parameter (pool_max_conns, pool_min_conns,
// pool_max_conn_lifetime, pool_max_conn_idle_time), else from the defaults above.
// Every bad value is reported at once, naming its variable.
func (l Lookup) Pool(databaseURL string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	var problems []error
	count := func(name, param string, def int32, dst *int32) {
		v := l(name)
		if v == "" {
			if !strings.Contains(databaseURL, param) {
				*dst = def
			}
			return
		}
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 0 {
			problems = append(problems, fmt.Errorf("%s=%q: want a whole number of connections, 0 or more", name, v))
			return
		}
		*dst = int32(n)
	}
	duration := func(name, param string, def time.Duration, dst *time.Duration) {
		v := l(name)
		if v == "" {
			if !strings.Contains(databaseURL, param) {
				*dst = def
			}
			return
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			problems = append(problems, fmt.Errorf("%s=%q: want a positive duration such as 30m", name, v))
			return
		}
		*dst = d
	}
	count("DATABASE_MAX_CONNS", "pool_max_conns", defaultMaxConns, &cfg.MaxConns)
	count("DATABASE_MIN_CONNS", "pool_min_conns", defaultMinConns, &cfg.MinConns)
	duration("DATABASE_MAX_CONN_LIFETIME", "pool_max_conn_lifetime", defaultMaxConnLifetime, &cfg.MaxConnLifetime)
	duration("DATABASE_MAX_CONN_IDLE_TIME", "pool_max_conn_idle_time", defaultMaxConnIdleTime, &cfg.MaxConnIdleTime)
	switch {
	case cfg.MaxConns < 1:
		problems = append(problems, fmt.Errorf("DATABASE_MAX_CONNS=%d: want at least 1", cfg.MaxConns))
	case cfg.MinConns > cfg.MaxConns:
		problems = append(problems, fmt.Errorf("DATABASE_MIN_CONNS=%d is more than DATABASE_MAX_CONNS=%d", cfg.MinConns, cfg.MaxConns))
	}
	if err := errors.Join(problems...); err != nil {
		return nil, err
	}
	return cfg, nil
}
