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
check_not_running() {
  local pid
  pid="$(cat "$LOCK_FILE" 2>/dev/null || true)"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null &&
    grep -q 'run.sh' "/proc/$pid/cmdline" 2>/dev/null; then
    die "make run is already running (pid $pid) on $DEV_DIR"
  fi
}

# check_ports: every port we bind must be free. The PostgreSQL port may be held by this
# checkout's own cluster left over from an interrupted run; that one is reused.
check_ports() {
  local entry name port busy=()
  for entry in "PostgreSQL:$PG_PORT" "Temporal gRPC:$TEMPORAL_PORT" \
    "Temporal Web UI:$TEMPORAL_UI_PORT" "Temporal metrics:$TEMPORAL_METRICS_PORT" \
    "starter:$STARTER_PORT" "worker admin:$WORKER_ADMIN_PORT" "starter admin:$STARTER_ADMIN_PORT"; do
    name="${entry%:*}"
    port="${entry##*:}"
    port_in_use "$port" || continue
    if [[ "$port" == "$PG_PORT" ]] && pg_running "$PG_DIR" &&
      [[ "$(pg_running_port "$PG_DIR")" == "$PG_PORT" ]]; then
      continue
    fi
    busy+=("  127.0.0.1:$port ($name)")
  done
  if ((${#busy[@]} > 0)); then
    printf 'error: these ports are already in use by another process:\n' >&2
    printf '%s\n' "${busy[@]}" >&2
    printf 'Stop whatever listens there and retry. Leftovers of a killed make run show up in:\n' >&2
    printf "  ps aux | grep -E 'bin/(temporal|worker|starter)|postgres -D'\n" >&2
    exit 1
  fi
}

build() {
  temporal_ensure_cli
  log "building bin/worker and bin/starter"
  go build -o "$REPO/bin/worker" ./worker
  go build -o "$REPO/bin/starter" ./starter
}

# ensure_payload_key: 32 random bytes, base64, generated once into .dev/payload.key.
ensure_payload_key() {
  if [[ ! -s "$KEY_FILE" ]]; then
    log "generating dev payload key $KEY_FILE"
    (
      umask 077
      head -c 32 /dev/urandom | base64 -w0 >"$KEY_FILE.tmp"
      printf '\n' >>"$KEY_FILE.tmp"
      mv "$KEY_FILE.tmp" "$KEY_FILE"
    )
  fi
  chmod 600 "$KEY_FILE"
  FULFILMENT_PAYLOAD_KEYS="dev-1:$(tr -d '\n\r ' <"$KEY_FILE")"
  export FULFILMENT_PAYLOAD_KEYS
}

# load_tokens FILE: exports the NAME=value lines of FILE (not executed as shell).
load_tokens() {
  local file="$1" line key val
  [[ -f "$file" ]] || return 0
  chmod 600 "$file"
  while IFS= read -r line || [[ -n "$line" ]]; do
    line="${line%$'\r'}"
    [[ "$line" =~ ^(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || continue
    key="${BASH_REMATCH[2]}"
    val="${BASH_REMATCH[3]}"
    if [[ "$val" =~ ^\"(.*)\"$ || "$val" =~ ^\'(.*)\'$ ]]; then
      val="${BASH_REMATCH[1]}"
    fi
    export "$key=$val"
  done <"$file"
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

migrate_and_seed() {
  log "bin/worker migrate"
  "$REPO/bin/worker" migrate
  log "bin/starter demo seed"
  "$REPO/bin/starter" demo seed --tokens-file "$TOKENS_FILE"
  load_tokens "$TOKENS_FILE"
}

# tail_run_log FILE: the last lines this run wrote to FILE (after its "=== make run" marker).
tail_run_log() {
  printf -- '--- %s ---\n' "$1" >&2
  awk '/^=== make run /{buf=""; n=0} {buf = buf $0 "\n"; n++} END{printf "%s", buf}' "$1" 2>/dev/null |
    tail -n 30 >&2 || true
  printf -- '---\n' >&2
}

# start_service NAME -> sets STARTED_PID; logs to .dev/NAME.log (and the terminal).
start_service() {
  local name="$1" logfile="$DEV_DIR/$1.log"
  printf '=== make run %s ===\n' "$(date -Is)" >>"$logfile"
  log "starting $name (log $logfile)"
  if [[ "${RUN_TEE:-1}" != 0 ]]; then
    start_detached_tee "$logfile" "[$name]" "$REPO/bin/$name"
  else
    start_detached "$logfile" "$REPO/bin/$name"
  fi
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

place_demo_orders() {
  if [[ "${DEMO:-1}" == 0 ]]; then
    return 0
  fi
  if [[ -z "${CHECKOUT_TOKEN:-}" ]]; then
    warn "no CHECKOUT_TOKEN (missing $TOKENS_FILE?); skipping demo orders"
    return 0
  fi
  log "bin/starter demo orders"
  "$REPO/bin/starter" demo orders || warn "placing demo orders failed (the system keeps running)"
}

random_digits() {
  printf '%05d' $(((RANDOM * 32768 + RANDOM) % 100000))
}

# print_summary: the URLs, and an order to place by hand: a new order ID each run, set
# as ORDER_ID by the first printed line, which the README's walkthrough then uses.
print_summary() {
  local token="${CHECKOUT_TOKEN:-<CHECKOUT_TOKEN from $TOKENS_FILE>}" body pi order_id
  pi="pi_demo_$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  order_id="A-$(random_digits)"
  body='{"order_id":"'"$order_id"'","customer":{"id":"C-1","name":"Mia Schmidt","email":"mia@example.com","locale":"de-DE","time_zone":"Europe/Berlin"},"method":"ship_to_store","store_id":"berlin-mitte","currency":"EUR","payment_intent_id":"'"$pi"'","lines":[{"sku":"WATCH-001","name":"Automatic watch","quantity":1,"unit_price":24900}]}'
  cat <<EOF

  Fulfilment is running.
    Temporal Web UI   http://127.0.0.1:$TEMPORAL_UI_PORT
    starter API       $STARTER_URL
    store console     $STARTER_URL/store/
    sandbox outbox    $STARTER_URL/dev/outbox
    worker profiles   http://$FULFILMENT_ADMIN_ADDR/debug/pprof/  (memstats: /debug/vars)
    starter profiles  http://$STARTER_ADMIN_ADDR/debug/pprof/  (memstats: /debug/vars)
    tokens            $TOKENS_FILE
    logs              $DEV_DIR/{worker,starter,temporal}.log
    DATABASE_URL      $DATABASE_URL

  Place order $order_id by hand (README, "An order by hand": paste both lines):
    ORDER_ID=$order_id
    curl -sS -X POST $STARTER_URL/v1/orders -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d '$body'

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
