#!/usr/bin/env bash
# `make cluster`: the system on the real Temporal engine, shaped like production, on this
# machine. PostgreSQL (Temporal's `temporal` and `temporal_visibility` databases, and our
# `fulfilment` database), the Temporal server's frontend, history, matching and internal
# worker as four processes, the Web UI server, two workers and two starters of ours. State
# lives in .dev/cluster/ and is reused by the next run; Ctrl-C stops everything it started,
# in order. docs/cluster.md describes it.
#
# Environment:
#   DEMO=0              do not place the demo orders
#   RUN_TEE=0           do not copy worker/starter logs to the terminal (always in .dev/cluster/*.log)
#   CLUSTER_DIR         state directory (default .dev/cluster)
#   CLUSTER_APPS=0      only the platform: PostgreSQL, Temporal, no Web UI, none of our services
#                       (the scale-out test starts its own workers and starters on it)
#   CLUSTER_READY_FILE  written (KEY=value: TEMPORAL_ADDRESS, DATABASE_URL...) once all is up
#   CLUSTER_PG_PORT, CLUSTER_FRONTEND_PORT, CLUSTER_PORT_BASE ... see "Ports" below
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

# shellcheck source=../local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../local/lib.sh"
# shellcheck source=../local/postgres.sh
source "$(dirname "${BASH_SOURCE[0]}")/../local/postgres.sh"
# shellcheck source=../local/temporal.sh
source "$(dirname "${BASH_SOURCE[0]}")/../local/temporal.sh"
# shellcheck source=../local/app.sh
source "$(dirname "${BASH_SOURCE[0]}")/../local/app.sh"
# shellcheck source=build.sh
source "$(dirname "${BASH_SOURCE[0]}")/build.sh"

RUN_MARKER="make cluster"
DEV_DIR="${CLUSTER_DIR:-$REPO/.dev/cluster}"
PG_DIR="$DEV_DIR/pg"
CONFIG_DIR="$DEV_DIR/config"
TOKENS_FILE="$DEV_DIR/tokens.env"
KEY_FILE="$DEV_DIR/payload.key"
LOCK_FILE="$DEV_DIR/run.pid"
APPS="${CLUSTER_APPS:-1}"

# Ports. The frontend, the Web UI and the first starter sit where make run puts the dev
# server, its UI and its starter, so that the README's walkthrough and `bin/temporal`
# without --address work unchanged (make run and make cluster exclude each other).
# Temporal's internal ports are PORT_BASE + 0..9 (gRPC), + 10..19 (membership), + 20..29
# (Prometheus metrics); keep it below 32740 (Temporal stores membership ports as smallint).
PG_PORT="${CLUSTER_PG_PORT:-55433}"
FRONTEND_PORT="${CLUSTER_FRONTEND_PORT:-7233}"
FRONTEND_HTTP_PORT="${CLUSTER_FRONTEND_HTTP_PORT:-7243}"
PORT_BASE="${CLUSTER_PORT_BASE:-7300}"
UI_PORT="${CLUSTER_UI_PORT:-8233}"
STARTER_PORTS=(8080 8081)
STARTER_ADMIN_PORTS=(6061 6063)
WORKER_ADMIN_PORTS=(6060 6062)
STARTER_URL="http://127.0.0.1:${STARTER_PORTS[0]}"
TEMPORAL_SERVICES=(history matching frontend worker)

# Process IDs, by name (history, matching, frontend, worker = Temporal's; ui; worker-1...).
declare -A PIDS=()
STOP_ORDER=(starter-2 starter-1 worker-2 worker-1 ui worker frontend matching history)
PG_OWNED=0

cleanup() {
  local rc=$? name grace
  trap '' INT TERM PIPE
  set +e
  trap - EXIT
  printf '\n' >&2
  for name in "${STOP_ORDER[@]}"; do
    [[ -n "${PIDS[$name]:-}" ]] || continue
    grace=20
    [[ "$name" == worker-* ]] && grace=45
    stop_pid "$(_what "$name")" "${PIDS[$name]}" "$grace"
  done
  if ((PG_OWNED)); then
    pg_stop "$PG_DIR" || warn "stopping PostgreSQL failed; run: deploy/local/postgres.sh stop $PG_DIR"
  fi
  if [[ "$(cat "$LOCK_FILE" 2>/dev/null)" == "$$" ]]; then
    rm -f "$LOCK_FILE"
  fi
  if [[ -n "${CLUSTER_READY_FILE:-}" ]]; then
    rm -f "$CLUSTER_READY_FILE"
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

# _what NAME: how a process is called in messages.
_what() {
  case "$1" in
    history | matching | frontend) printf 'Temporal %s\n' "$1" ;;
    worker) printf 'Temporal internal worker\n' ;;
    ui) printf 'Temporal Web UI server\n' ;;
    *) printf '%s\n' "$1" ;;
  esac
}

# _port SERVICE KIND: Temporal's internal ports (KIND grpc, membership, metrics).
_port() {
  local i
  case "$1" in
    frontend) i=0 ;; history) i=1 ;; matching) i=2 ;; worker) i=3 ;;
  esac
  case "$2" in
    grpc) printf '%s\n' $((PORT_BASE + i)) ;;
    membership) printf '%s\n' $((PORT_BASE + 10 + i)) ;;
    metrics) printf '%s\n' $((PORT_BASE + 20 + i)) ;;
  esac
}

check_not_running() { refuse_second_run 'cluster/run.sh' 'make cluster'; }

# check_ports: every port we bind must be free (PostgreSQL's may be held by this
# directory's own server left over from an interrupted run; that one is reused).
check_ports() {
  local entries=("PostgreSQL:$PG_PORT" "Temporal frontend:$FRONTEND_PORT"
    "Temporal frontend HTTP:$FRONTEND_HTTP_PORT") svc kind i
  for svc in "${TEMPORAL_SERVICES[@]}"; do
    for kind in membership metrics; do
      entries+=("Temporal $svc $kind:$(_port "$svc" "$kind")")
    done
    [[ "$svc" == frontend ]] || entries+=("Temporal $svc gRPC:$(_port "$svc" grpc)")
  done
  if ((APPS)); then
    entries+=("Temporal Web UI:$UI_PORT")
    for i in 0 1; do
      entries+=("starter-$((i + 1)):${STARTER_PORTS[i]}" "starter-$((i + 1)) admin:${STARTER_ADMIN_PORTS[i]}"
        "worker-$((i + 1)) admin:${WORKER_ADMIN_PORTS[i]}")
    done
  fi
  ensure_ports_free "$PG_DIR" "$PG_PORT" "Is make run running? It uses some of the same ports (stop it with Ctrl-C). Leftovers of a
killed make cluster show up in: ps aux | grep -E 'bin/(temporal|worker|starter)|postgres -D'" "${entries[@]}"
}

build() {
  cluster_build_ensure
  log "building bin/worker and bin/starter"
  go build -o "$REPO/bin/worker" ./worker
  go build -o "$REPO/bin/starter" ./starter
}

# psql_value DB SQL: the single value SQL returns.
psql_value() {
  "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_ROLE" -d "$1" -XtAq -v ON_ERROR_STOP=1 -c "$2"
}

# setup_temporal_schema: Temporal's two databases, their schemas set up once and brought to
# the version this server ships (update-schema is a no-op when they are current). The
# schemas are the server module's schema/postgresql/v12/{temporal,visibility}, embedded
# in temporal-sql-tool (--schema-name), so the module cache is not needed at run time.
setup_temporal_schema() {
  local db name sql=("$TEMPORAL_SQL_TOOL_BIN" --plugin postgres12 --ep 127.0.0.1 -p "$PG_PORT" -u "$PG_ROLE")
  local logfile="$DEV_DIR/temporal-sql-tool.log"
  for db in temporal temporal_visibility; do
    name=postgresql/v12/temporal
    [[ "$db" == temporal_visibility ]] && name=postgresql/v12/visibility
    PG_DB_NAME="$db" pg_create_db "$PG_PORT"
    if [[ "$(psql_value "$db" "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'")" == 0 ]]; then
      log "temporal-sql-tool setup-schema ($db)"
      "${sql[@]}" --db "$db" setup-schema -v 0.0 >>"$logfile" 2>&1 ||
        die "temporal-sql-tool setup-schema for $db failed (log $logfile)"
    fi
    "${sql[@]}" --db "$db" update-schema --schema-name "$name" >>"$logfile" 2>&1 ||
      die "temporal-sql-tool update-schema for $db failed (log $logfile)"
    log "database $db at schema version $(psql_value "$db" "SELECT curr_version FROM schema_version LIMIT 1")"
  done
}

# render_configs: one server config per service process (they differ in the metrics port),
# the dynamic config, and the Web UI server's config.
render_configs() {
  local svc out
  mkdir -p "$CONFIG_DIR" "$DEV_DIR/ui/config"
  cp "$REPO/deploy/cluster/dynamicconfig.yaml" "$CONFIG_DIR/dynamicconfig.yaml"
  for svc in "${TEMPORAL_SERVICES[@]}"; do
    out="$CONFIG_DIR/$svc.yaml"
    sed -e "s|@PG_PORT@|$PG_PORT|g" -e "s|@PG_USER@|$PG_ROLE|g" \
      -e "s|@METRICS_PORT@|$(_port "$svc" metrics)|g" \
      -e "s|@FRONTEND_PORT@|$FRONTEND_PORT|g" -e "s|@FRONTEND_HTTP_PORT@|$FRONTEND_HTTP_PORT|g" \
      -e "s|@FRONTEND_MEMBERSHIP_PORT@|$(_port frontend membership)|g" \
      -e "s|@HISTORY_PORT@|$(_port history grpc)|g" -e "s|@HISTORY_MEMBERSHIP_PORT@|$(_port history membership)|g" \
      -e "s|@MATCHING_PORT@|$(_port matching grpc)|g" -e "s|@MATCHING_MEMBERSHIP_PORT@|$(_port matching membership)|g" \
      -e "s|@WORKER_PORT@|$(_port worker grpc)|g" -e "s|@WORKER_MEMBERSHIP_PORT@|$(_port worker membership)|g" \
      -e "s|@DYNAMIC_CONFIG@|$CONFIG_DIR/dynamicconfig.yaml|g" \
      "$REPO/deploy/cluster/temporal.yaml.tmpl" >"$out.tmp"
    if grep -q '@[A-Z_]*@' "$out.tmp"; then
      die "unfilled placeholders in $out: $(grep -o '@[A-Z_]*@' "$out.tmp" | sort -u | tr '\n' ' ')"
    fi
    mv "$out.tmp" "$out"
  done
  sed -e "s|@FRONTEND_PORT@|$FRONTEND_PORT|g" -e "s|@UI_PORT@|$UI_PORT|g" \
    -e "s|@CODEC_URL@|$STARTER_URL/codec|g" \
    "$REPO/deploy/cluster/ui.yaml.tmpl" >"$DEV_DIR/ui/config/cluster.yaml"
}

# start_temporal: the four services. History starts alone first: the first process on an
# empty database writes the cluster metadata, and two doing it at once makes one fail.
start_temporal() {
  local svc logfile
  for svc in "${TEMPORAL_SERVICES[@]}"; do
    logfile="$DEV_DIR/temporal-$svc.log"
    printf '=== %s %s ===\n' "$RUN_MARKER" "$(date -Is)" >>"$logfile"
    log "starting $(_what "$svc") (log $logfile)"
    start_detached "$logfile" "$TEMPORAL_SERVER_BIN" --config-file "$CONFIG_DIR/$svc.yaml" \
      --allow-no-auth start --service "$svc"
    PIDS[$svc]="$STARTED_PID"
    if [[ "$svc" == history ]]; then
      wait_port "$(_port history grpc)" "$svc" 120
    fi
  done
  wait_port "$FRONTEND_PORT" frontend 120
  temporal_wait_ready "$FRONTEND_PORT" "${PIDS[frontend]}" "$DEV_DIR/temporal-frontend.log" 120 ||
    die "the Temporal frontend did not become healthy"
  for svc in "${TEMPORAL_SERVICES[@]}"; do
    pid_alive "${PIDS[$svc]}" || {
      show_temporal_log "$svc"
      die "$(_what "$svc") exited during startup (log $DEV_DIR/temporal-$svc.log)"
    }
  done
}

# wait_port PORT SERVICE TIMEOUT: waits until the Temporal service listens on PORT; fails
# with the end of its log when it exits first or takes too long.
wait_port() {
  local port="$1" svc="$2" deadline=$((SECONDS + $3))
  while ! port_in_use "$port"; do
    if ! pid_alive "${PIDS[$svc]}"; then
      show_temporal_log "$svc"
      die "$(_what "$svc") exited during startup (log $DEV_DIR/temporal-$svc.log)"
    fi
    if ((SECONDS >= deadline)); then
      show_temporal_log "$svc"
      die "$(_what "$svc") did not listen on 127.0.0.1:$port within $3s"
    fi
    sleep 0.3
  done
}

# show_temporal_log SERVICE: the last lines of this run's log of a Temporal service, each
# cut short (the server logs JSON with stack traces).
show_temporal_log() {
  tail_run_log "$DEV_DIR/temporal-$1.log" 2>&1 | cut -c1-400 >&2
}

# ensure_namespace: namespace "default" (3 days' retention of closed orders' histories)
# and the custom search attributes of the order workflows, in PostgreSQL visibility.
ensure_namespace() {
  local addr="127.0.0.1:$FRONTEND_PORT" i
  if ! "$TEMPORAL_BIN" operator namespace describe --address "$addr" -n default >/dev/null 2>&1; then
    log "creating namespace default"
    # The frontend may answer before history has its shards: retry for a while.
    for ((i = 0; i < 60; i++)); do
      if "$TEMPORAL_BIN" operator namespace create --address "$addr" -n default --retention 72h \
        >>"$DEV_DIR/temporal-cli.log" 2>&1; then
        break
      fi
      sleep 1
    done
    ((i < 60)) || die "creating namespace default failed (log $DEV_DIR/temporal-cli.log)"
  fi
  for ((i = 0; i < 60; i++)); do
    if "$TEMPORAL_BIN" workflow list --address "$addr" -n default --limit 1 >/dev/null 2>&1; then
      break
    fi
    sleep 1
  done
  ((i < 60)) || die "namespace default does not answer a workflow list"
  temporal_ensure_search_attributes "$FRONTEND_PORT" default
}

start_ui() {
  local logfile="$DEV_DIR/ui.log"
  printf '=== %s %s ===\n' "$RUN_MARKER" "$(date -Is)" >>"$logfile"
  log "starting the Temporal Web UI server on 127.0.0.1:$UI_PORT (log $logfile)"
  start_detached "$logfile" "$TEMPORAL_UI_SERVER_BIN" --root "$DEV_DIR/ui" --config config --env cluster start
  PIDS[ui]="$STARTED_PID"
}

export_env() {
  export TEMPORAL_ADDRESS="127.0.0.1:$FRONTEND_PORT"
  export TEMPORAL_NAMESPACE=default
  TEMPORAL_METRICS_URL="http://127.0.0.1:$(_port frontend metrics)/metrics"
  export TEMPORAL_METRICS_URL
  export DATABASE_URL="postgres://$PG_ROLE@127.0.0.1:$PG_PORT/fulfilment?sslmode=disable"
  export FULFILMENT_PROVIDERS=sandbox
  export STARTER_URL
  # Every link in messages points at the first starter (a load balancer's address in
  # production).
  export STARTER_PUBLIC_URL="$STARTER_URL"
  export FULFILMENT_SANDBOX_TRACKING_URL="$STARTER_URL/dev/tracking/"
}

start_apps() {
  local i n
  for i in 0 1; do
    n=$((i + 1))
    start_service "worker-$n" env "FULFILMENT_ADMIN_ADDR=127.0.0.1:${WORKER_ADMIN_PORTS[i]}" "$REPO/bin/worker"
    PIDS[worker-$n]="$STARTED_PID"
  done
  for i in 0 1; do
    n=$((i + 1))
    start_service "starter-$n" env "STARTER_ADDR=127.0.0.1:${STARTER_PORTS[i]}" \
      "STARTER_ADMIN_ADDR=127.0.0.1:${STARTER_ADMIN_PORTS[i]}" "$REPO/bin/starter"
    PIDS[starter-$n]="$STARTED_PID"
  done
  for i in 0 1; do
    n=$((i + 1))
    if ! wait_http_ok 127.0.0.1 "${STARTER_PORTS[i]}" /readyz 90 "${PIDS[starter-$n]}"; then
      tail_run_log "$DEV_DIR/starter-$n.log"
      die "starter-$n did not answer 200 on http://127.0.0.1:${STARTER_PORTS[i]}/readyz (log $DEV_DIR/starter-$n.log)"
    fi
    # The worker's /readyz: polling, and Temporal and PostgreSQL answer.
    if ! wait_http_ok 127.0.0.1 "${WORKER_ADMIN_PORTS[i]}" /readyz 90 "${PIDS[worker-$n]}"; then
      tail_run_log "$DEV_DIR/worker-$n.log"
      die "worker-$n did not answer 200 on http://127.0.0.1:${WORKER_ADMIN_PORTS[i]}/readyz (log $DEV_DIR/worker-$n.log)"
    fi
  done
  if ! wait_http_ok 127.0.0.1 "$UI_PORT" / 60 "${PIDS[ui]}"; then
    tail_run_log "$DEV_DIR/ui.log"
    die "the Web UI server did not answer on http://127.0.0.1:$UI_PORT (log $DEV_DIR/ui.log)"
  fi
}

write_ready_file() {
  local file="${CLUSTER_READY_FILE:-}"
  [[ -n "$file" ]] || return 0
  cat >"$file.tmp" <<EOF
TEMPORAL_ADDRESS=127.0.0.1:$FRONTEND_PORT
DATABASE_URL=postgres://$PG_ROLE@127.0.0.1:$PG_PORT/fulfilment?sslmode=disable
CLUSTER_DIR=$DEV_DIR
EOF
  mv "$file.tmp" "$file"
}

print_summary() {
  cat <<EOF

  Fulfilment is running on a Temporal cluster (server $TEMPORAL_SERVER_VERSION: frontend, history,
  matching and internal worker as separate processes; PostgreSQL persistence and visibility).
    Temporal Web UI   http://127.0.0.1:$UI_PORT  (search e.g. OrderStage="ready_for_pickup")
    Temporal frontend 127.0.0.1:$FRONTEND_PORT  (bin/temporal workflow list --query 'OrderStage="payment_captured"')
    starter API       $STARTER_URL  and  http://127.0.0.1:${STARTER_PORTS[1]}  (same API, same database)
    store console     $STARTER_URL/store/
    sandbox outbox    $STARTER_URL/dev/outbox
    workers           worker-1 and worker-2 on task queue fulfilment; profiles http://127.0.0.1:${WORKER_ADMIN_PORTS[0]}/debug/pprof/, :${WORKER_ADMIN_PORTS[1]}
    worker metrics    http://127.0.0.1:${WORKER_ADMIN_PORTS[0]}/metrics, :${WORKER_ADMIN_PORTS[1]}  (starters: $STARTER_URL/metrics)
    starter profiles  http://127.0.0.1:${STARTER_ADMIN_PORTS[0]}/debug/pprof/, :${STARTER_ADMIN_PORTS[1]}
    tokens            $TOKENS_FILE
    logs              $DEV_DIR/{worker-1,worker-2,starter-1,starter-2,ui,temporal-*}.log
    DATABASE_URL      $DATABASE_URL
    Temporal's DBs    temporal, temporal_visibility on 127.0.0.1:$PG_PORT (data $PG_DIR)

$(print_order_by_hand "$STARTER_URL")
  For the walkthrough's other steps, load this cluster's tokens:  set -a; . $TOKENS_FILE; set +a

  Ctrl-C stops everything.

EOF
}

# wait_for_exit: blocks until Ctrl-C (trap) or until a process dies. A worker or starter
# of ours may go (kill one: the other carries the load, as in production); make cluster
# stops when the last of either kind, a Temporal service or the UI server exits.
wait_for_exit() {
  local name pids
  while true; do
    pids=()
    for name in "${!PIDS[@]}"; do
      pids+=("${PIDS[$name]}")
    done
    wait -n "${pids[@]}" 2>/dev/null || true
    for name in "${!PIDS[@]}"; do
      pid_alive "${PIDS[$name]}" && continue
      case "$name" in
        worker-* | starter-*)
          warn "$name (pid ${PIDS[$name]}) exited; the other ${name%-*} carries on (log $DEV_DIR/$name.log)"
          unset "PIDS[$name]"
          if ! _any_left "${name%-*}"; then
            die "no ${name%-*} is left"
          fi
          ;;
        history | matching | frontend | worker)
          show_temporal_log "$name"
          die "$(_what "$name") (pid ${PIDS[$name]}) exited unexpectedly"
          ;;
        *)
          tail_run_log "$DEV_DIR/$name.log"
          die "$(_what "$name") (pid ${PIDS[$name]}) exited unexpectedly"
          ;;
      esac
    done
  done
}

# _any_left KIND: true while a process named KIND-N (worker-1...) runs.
_any_left() {
  local name
  for name in "${!PIDS[@]}"; do
    [[ "$name" == "$1"-* ]] && return 0
  done
  return 1
}

main() {
  cd "$REPO"
  mkdir -p "$DEV_DIR" "$REPO/bin"
  DEV_DIR="$(cd "$DEV_DIR" && pwd)"
  PG_DIR="$DEV_DIR/pg" CONFIG_DIR="$DEV_DIR/config" TOKENS_FILE="$DEV_DIR/tokens.env"
  KEY_FILE="$DEV_DIR/payload.key" LOCK_FILE="$DEV_DIR/run.pid"
  check_not_running
  check_ports
  printf '%s\n' "$$" >"$LOCK_FILE"
  trap cleanup EXIT
  trap on_signal INT TERM HUP

  unset_temporal_remote_env
  build
  PG_OWNED=1
  pg_start "$PG_DIR" "$PG_PORT"
  setup_temporal_schema
  render_configs
  start_temporal
  ensure_namespace
  export_env
  if ((APPS)); then
    start_ui
    ensure_payload_key
    migrate_and_seed
    start_apps
    place_demo_orders
    print_summary
  else
    log "platform ready: Temporal at $TEMPORAL_ADDRESS, PostgreSQL at 127.0.0.1:$PG_PORT"
  fi
  write_ready_file
  wait_for_exit
}

main "$@"
