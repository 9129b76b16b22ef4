#!/usr/bin/env bash
# `make cluster-test`: the scale-out test. Starts the platform of make cluster (PostgreSQL,
# the Temporal server as four processes; no Web UI) in a temporary directory on free ports,
# then runs the chaos suite attached to it (go run ./chaos -temporal-address ...): two
# workers and two starters of its own, orders of every kind, worker a and starter b killed
# with SIGKILL for good, worker c joining, worker b stopped with SIGTERM (exit 0 within its
# grace period), then every invariant of the chaos suite. Exit code 1 on any violation.
#
# Environment (flags after `--` go to the suite: deploy/cluster/test.sh -orders 50):
#   CHAOS_ORDERS       orders to place (default here 200)
#   CHAOS_SEED         seed of the run (default: random, printed)
#   CLUSTER_TEST_KEEP=1  keep the temporary directory (cluster logs and data) even on success
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

# shellcheck source=../local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../local/lib.sh"
# shellcheck source=../local/postgres.sh
source "$(dirname "${BASH_SOURCE[0]}")/../local/postgres.sh"
# shellcheck source=build.sh
source "$(dirname "${BASH_SOURCE[0]}")/build.sh"

CLUSTER_PID=""
TEST_DIR=""
KEEP="${CLUSTER_TEST_KEEP:-0}"

cleanup() {
  local rc=$?
  trap '' INT TERM PIPE
  set +e
  trap - EXIT
  if [[ -n "$CLUSTER_PID" ]]; then
    stop_pid "the cluster (deploy/cluster/run.sh)" "$CLUSTER_PID" 120
  fi
  if [[ -n "$TEST_DIR" ]]; then
    if ((rc != 0)) || [[ "$KEEP" == 1 ]]; then
      log "cluster logs and data kept in $TEST_DIR"
    else
      rm -rf "$TEST_DIR"
    fi
  fi
  exit "$rc"
}

# pick_port_base: a base B such that B+0..3, B+10..13 and B+20..23 are free (Temporal's
# internal ports in run.sh), below 32768: Temporal keeps membership ports in a smallint.
pick_port_base() {
  local base i ok tries
  for ((tries = 0; tries < 50; tries++)); do
    base=$((21000 + (RANDOM % 110) * 100))
    ok=1
    for i in 0 1 2 3 10 11 12 13 20 21 22 23; do
      if port_in_use $((base + i)); then
        ok=0
        break
      fi
    done
    if ((ok)); then
      printf '%s\n' "$base"
      return 0
    fi
  done
  die "no free block of ports for the Temporal services"
}

main() {
  local ready deadline rc=0
  cd "$REPO"
  trap cleanup EXIT
  trap 'exit 130' INT TERM HUP
  cluster_build_ensure
  pg_ensure_installed
  unset_temporal_remote_env

  TEST_DIR="$(mktemp -d "${TMPDIR:-/tmp}/fulfilment-cluster-test-XXXXXX")"
  chmod 755 "$TEST_DIR" # PostgreSQL runs as the postgres user when we are root
  ready="$TEST_DIR/ready.env"
  log "starting the cluster platform in $TEST_DIR (log $TEST_DIR/cluster.log)"
  CLUSTER_DIR="$TEST_DIR/cluster" CLUSTER_APPS=0 CLUSTER_READY_FILE="$ready" RUN_TEE=0 \
    CLUSTER_PG_PORT="$(pick_free_port)" CLUSTER_FRONTEND_PORT="$(pick_free_port)" \
    CLUSTER_FRONTEND_HTTP_PORT="$(pick_free_port)" CLUSTER_PORT_BASE="$(pick_port_base)" \
    "$REPO/deploy/cluster/run.sh" >"$TEST_DIR/cluster.log" 2>&1 &
  CLUSTER_PID=$!
  deadline=$((SECONDS + 300))
  while [[ ! -s "$ready" ]]; do
    if ! pid_alive "$CLUSTER_PID"; then
      tail -n 40 "$TEST_DIR/cluster.log" >&2
      die "the cluster did not start (log $TEST_DIR/cluster.log)"
    fi
    ((SECONDS < deadline)) || die "the cluster was not ready after 300s (log $TEST_DIR/cluster.log)"
    sleep 1
  done
  load_ready_file "$ready"
  log "cluster up: Temporal $CLUSTER_TEMPORAL_ADDRESS; go run ./chaos attached (orders ${CHAOS_ORDERS:-200}, seed ${CHAOS_SEED:-random})"
  CHAOS_ORDERS="${CHAOS_ORDERS:-200}" go run ./chaos -temporal-address "$CLUSTER_TEMPORAL_ADDRESS" \
    -database-url "$CLUSTER_DATABASE_URL" "$@" || rc=$?
  return "$rc"
}

# load_ready_file FILE: CLUSTER_TEMPORAL_ADDRESS and CLUSTER_DATABASE_URL from run.sh's
# ready file.
load_ready_file() {
  local line
  while IFS= read -r line; do
    case "$line" in
      TEMPORAL_ADDRESS=*) CLUSTER_TEMPORAL_ADDRESS="${line#*=}" ;;
      DATABASE_URL=*) CLUSTER_DATABASE_URL="${line#*=}" ;;
    esac
  done <"$1"
  [[ -n "${CLUSTER_TEMPORAL_ADDRESS:-}" && -n "${CLUSTER_DATABASE_URL:-}" ]] ||
    die "the ready file $1 lacks TEMPORAL_ADDRESS or DATABASE_URL"
}

main "$@"
