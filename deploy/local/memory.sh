#!/usr/bin/env bash
# Worker memory against open orders (docs/performance.md, "Worker memory").
#
#   deploy/local/memory.sh [OUT_DIR]
#
# Starts a stack of its own in a temporary directory (PostgreSQL, an in-memory Temporal
# dev server, bin/worker and bin/starter built from this checkout, on free ports of
# 127.0.0.1), places ship-to-store orders over the HTTP API as a checkout service would
# (they are captured and then wait for staff to pick them: open orders), and at each
# count of MEMORY_COUNTS records the worker's VmRSS (/proc/PID/status) and, after a
# forced GC, memstats.HeapAlloc and StackInuse (FULFILMENT_ADMIN_ADDR /debug/vars), its
# goroutines and a heap profile (go tool pprof -top). Then staff complete MEMORY_PICKS picks of the
# oldest orders (those longest out of the workflow cache) and the rate is printed.
# Results go to OUT_DIR (default: a new directory under /tmp); everything else is removed.
#
# Environment:
#   MEMORY_COUNTS               open orders at which to measure (default "0 1000 5000")
#   MEMORY_CONCURRENCY          orders placed in parallel (default 8)
#   MEMORY_PICKS                picks completed at the end (default 200; 0 = none)
#   FULFILMENT_WORKFLOW_CACHE   passed to the worker (unset: the worker's default)
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=postgres.sh
source "$(dirname "${BASH_SOURCE[0]}")/postgres.sh"
# shellcheck source=temporal.sh
source "$(dirname "${BASH_SOURCE[0]}")/temporal.sh"

WORK_DIR=""
PG_DIR=""
WORKER_PID=""
STARTER_PID=""
OUT_DIR=""
RUN_ID="$(date +%s)"

cleanup() {
  local rc=$?
  trap '' INT TERM
  trap - EXIT
  stop_pid starter "$STARTER_PID" 15
  stop_pid worker "$WORKER_PID" 20
  stop_pid "Temporal dev server" "$TEMPORAL_PID" 20
  if [[ -n "$PG_DIR" ]]; then
    pg_stop "$PG_DIR" || warn "stopping PostgreSQL in $PG_DIR failed"
  fi
  if [[ -n "$WORK_DIR" ]]; then
    cp "$WORK_DIR"/*.log "$OUT_DIR"/ 2>/dev/null || true
    rm -rf "$WORK_DIR"
  fi
  exit "$rc"
}

start_stack() {
  local pg_port t_port t_metrics starter_port admin_port
  WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/fulfilment-memory.XXXXXX")"
  chmod 755 "$WORK_DIR" # as root, PostgreSQL runs as postgres and must traverse it
  temporal_ensure_cli
  unset_temporal_remote_env
  log "building bin/worker and bin/starter into $WORK_DIR"
  go build -o "$WORK_DIR/worker" ./worker
  go build -o "$WORK_DIR/starter" ./starter

  pg_port="$(pick_free_port)"
  PG_DIR="$WORK_DIR/pg"
  pg_start "$PG_DIR" "$pg_port"
  t_port="$(pick_free_port)"
  t_metrics="$(pick_free_port)"
  temporal_start "$WORK_DIR/temporal.log" "$t_port" "" "$t_metrics"
  temporal_wait_ready "$t_port" "$TEMPORAL_PID" "$WORK_DIR/temporal.log" 120 ||
    die "Temporal dev server did not start"
  temporal_ensure_search_attributes "$t_port" default

  starter_port="$(pick_free_port)"
  admin_port="$(pick_free_port)"
  export TEMPORAL_ADDRESS="127.0.0.1:$t_port" TEMPORAL_NAMESPACE=default
  export DATABASE_URL="postgres://app@127.0.0.1:$pg_port/fulfilment?sslmode=disable"
  export FULFILMENT_PROVIDERS=sandbox
  FULFILMENT_PAYLOAD_KEYS="memory-1:$(head -c 32 /dev/urandom | base64 -w0)"
  export FULFILMENT_PAYLOAD_KEYS
  export STARTER_ADDR="127.0.0.1:$starter_port" STARTER_URL="http://127.0.0.1:$starter_port"
  export FULFILMENT_ADMIN_ADDR="127.0.0.1:$admin_port"

  "$WORK_DIR/worker" migrate
  "$WORK_DIR/starter" demo seed --tokens-file "$WORK_DIR/tokens.env" >/dev/null
  set -a # the tokens are read by the curl helpers in subshells
  # shellcheck disable=SC1091 # written just above
  source "$WORK_DIR/tokens.env"
  set +a
  # Enough stock for every order, at the store itself: each order is picked there.
  "$PG_BIN/psql" "$DATABASE_URL" -XqAt -v ON_ERROR_STOP=1 \
    -c "update stock set quantity = 1000000 where location_id = 'berlin-mitte' and sku = 'WATCH-001'"

  start_detached "$WORK_DIR/worker.log" "$WORK_DIR/worker"
  WORKER_PID="$STARTED_PID"
  start_detached "$WORK_DIR/starter.log" "$WORK_DIR/starter"
  STARTER_PID="$STARTED_PID"
  wait_http_ok 127.0.0.1 "$starter_port" /readyz 90 "$STARTER_PID" || die "starter not ready (log $WORK_DIR/starter.log)"
  wait_http_ok 127.0.0.1 "$admin_port" /debug/vars 30 "$WORKER_PID" || die "worker admin endpoint not up (log $WORK_DIR/worker.log)"
}

# place_order N: one ship-to-store order; prints the HTTP status.
place_order() {
  local n="$1" id="M-$RUN_ID-$1"
  curl -sS -o /dev/null -w '%{http_code}\n' --max-time 60 -X POST "$STARTER_URL/v1/orders" \
    -H "Authorization: Bearer $CHECKOUT_TOKEN" -H 'Content-Type: application/json' \
    -d '{"order_id":"'"$id"'","customer":{"id":"C-'"$n"'","name":"Mia Schmidt","email":"mia@example.com","locale":"de-DE","time_zone":"Europe/Berlin"},"method":"ship_to_store","store_id":"berlin-mitte","currency":"EUR","payment_intent_id":"pi_mem_'"$RUN_ID"'_'"$n"'","lines":[{"sku":"WATCH-001","name":"Automatic watch","quantity":1,"unit_price":24900}]}' || echo 000
}

# complete_pick N: staff at berlin-mitte confirm order N's pick; prints the HTTP status.
complete_pick() {
  curl -sS -o /dev/null -w '%{http_code}\n' --max-time 60 -X POST \
    "$STARTER_URL/v1/stores/berlin-mitte/orders/M-$RUN_ID-$1/pick" \
    -H "Authorization: Bearer $STAFF_TOKEN_BERLIN_MITTE" -H 'Content-Type: application/json' \
    -d '{"lines":[{"sku":"WATCH-001","quantity":1}]}' || echo 000
}
export -f place_order complete_pick
export RUN_ID

# run_parallel FUNC FROM TO: FUNC for every number, MEMORY_CONCURRENCY at a time; prints
# "ok failed seconds".
run_parallel() {
  local fn="$1" from="$2" to="$3" began codes ok ms
  began="$(date +%s%N)"
  codes="$(seq "$from" "$to" | xargs -P "${MEMORY_CONCURRENCY:-8}" -I{} bash -c "$fn {}")"
  ok="$(grep -c '^20[01]$' <<<"$codes" || true)"
  ms=$((($(date +%s%N) - began) / 1000000))
  printf '%s %s %d.%03d\n' "$ok" "$(($(wc -l <<<"$codes") - ok))" $((ms / 1000)) $((ms % 1000))
}

# sample COUNT: the worker's memory with COUNT open orders, into OUT_DIR.
sample() {
  local count="$1" rss heap stack goroutines vars
  sleep 5 # let the last tasks and activities finish
  curl -sS -o "$OUT_DIR/heap-$count.pb.gz" "http://$FULFILMENT_ADMIN_ADDR/debug/pprof/heap?gc=1"
  vars="$(curl -sS "http://$FULFILMENT_ADMIN_ADDR/debug/vars")"
  heap="$(jq '.memstats.HeapAlloc' <<<"$vars")"
  stack="$(jq '.memstats.StackInuse' <<<"$vars")"
  rss="$(awk '/^VmRSS:/ {print $2}' "/proc/$WORKER_PID/status")"
  goroutines="$(curl -sS "http://$FULFILMENT_ADMIN_ADDR/debug/pprof/goroutine?debug=1" | sed -n 's/^goroutine profile: total //p')"
  go tool pprof -top -nodecount=25 "$OUT_DIR/heap-$count.pb.gz" >"$OUT_DIR/heap-$count.top" 2>/dev/null || true
  printf '%s\t%s\t%s\t%s\t%s\n' "$count" "$((rss / 1024))" "$((heap / 1024 / 1024))" "$((stack / 1024 / 1024))" "$goroutines" |
    tee -a "$OUT_DIR/memory.tsv"
}

main() {
  cd "$REPO"
  OUT_DIR="${1:-$(mktemp -d "${TMPDIR:-/tmp}/fulfilment-memory-out.XXXXXX")}"
  mkdir -p "$OUT_DIR"
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  start_stack
  log "worker pid $WORKER_PID, admin http://$FULFILMENT_ADMIN_ADDR, cache ${FULFILMENT_WORKFLOW_CACHE:-default}; results in $OUT_DIR"
  printf 'open_orders\trss_mb\theap_alloc_mb\tstack_inuse_mb\tgoroutines\n' | tee "$OUT_DIR/memory.tsv"
  local placed=0 count result
  for count in ${MEMORY_COUNTS:-0 1000 5000}; do
    if ((count > placed)); then
      result="$(run_parallel place_order $((placed + 1)) "$count")"
      log "placed orders $((placed + 1))..$count: ok failed seconds = $result"
      printf 'place %s..%s\t%s\n' $((placed + 1)) "$count" "$result" >>"$OUT_DIR/rates.txt"
      placed="$count"
    fi
    sample "$count"
  done
  if ((${MEMORY_PICKS:-200} > 0 && placed > 0)); then
    result="$(run_parallel complete_pick 1 "$((${MEMORY_PICKS:-200} < placed ? ${MEMORY_PICKS:-200} : placed))")"
    log "completed picks of the oldest orders: ok failed seconds = $result"
    printf 'pick 1..%s\t%s\n' "${MEMORY_PICKS:-200}" "$result" >>"$OUT_DIR/rates.txt"
    sample "$placed-after-picks"
  fi
  log "results in $OUT_DIR (memory.tsv, rates.txt, heap-*.top, heap-*.pb.gz)"
}

main "$@"
