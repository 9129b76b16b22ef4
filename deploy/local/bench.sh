#!/usr/bin/env bash
# `make bench`: the benchmark (bench/): a system of its own in a temporary directory
# (PostgreSQL, the Temporal dev server with metrics, worker and starter as separate
# processes with sandbox providers), orders over the HTTP API, one Markdown table on
# stdout and in bench/last-run.md (see docs/performance.md).
#
# Environment (flags after `--` work too: deploy/local/bench.sh -path-orders 2):
#   BENCH_PATH_ORDERS        orders per path for Actions and history events (default 5)
#   BENCH_CHECKOUTS_C1       timed checkouts at concurrency 1 (default 200)
#   BENCH_CHECKOUTS_C10      timed checkouts at concurrency 10 (default 400)
#   BENCH_WARMUP             untimed checkouts before each latency cell (default 20)
#   BENCH_OPEN_ORDERS        open-order counts for the worker's memory (default 1000,5000)
#   BENCH_MEMORY_PICKS       newest, then oldest open orders picked after the last count (default 200)
#   BENCH_MEMORY_DIR         heap profiles of the memory stage (default bench/last-run-memory)
#   BENCH_SERVICE_ENV        extra KEY=VALUE settings for every worker and starter, space-separated
#   BENCH_STAGES             parts to measure (default paths,latency,memory,throughput)
#   BENCH_THROUGHPUT_ORDERS  complete lifecycles per concurrency (default 300)
#   BENCH_OUT                Markdown file for the table (default bench/last-run.md; - for none)
#   BENCH_KEEP=1             keep the temporary directory (logs, data)
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=postgres.sh
source "$(dirname "${BASH_SOURCE[0]}")/postgres.sh"
# shellcheck source=temporal.sh
source "$(dirname "${BASH_SOURCE[0]}")/temporal.sh"

main() {
  cd "$REPO"
  temporal_ensure_cli
  pg_ensure_installed
  unset_temporal_remote_env
  export TEMPORAL_CLI="$TEMPORAL_BIN"
  log "go run ./bench"
  go run ./bench "$@"
}

main "$@"
