#!/usr/bin/env bash
# `make run`: the whole system on this machine. State lives in .dev/ and is reused by the
# next run (rm -rf .dev, or `make clean`, to start over). Ctrl-C stops everything it started.
#
# Environment:
#   DEMO=0         do not place the demo orders
#   RUN_TEE=0      do not copy worker/starter logs to the terminal (always in .dev/*.log)
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=postgres.sh
source "$(dirname "${BASH_SOURCE[0]}")/postgres.sh"
# shellcheck source=temporal.sh
source "$(dirname "${BASH_SOURCE[0]}")/temporal.sh"
# shellcheck source=app.sh
source "$(dirname "${BASH_SOURCE[0]}")/app.sh"

DEV_DIR="$REPO/.dev"
PG_DIR="$DEV_DIR/pg"
PG_PORT=55432
TEMPORAL_PORT=7233
TEMPORAL_UI_PORT=8233
TEMPORAL_METRICS_PORT=9233
STARTER_PORT=8080
WORKER_ADMIN_PORT=6060
STARTER_ADMIN_PORT=6061
STARTER_URL="http://127.0.0.1:$STARTER_PORT"
TOKENS_FILE="$DEV_DIR/tokens.env"
KEY_FILE="$DEV_DIR/payload.key"
LOCK_FILE="$DEV_DIR/run.pid"

WORKER_PID=""
STARTER_PID=""
PG_OWNED=0

cleanup() {
  local rc=$?
  # Shut down even if the terminal (or a pipe such as `| tee`) is gone: a write to it
  # must neither kill us (SIGPIPE) nor abort the clean-up (errexit).
  trap '' INT TERM PIPE
  set +e
  trap - EXIT
  printf '\n' >&2
  stop_pid starter "$STARTER_PID" 15
  stop_pid worker "$WORKER_PID" 20
  stop_pid "Temporal dev server" "$TEMPORAL_PID" 20
  if ((PG_OWNED)); then
    pg_stop "$PG_DIR" || warn "stopping PostgreSQL failed; run: deploy/local/postgres.sh stop $PG_DIR"
  fi
  if [[ "$(cat "$LOCK_FILE" 2>/dev/null)" == "$$" ]]; then
    rm -f "$LOCK_FILE"
  fi
  if ((rc == 0)); then
    log "stopped"
  fi
  exit "$rc"
}

on_signal() {
  trap '' PIPE
  log "interrupted; shutting down" || true
  exit 0
}

# check_not_running: refuses a second concurrent `make run` on the same .dev/.
check_not_running() { refuse_second_run 'run.sh' 'make run'; }

# check_ports: every port we bind must be free. The PostgreSQL port may be held by this
# checkout's own cluster left over from an interrupted run; that one is reused.
check_ports() {
  ensure_ports_free "$PG_DIR" "$PG_PORT" "Stop whatever listens there and retry. Leftovers of a killed make run show up in:
  ps aux | grep -E 'bin/(temporal|worker|starter)|postgres -D'" \
    "PostgreSQL:$PG_PORT" "Temporal gRPC:$TEMPORAL_PORT" \
    "Temporal Web UI:$TEMPORAL_UI_PORT" "Temporal metrics:$TEMPORAL_METRICS_PORT" \
    "starter:$STARTER_PORT" "worker admin:$WORKER_ADMIN_PORT" "starter admin:$STARTER_ADMIN_PORT"
}

build() {
  temporal_ensure_cli
  log "building bin/worker and bin/starter"
  go build -o "$REPO/bin/worker" ./worker
  go build -o "$REPO/bin/starter" ./starter
}

export_env() {
  export TEMPORAL_ADDRESS="127.0.0.1:$TEMPORAL_PORT"
  export TEMPORAL_NAMESPACE=default
  export TEMPORAL_METRICS_URL="http://127.0.0.1:$TEMPORAL_METRICS_PORT/metrics"
  export DATABASE_URL="postgres://app@127.0.0.1:$PG_PORT/fulfilment?sslmode=disable"
  export FULFILMENT_PROVIDERS=sandbox
  export STARTER_ADDR="127.0.0.1:$STARTER_PORT"
  export FULFILMENT_ADMIN_ADDR="127.0.0.1:$WORKER_ADMIN_PORT"
  export STARTER_ADMIN_ADDR="127.0.0.1:$STARTER_ADMIN_PORT"
  # Journey alarms are emailed into the sandbox outbox (docs/alarms.md).
  export FULFILMENT_ALARM_EMAIL="${FULFILMENT_ALARM_EMAIL:-alarms@example.com}"
  export STARTER_URL
}

start_postgres() {
  PG_OWNED=1
  pg_start "$PG_DIR" "$PG_PORT"
}

start_temporal() {
  local logfile="$DEV_DIR/temporal.log"
  printf '=== make run %s ===\n' "$(date -Is)" >>"$logfile"
  temporal_start "$logfile" "$TEMPORAL_PORT" "$TEMPORAL_UI_PORT" "$TEMPORAL_METRICS_PORT" \
    "$DEV_DIR/temporal.db" "$STARTER_URL/codec"
  temporal_wait_ready "$TEMPORAL_PORT" "$TEMPORAL_PID" "$logfile" 120 ||
    die "Temporal dev server did not start"
  temporal_ensure_search_attributes "$TEMPORAL_PORT" default
}

start_services() {
  start_service worker
  WORKER_PID="$STARTED_PID"
  start_service starter
  STARTER_PID="$STARTED_PID"
  if ! wait_http_ok 127.0.0.1 "$STARTER_PORT" /readyz 90 "$STARTER_PID"; then
    tail_run_log "$DEV_DIR/starter.log"
    die "starter did not answer 200 on $STARTER_URL/readyz (log $DEV_DIR/starter.log)"
  fi
  if ! pid_alive "$WORKER_PID"; then
    tail_run_log "$DEV_DIR/worker.log"
    die "worker exited during startup (log $DEV_DIR/worker.log)"
  fi
}

# print_summary: the URLs, and an order to place by hand (print_order_by_hand).
print_summary() {
  cat <<EOF

  Fulfilment is running.
    Temporal Web UI   http://127.0.0.1:$TEMPORAL_UI_PORT
    starter API       $STARTER_URL
    store console     $STARTER_URL/store/
    sandbox outbox    $STARTER_URL/dev/outbox  (journey alarms are emailed there to $FULFILMENT_ALARM_EMAIL)
    KPIs and alarms   $STARTER_URL/v1/kpis, $STARTER_URL/v1/alarms (support token), $STARTER_URL/store/kpis.html
    worker metrics    http://$FULFILMENT_ADMIN_ADDR/metrics  (starter: $STARTER_URL/metrics)
    worker profiles   http://$FULFILMENT_ADMIN_ADDR/debug/pprof/  (memstats: /debug/vars)
    starter profiles  http://$STARTER_ADMIN_ADDR/debug/pprof/  (memstats: /debug/vars)
    tokens            $TOKENS_FILE
    logs              $DEV_DIR/{worker,starter,temporal}.log
    DATABASE_URL      $DATABASE_URL

$(print_order_by_hand "$STARTER_URL")

  Ctrl-C stops everything.

EOF
}

# wait_for_exit: blocks until Ctrl-C (trap) or until one of the processes dies.
wait_for_exit() {
  local entry name pid
  while true; do
    wait -n "$TEMPORAL_PID" "$WORKER_PID" "$STARTER_PID" 2>/dev/null || true
    for entry in "worker:$WORKER_PID" "starter:$STARTER_PID" "temporal:$TEMPORAL_PID"; do
      name="${entry%%:*}"
      pid="${entry##*:}"
      if ! pid_alive "$pid"; then
        tail_run_log "$DEV_DIR/$name.log"
        die "$name (pid $pid) exited unexpectedly; see $DEV_DIR/$name.log"
      fi
    done
  done
}

main() {
  cd "$REPO"
  mkdir -p "$DEV_DIR" "$REPO/bin"
  check_not_running
  check_ports
  printf '%s\n' "$$" >"$LOCK_FILE"
  trap cleanup EXIT
  trap on_signal INT TERM HUP

  unset_temporal_remote_env
  build
  start_postgres
  start_temporal
  ensure_payload_key
  export_env
  migrate_and_seed
  start_services
  place_demo_orders
  print_summary
  wait_for_exit
}

main "$@"
