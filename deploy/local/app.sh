# shellcheck shell=bash
# FULFILMENT_PAYLOAD_KEYS is read by the processes the sourcing script starts.
# shellcheck disable=SC2034
# Our own services (worker, starter) as make run and make cluster run them: the payload
# key, the API tokens, migrations and the demo seed, starting a service with its log, the
# demo orders and the order to place by hand. Source it after lib.sh; it defines functions
# only. The sourcing script sets DEV_DIR, KEY_FILE, TOKENS_FILE and, for the log markers,
# RUN_MARKER (default "make run").

if [[ -n "${_FULFILMENT_APP_SH:-}" ]]; then
  return 0
fi
_FULFILMENT_APP_SH=1

# ensure_payload_key: 32 random bytes, base64, generated once into $KEY_FILE.
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

# migrate_and_seed: the app schema (worker migrate) and the demo's stores, stock and API
# tokens (starter demo seed; tokens written once to $TOKENS_FILE), then the tokens loaded.
migrate_and_seed() {
  log "bin/worker migrate"
  "$REPO/bin/worker" migrate
  log "bin/starter demo seed"
  "$REPO/bin/starter" demo seed --tokens-file "$TOKENS_FILE"
  load_tokens "$TOKENS_FILE"
}

# tail_run_log FILE: the last lines this run wrote to FILE (after its "=== $RUN_MARKER"
# marker).
tail_run_log() {
  printf -- '--- %s ---\n' "$1" >&2
  awk -v m="=== ${RUN_MARKER:-make run} " 'index($0, m) == 1 {buf=""; n=0} {buf = buf $0 "\n"; n++} END{printf "%s", buf}' \
    "$1" 2>/dev/null | tail -n 30 >&2 || true
  printf -- '---\n' >&2
}

# start_service NAME [CMD...] -> sets STARTED_PID; logs to $DEV_DIR/NAME.log (and the
# terminal unless RUN_TEE=0). CMD defaults to bin/NAME.
start_service() {
  local name="$1" logfile="$DEV_DIR/$1.log"
  shift
  local cmd=("$@")
  if ((${#cmd[@]} == 0)); then
    cmd=("$REPO/bin/$name")
  fi
  printf '=== %s %s ===\n' "${RUN_MARKER:-make run}" "$(date -Is)" >>"$logfile"
  log "starting $name (log $logfile)"
  if [[ "${RUN_TEE:-1}" != 0 ]]; then
    start_detached_tee "$logfile" "[$name]" "${cmd[@]}"
  else
    start_detached "$logfile" "${cmd[@]}"
  fi
}

# place_demo_orders: the demo orders through the public API at $STARTER_URL (DEMO=0 skips).
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

# print_order_by_hand STARTER_URL: the two lines that place a new order (a new order ID
# each run, set as ORDER_ID by the first line), which the README's walkthrough uses.
print_order_by_hand() {
  local url="$1" token="${CHECKOUT_TOKEN:-<CHECKOUT_TOKEN from $TOKENS_FILE>}" body pi order_id
  pi="pi_demo_$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  order_id="A-$(random_digits)"
  body='{"order_id":"'"$order_id"'","customer":{"id":"C-1","name":"Mia Schmidt","email":"mia@example.com","locale":"de-DE","time_zone":"Europe/Berlin"},"method":"ship_to_store","store_id":"berlin-mitte","currency":"EUR","payment_intent_id":"'"$pi"'","lines":[{"sku":"WATCH-001","name":"Automatic watch","quantity":1,"unit_price":24900}]}'
  cat <<EOT
  Place order $order_id by hand (README, "An order by hand": paste both lines):
    ORDER_ID=$order_id
    curl -sS -X POST $url/v1/orders -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d '$body'
EOT
}

# ensure_ports_free PG_DIR PG_PORT HINT NAME:PORT...: every port listed must be free, or
# this exits naming each busy one and printing HINT. PG_PORT may be held by the
# PostgreSQL of PG_DIR itself, left over from an interrupted run: that one is reused.
ensure_ports_free() {
  local pg_dir="$1" pg_port="$2" hint="$3" entry name port busy=()
  shift 3
  for entry in "$@"; do
    name="${entry%:*}"
    port="${entry##*:}"
    port_in_use "$port" || continue
    if [[ "$port" == "$pg_port" ]] && pg_running "$pg_dir" &&
      [[ "$(pg_running_port "$pg_dir")" == "$pg_port" ]]; then
      continue
    fi
    busy+=("  127.0.0.1:$port ($name)")
  done
  if ((${#busy[@]} > 0)); then
    printf 'error: these ports are already in use by another process:\n' >&2
    printf '%s\n' "${busy[@]}" >&2
    printf '%s\n' "$hint" >&2
    exit 1
  fi
}

# refuse_second_run PATTERN NAME: refuses a second concurrent run on the same
# .dev directory: the process in $LOCK_FILE is alive and its command line
# matches PATTERN (run.sh, cluster/run.sh). NAME says which (make run, make cluster).
refuse_second_run() {
  local pid
  pid="$(cat "$LOCK_FILE" 2>/dev/null || true)"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null &&
    grep -q "$1" "/proc/$pid/cmdline" 2>/dev/null; then
    die "$2 is already running (pid $pid) on $DEV_DIR"
  fi
}
