#!/usr/bin/env bash
# A private PostgreSQL cluster for local runs and tests.
#
#   postgres.sh start DATA_DIR PORT   initdb if needed, start (or reuse), create db "fulfilment"
#   postgres.sh stop DATA_DIR         fast shutdown (no-op if not running)
#   postgres.sh status DATA_DIR       exit 0 if a server is running on DATA_DIR
#   postgres.sh ensure                install PostgreSQL 15 via apt if missing (root only)
#
# Can also be sourced: pg_start, pg_stop, pg_running, pg_ensure_installed.
# The server listens on 127.0.0.1:PORT only; role "app" with trust auth;
# DATABASE_URL=postgres://app@127.0.0.1:PORT/fulfilment?sslmode=disable
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_DB_NAME="${PG_DB_NAME:-fulfilment}"
PG_ROLE="${PG_ROLE:-app}"
PG_APT_PACKAGE="${PG_APT_PACKAGE:-postgresql-15}"

# pg_find_bindir: prints the directory holding initdb/pg_ctl/postgres, or fails.
pg_find_bindir() {
  local dir
  if command -v pg_config >/dev/null 2>&1; then
    dir="$(pg_config --bindir 2>/dev/null || true)"
    if [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
      printf '%s\n' "$dir"
      return 0
    fi
  fi
  # Debian/Ubuntu layout; pick the newest installed major version.
  dir="$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/initdb' 2>/dev/null |
    sort -V | tail -n 1 || true)"
  if [[ -n "$dir" ]]; then
    dirname "$dir"
    return 0
  fi
  return 1
}

# pg_apt_install: installs PostgreSQL from Debian without creating/starting the distribution's
# default "main" cluster (we only need the binaries).
pg_apt_install() {
  local conf=/etc/postgresql-common/createcluster.conf
  export DEBIAN_FRONTEND=noninteractive
  log "installing $PG_APT_PACKAGE with apt-get"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postgresql-common >/dev/null
  if [[ -f "$conf" ]]; then
    sed -i -E 's/^#?[[:space:]]*create_main_cluster[[:space:]]*=.*/create_main_cluster = false/' "$conf"
  fi
  apt-get install -y -qq --no-install-recommends "$PG_APT_PACKAGE" >/dev/null
}

# pg_ensure_installed: sets PG_BIN, installing PostgreSQL first if needed and possible.
pg_ensure_installed() {
  if PG_BIN="$(pg_find_bindir)"; then
    return 0
  fi
  if ! is_root; then
    die "PostgreSQL server binaries (initdb, pg_ctl) not found.
  Install them, e.g. on Debian/Ubuntu:  sudo apt-get install -y $PG_APT_PACKAGE
  (or put a PostgreSQL bin directory with pg_config on PATH), then retry."
  fi
  command -v apt-get >/dev/null 2>&1 ||
    die "PostgreSQL is not installed and apt-get is unavailable; install PostgreSQL 15 and retry"
  pg_apt_install
  PG_BIN="$(pg_find_bindir)" || die "$PG_APT_PACKAGE installed but initdb still not found"
}

# pg_as_owner CMD...: runs CMD as the cluster owner (postgres refuses to run as root).
pg_as_owner() {
  if is_root; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# pg_check_reachable DIR: as root, the postgres user must be able to reach DIR.
pg_check_reachable() {
  local dir="$1" d
  is_root || return 0
  id postgres >/dev/null 2>&1 || die "user 'postgres' does not exist (is PostgreSQL installed?)"
  d="$(dirname "$dir")"
  while [[ "$d" != / ]]; do
    if ! runuser -u postgres -- test -x "$d"; then
      die "the postgres user cannot traverse $d (needed for $dir).
  Fix: chmod o+x '$d', or put the data directory elsewhere."
    fi
    d="$(dirname "$d")"
  done
}

# pg_prepare_dir DIR: creates DIR with the right owner and mode.
pg_prepare_dir() {
  local dir="$1"
  mkdir -p "$dir"
  if is_root; then
    chown postgres:postgres "$dir"
  fi
  chmod 700 "$dir"
}

# pg_initdb DIR: creates a cluster in DIR unless one exists.
pg_initdb() {
  local dir="$1"
  if [[ -f "$dir/PG_VERSION" ]]; then
    return 0
  fi
  if [[ -n "$(ls -A "$dir" 2>/dev/null)" ]]; then
    die "$dir is not empty and has no PG_VERSION; refusing to initdb over it"
  fi
  log "initdb $dir"
  if ! pg_as_owner "$PG_BIN/initdb" -D "$dir" -U "$PG_ROLE" --auth=trust --no-sync \
    --encoding=UTF8 --locale=C >"$dir.initdb.log" 2>&1; then
    cat "$dir.initdb.log" >&2
    die "initdb failed for $dir"
  fi
  rm -f "$dir.initdb.log"
}

# pg_running DIR: true if a postmaster is alive for DIR.
pg_running() {
  local dir="$1"
  [[ -f "$dir/postmaster.pid" ]] || return 1
  PG_BIN="${PG_BIN:-$(pg_find_bindir)}" || return 1
  pg_as_owner "$PG_BIN/pg_ctl" -D "$dir" status >/dev/null 2>&1
}

# pg_running_port DIR: prints the port recorded by the running postmaster.
pg_running_port() {
  sed -n 4p "$1/postmaster.pid" 2>/dev/null
}

# pg_socket_dir DIR: the unix socket goes into DIR unless the path would be too long.
pg_socket_dir() {
  local dir="$1" port="$2"
  if ((${#dir} + ${#port} + 12 < 100)); then
    printf '%s\n' "$dir"
  fi
}

# pg_create_db PORT: creates $PG_DB_NAME if missing.
pg_create_db() {
  local port="$1" exists
  exists="$("$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U "$PG_ROLE" -d postgres -XtAq \
    -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DB_NAME'")"
  if [[ "$exists" != 1 ]]; then
    log "creating database $PG_DB_NAME"
    "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U "$PG_ROLE" -d postgres -XqAt \
      -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$PG_DB_NAME\"" >/dev/null
  fi
}

# pg_start DIR PORT: initdb if needed, start the server (or reuse a live one on DIR),
# create the database.
pg_start() {
  local dir="$1" port="$2" sock running_port
  [[ -n "$dir" && -n "$port" ]] || die "usage: pg_start DATA_DIR PORT"
  pg_ensure_installed
  mkdir -p "$(dirname "$dir")"
  dir="$(cd "$(dirname "$dir")" && pwd)/$(basename "$dir")"
  pg_check_reachable "$dir"
  pg_prepare_dir "$dir"
  pg_initdb "$dir"

  if pg_running "$dir"; then
    running_port="$(pg_running_port "$dir")"
    if [[ "$running_port" != "$port" ]]; then
      die "a PostgreSQL server is already running on $dir but on port $running_port (want $port).
  Stop it with: $REPO/deploy/local/postgres.sh stop $dir"
    fi
    log "reusing PostgreSQL already running on $dir (port $port)"
  else
    if port_in_use "$port"; then
      die "port $port is already in use by another process"
    fi
    sock="$(pg_socket_dir "$dir" "$port")"
    log "starting PostgreSQL on 127.0.0.1:$port (data $dir)"
    if ! pg_as_owner "$PG_BIN/pg_ctl" -D "$dir" -w -t 60 -l "$dir/server.log" \
      -o "-c listen_addresses=127.0.0.1 -p $port -k '$sock'" start >/dev/null; then
      tail -n 30 "$dir/server.log" >&2 || true
      die "PostgreSQL failed to start (log: $dir/server.log)"
    fi
  fi
  pg_create_db "$port"
}

# pg_stop DIR: fast shutdown if running.
pg_stop() {
  local dir="$1"
  [[ -n "$dir" ]] || die "usage: pg_stop DATA_DIR"
  if ! pg_running "$dir"; then
    return 0
  fi
  log "stopping PostgreSQL ($dir)"
  pg_as_owner "$PG_BIN/pg_ctl" -D "$dir" -m fast -w -t 60 stop >/dev/null
}

pg_main() {
  local cmd="${1:-}"
  case "$cmd" in
    start)
      [[ $# -eq 3 ]] || die "usage: $0 start DATA_DIR PORT"
      pg_start "$2" "$3"
      ;;
    stop)
      [[ $# -eq 2 ]] || die "usage: $0 stop DATA_DIR"
      pg_stop "$2"
      ;;
    status)
      [[ $# -eq 2 ]] || die "usage: $0 status DATA_DIR"
      pg_running "$2"
      ;;
    ensure)
      pg_ensure_installed
      printf '%s\n' "$PG_BIN"
      ;;
    *)
      die "usage: $0 {start DATA_DIR PORT|stop DATA_DIR|status DATA_DIR|ensure}"
      ;;
  esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  pg_main "$@"
fi
