# shellcheck shell=bash
# Globals such as STARTED_PID are read by the scripts that source this file.
# shellcheck disable=SC2034
# Shared helpers for the deploy/local scripts. Source it; it defines functions only.

if [[ -n "${_FULFILMENT_LIB_SH:-}" ]]; then
  return 0
fi
_FULFILMENT_LIB_SH=1

# REPO is the repository root (deploy/local/../..).
REPO="${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"

log() {
  printf '==> %s\n' "$*" >&2
}

warn() {
  printf 'warning: %s\n' "$*" >&2
}

die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# go_install_pinned BIN MODULE VERSION WHAT HINT [LOGNAME]: builds the pinned tool
# MODULE@VERSION into BIN's directory with go install, unless BIN already exists (reused
# once built). WHAT names it in messages; HINT says how long the first build takes. go's
# own output (hundreds of "go: downloading" lines) goes to .dev/build-LOGNAME.log (default
# BIN's name); the terminal gets a line every ~15 s saying what is being done and for how
# long.
go_install_pinned() {
  local bin="$1" module="$2" version="$3" what="$4" hint="$5" logname="${6:-}"
  local logfile pid rc=0 started first
  if [[ -x "$bin" ]]; then
    return 0
  fi
  command -v go >/dev/null 2>&1 || die "go is not on PATH; needed to build $what"
  mkdir -p "$(dirname "$bin")" "$REPO/.dev"
  logfile="$REPO/.dev/build-${logname:-$(basename "$bin")}.log"
  log "building $what $version into $(dirname "$bin") (first time only, $hint)"
  log "go's output goes to $logfile"
  printf '=== go install %s@%s %s ===\n' "$module" "$version" "$(date -Is)" >>"$logfile"
  first=$(($(wc -l <"$logfile")))
  GOBIN="$(cd "$(dirname "$bin")" && pwd)" go install "$module@$version" >>"$logfile" 2>&1 &
  pid=$!
  started=$SECONDS
  wait_build "$pid" "$logfile" "$first" "$what" || rc=$?
  if ((rc != 0)); then
    printf -- '--- last lines of %s ---\n' "$logfile" >&2
    tail -n 20 "$logfile" >&2 || true
    printf -- '---\n' >&2
    die "building $what failed (go install $module@$version; log $logfile)"
  fi
  [[ -x "$bin" ]] || die "go install succeeded but $bin is missing"
  log "built $what in $(_elapsed $((SECONDS - started)))"
}

# wait_build PID LOGFILE FIRST WHAT: waits for a background go build (PID) whose output goes
# to LOGFILE from line FIRST on, printing a line every ~15 s saying what is being done (go
# prints a line per module it downloads and nothing while it compiles) and for how long;
# returns the build's exit status.
wait_build() {
  local pid="$1" logfile="$2" first="$3" what="$4" started=$SECONDS next phase downloads seen=0 rc=0
  next=$((SECONDS + 15))
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if ((SECONDS >= next)) && kill -0 "$pid" 2>/dev/null; then
      downloads="$(tail -n "+$first" "$logfile" | grep -c '^go: downloading' || true)"
      if ((${downloads:-0} > seen)); then
        phase="downloading modules (${downloads} so far)"
      else
        phase="compiling (${downloads:-0} modules downloaded)"
      fi
      seen="${downloads:-0}"
      log "still building $what: $phase, $(_elapsed $((SECONDS - started))) elapsed"
      next=$((SECONDS + 15))
    fi
  done
  wait "$pid" || rc=$?
  return "$rc"
}

# _elapsed SECONDS: prints "4m05s" or "12s".
_elapsed() {
  if (($1 >= 60)); then
    printf '%dm%02ds' $(($1 / 60)) $(($1 % 60))
  else
    printf '%ds' "$1"
  fi
}

is_root() {
  [[ "${EUID:-$(id -u)}" -eq 0 ]]
}

# port_in_use PORT: true if something accepts TCP connections on 127.0.0.1:PORT.
port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# unset_temporal_remote_env: drops Temporal Cloud / TLS settings (envconfig variables)
# from the environment, for processes that talk to a local dev server.
unset_temporal_remote_env() {
  local name
  while IFS= read -r name; do
    case "$name" in
      TEMPORAL_API_KEY | TEMPORAL_TLS* | TEMPORAL_PROFILE | TEMPORAL_GRPC_META_* | TEMPORAL_CODEC_*)
        unset "$name"
        ;;
    esac
  done < <(compgen -e)
}

# pick_free_port: prints a random port in 20000-39999 that nothing listens on and that
# this shell has not handed out before (tracked in _PICKED_PORTS).
_PICKED_PORTS=" "
pick_free_port() {
  local port i
  for ((i = 0; i < 200; i++)); do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 20000))
    if [[ "$_PICKED_PORTS" == *" $port "* ]] || port_in_use "$port"; then
      continue
    fi
    _PICKED_PORTS+="$port "
    printf '%s\n' "$port"
    return 0
  done
  die "no free TCP port found in 20000-39999"
}

# http_status HOST PORT PATH: prints the HTTP status code of a GET (no curl needed).
http_status() {
  local host="$1" port="$2" path="$3" line
  {
    exec 3<>"/dev/tcp/$host/$port" || return 1
    printf 'GET %s HTTP/1.0\r\nHost: %s:%s\r\nConnection: close\r\n\r\n' "$path" "$host" "$port" >&3
    IFS=' ' read -r -t 5 _ line _ <&3 || return 1
    exec 3>&-
  } 2>/dev/null
  printf '%s\n' "$line"
}

# wait_http_ok HOST PORT PATH TIMEOUT_SECONDS [PID]: waits until GET answers 200.
# Fails early if PID (when given) exits.
wait_http_ok() {
  local host="$1" port="$2" path="$3" timeout="$4" pid="${5:-}" deadline code
  deadline=$((SECONDS + timeout))
  while ((SECONDS < deadline)); do
    code="$(http_status "$host" "$port" "$path" || true)"
    if [[ "$code" == 200 ]]; then
      return 0
    fi
    if [[ -n "$pid" ]] && ! pid_alive "$pid"; then
      return 1
    fi
    sleep 0.3
  done
  return 1
}

# pid_alive PID: true if PID runs and is not a zombie (an exited, unreaped child).
pid_alive() {
  local stat
  [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null || return 1
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0
  stat="${stat##*) }"
  [[ "${stat%% *}" != Z ]]
}

# stop_pid NAME PID [GRACE_SECONDS]: SIGTERM, wait up to GRACE seconds, then SIGKILL.
# PID must be a child of the calling shell (so it can be reaped with wait).
stop_pid() {
  local name="$1" pid="$2" grace="${3:-15}" deadline
  [[ -n "$pid" ]] || return 0
  if ! pid_alive "$pid"; then
    wait "$pid" 2>/dev/null || true
    return 0
  fi
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + grace))
  while pid_alive "$pid" && ((SECONDS < deadline)); do
    sleep 0.2
  done
  if pid_alive "$pid"; then
    warn "$name (pid $pid) did not stop within ${grace}s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# STARTED_PID is set by start_detached / start_detached_tee.
STARTED_PID=""

# start_detached LOGFILE CMD...: starts CMD in the background in its own session (so a
# terminal Ctrl-C reaches only the calling script, which then stops it in order), stdout
# and stderr appended to LOGFILE. Sets STARTED_PID.
start_detached() {
  local logfile="$1"
  shift
  if command -v setsid >/dev/null 2>&1; then
    setsid "$@" >>"$logfile" 2>&1 </dev/null &
  else
    "$@" >>"$logfile" 2>&1 </dev/null &
  fi
  STARTED_PID=$!
}

# start_detached_tee LOGFILE PREFIX CMD...: like start_detached, but also copies the
# output to the terminal with PREFIX. The copying process ignores INT/TERM so that it keeps
# draining the output while the command shuts down.
start_detached_tee() {
  local logfile="$1" prefix="$2"
  shift 2
  if command -v setsid >/dev/null 2>&1; then
    setsid "$@" </dev/null > >(trap '' INT TERM HUP; tee -a "$logfile" | sed -u "s/^/$prefix /" >&2) 2>&1 &
  else
    "$@" </dev/null > >(trap '' INT TERM HUP; tee -a "$logfile" | sed -u "s/^/$prefix /" >&2) 2>&1 &
  fi
  STARTED_PID=$!
}
