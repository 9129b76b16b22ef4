#!/usr/bin/env bash
# Temporal CLI and dev server helpers.
#
#   temporal.sh ensure    build bin/temporal from the Go module proxy if it is missing
#
# Sourced (run.sh, test.sh): temporal_ensure_cli, temporal_start, temporal_wait_ready,
# temporal_ensure_search_attributes (the attributes come from workflows.SearchAttributes,
# through go run ./workflows/cmd/searchattrs).
# shellcheck source-path=SCRIPTDIR
# TEMPORAL_PID etc. are read by the scripts that source this file.
# shellcheck disable=SC2034
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TEMPORAL_CLI_MODULE="github.com/temporalio/cli/cmd/temporal"
TEMPORAL_CLI_VERSION="v1.5.1"
TEMPORAL_BIN="${TEMPORAL_BIN:-$REPO/bin/temporal}"

# Custom search attributes of the fulfilment workflows (NAME=TYPE), filled by
# temporal_search_attributes from workflows.SearchAttributes.
TEMPORAL_SEARCH_ATTRIBUTES=()

# Set by temporal_start.
TEMPORAL_PID=""

# temporal_ensure_cli: builds $TEMPORAL_BIN (pinned version) unless it already exists.
temporal_ensure_cli() {
  go_install_pinned "$TEMPORAL_BIN" "$TEMPORAL_CLI_MODULE" "$TEMPORAL_CLI_VERSION" "the Temporal CLI" "~5 min"
}

# temporal_search_attributes: fills TEMPORAL_SEARCH_ATTRIBUTES (once) from the Go list,
# workflows.SearchAttributes, printed by workflows/cmd/searchattrs. go run caches the
# built command, so after the first build this takes a fraction of a second.
temporal_search_attributes() {
  local out
  if ((${#TEMPORAL_SEARCH_ATTRIBUTES[@]} > 0)); then
    return 0
  fi
  command -v go >/dev/null 2>&1 || die "go is not on PATH; needed to list the search attributes"
  out="$(cd "$REPO" && go run ./workflows/cmd/searchattrs)" ||
    die "listing the search attributes failed (go run ./workflows/cmd/searchattrs)"
  [[ -n "$out" ]] || die "go run ./workflows/cmd/searchattrs printed no search attributes"
  mapfile -t TEMPORAL_SEARCH_ATTRIBUTES <<<"$out"
}

# temporal_start LOGFILE PORT UI_PORT METRICS_PORT [DB_FILE] [CODEC_URL]
# Starts the dev server in the background (own session); sets TEMPORAL_PID.
# UI_PORT empty = headless; DB_FILE empty = in memory.
temporal_start() {
  local logfile="$1" port="$2" ui_port="$3" metrics_port="$4" db_file="${5:-}" codec="${6:-}"
  local args=(server start-dev --ip 127.0.0.1 --port "$port" --metrics-port "$metrics_port"
    --log-level warn)
  local sa
  temporal_search_attributes
  if [[ -n "$ui_port" ]]; then
    args+=(--ui-port "$ui_port")
  else
    args+=(--headless)
  fi
  if [[ -n "$db_file" ]]; then
    args+=(--db-filename "$db_file" --sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=1)
  fi
  if [[ -n "$codec" ]]; then
    args+=(--ui-codec-endpoint "$codec")
  fi
  for sa in "${TEMPORAL_SEARCH_ATTRIBUTES[@]}"; do
    args+=(--search-attribute "$sa")
  done
  log "starting Temporal dev server on 127.0.0.1:$port (log $logfile)"
  start_detached "$logfile" "$TEMPORAL_BIN" "${args[@]}"
  TEMPORAL_PID="$STARTED_PID"
}

# temporal_wait_ready PORT PID LOGFILE [TIMEOUT_SECONDS]: waits for the frontend to be
# healthy; on failure shows the log and fails.
temporal_wait_ready() {
  local port="$1" pid="$2" logfile="$3" timeout="${4:-90}" deadline
  deadline=$((SECONDS + timeout))
  while ((SECONDS < deadline)); do
    if ! pid_alive "$pid"; then
      _temporal_show_log "$logfile"
      printf 'error: the Temporal dev server exited during startup\n' >&2
      return 1
    fi
    if port_in_use "$port" &&
      "$TEMPORAL_BIN" operator cluster health --address "127.0.0.1:$port" \
        --command-timeout 2s >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.5
  done
  _temporal_show_log "$logfile"
  printf 'error: the Temporal dev server was not ready after %ss\n' "$timeout" >&2
  return 1
}

_temporal_show_log() {
  printf -- '--- last lines of %s ---\n' "$1" >&2
  tail -n 40 "$1" >&2 2>/dev/null || true
  printf -- '---\n' >&2
}

# temporal_ensure_search_attributes PORT [NAMESPACE]: creates the custom search attributes
# that are not registered yet. start-dev's --search-attribute flags only take effect when
# the namespace is created (a new SQLite file or in-memory), so an existing SQLite file
# from an older flag list needs this.
temporal_ensure_search_attributes() {
  local port="$1" ns="${2:-default}" existing sa name type
  local create=()
  temporal_search_attributes
  existing="$("$TEMPORAL_BIN" operator search-attribute list --address "127.0.0.1:$port" \
    --namespace "$ns" -o json)" || die "listing search attributes failed"
  for sa in "${TEMPORAL_SEARCH_ATTRIBUTES[@]}"; do
    name="${sa%%=*}"
    type="${sa#*=}"
    if ! grep -q "\"$name\"" <<<"$existing"; then
      create+=(--name "$name" --type "$type")
    fi
  done
  if ((${#create[@]} == 0)); then
    return 0
  fi
  log "registering search attributes: ${create[*]}"
  "$TEMPORAL_BIN" operator search-attribute create --address "127.0.0.1:$port" \
    --namespace "$ns" "${create[@]}" >/dev/null ||
    die "registering search attributes failed"
}

temporal_main() {
  case "${1:-}" in
    ensure)
      temporal_ensure_cli
      ;;
    *)
      die "usage: $0 ensure"
      ;;
  esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  temporal_main "$@"
fi
