#!/usr/bin/env bash
# `make chaos`: the chaos suite (chaos/): a stack of its own in a temporary directory
# (PostgreSQL, the Temporal dev server on a SQLite file, worker and starter as separate
# processes with sandbox providers failing 20% of their calls), a few hundred orders of
# every kind over HTTP while the worker, PostgreSQL, the dev server and the starter are
# killed and restarted, then the invariants. Exit code 1 on any violation.
#
# Environment (flags after `--` work too: deploy/local/chaos.sh -orders 50):
#   CHAOS_ORDERS      orders to place (default 300)
#   CHAOS_SEED        seed of the run (default: random, printed; the same seed places the same orders)
#   CHAOS_FAULT_RATE  share of sandbox provider calls that fail (default 0.2)
#   CHAOS_KEEP=1      keep the temporary directory (logs, data) even when every invariant holds
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
  log "go run ./chaos (orders ${CHAOS_ORDERS:-300}, seed ${CHAOS_SEED:-random})"
  go run ./chaos "$@"
}

main "$@"
