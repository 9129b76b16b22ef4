#!/usr/bin/env bash
# `make test` (and `test.sh bench`: go test -bench): go test against a real Temporal dev server and PostgreSQL.
# `make bench` is deploy/local/bench.sh (the bench/ program).
#
#   test.sh [test|bench]
#
# Starts what is not given: without TEMPORAL_ADDRESS an in-memory dev server on free ports,
# without DATABASE_URL a throw-away PostgreSQL cluster on a free port, without
# STRIPE_MOCK_URL stripe-mock (bin/stripe-mock, built once) on free ports. All are stopped
# and their files removed on exit. Exit code = go test's.
#
# Environment:
#   TEST_PKGS      packages (default ./...; ./... also runs the nested modules
#                  deploy/prometheus (the alerting rules' test) and deploy/grafana (the
#                  dashboard's test); ./deploy/prometheus/ or ./deploy/grafana/ runs one)
#   GOTESTFLAGS    extra go test flags, e.g. GOTESTFLAGS='-run TestOrder -v'
# Exported to the tests: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, DATABASE_URL (database
# "fulfilment"; tests create their own databases from it), TEMPORAL_METRICS_URL (when the
# dev server is started here), TEMPORAL_CLI (path of bin/temporal, when built),
# STRIPE_MOCK_URL (http://127.0.0.1:PORT of stripe-mock, for the Stripe adapter's contract),
# HELM_BIN (bin/helm, pinned, built once by helm.sh when deploy/helm is under test: the
# chart's lint/template/strict-decoding test),
# CHROMIUM_PATH (Chromium for the store console's browser test in starter/api: when not
# given, `chromium` from PATH, installed with apt-get when missing and run as root, the
# way postgres.sh installs PostgreSQL; as another user it names the package to install).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=postgres.sh
source "$(dirname "${BASH_SOURCE[0]}")/postgres.sh"
# shellcheck source=temporal.sh
source "$(dirname "${BASH_SOURCE[0]}")/temporal.sh"
# shellcheck source=stripe-mock.sh
source "$(dirname "${BASH_SOURCE[0]}")/stripe-mock.sh"
# shellcheck source=helm.sh
source "$(dirname "${BASH_SOURCE[0]}")/helm.sh"
# shellcheck source=../image/image.sh
source "$(dirname "${BASH_SOURCE[0]}")/../image/image.sh"

WORK_DIR=""
PG_DIR=""

cleanup() {
  local rc=$?
  trap '' INT TERM
  trap - EXIT
  stop_pid "Temporal dev server" "$TEMPORAL_PID" 20
  stop_pid "stripe-mock" "$STRIPE_MOCK_PID" 5
  if [[ -n "$PG_DIR" ]]; then
    pg_stop "$PG_DIR" || warn "stopping PostgreSQL in $PG_DIR failed"
  fi
  if [[ -n "$WORK_DIR" ]]; then
    rm -rf "$WORK_DIR"
  fi
  exit "$rc"
}

make_work_dir() {
  WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/fulfilment-test.XXXXXX")"
  # As root, PostgreSQL runs as the postgres user, which must traverse this directory.
  chmod 755 "$WORK_DIR"
}

start_temporal() {
  local port metrics_port logfile="$WORK_DIR/temporal.log"
  temporal_ensure_cli
  unset_temporal_remote_env
  port="$(pick_free_port)"
  metrics_port="$(pick_free_port)"
  temporal_start "$logfile" "$port" "" "$metrics_port"
  temporal_wait_ready "$port" "$TEMPORAL_PID" "$logfile" 120 ||
    die "Temporal dev server did not start"
  temporal_ensure_search_attributes "$port" default
  export TEMPORAL_NAMESPACE=default
  export TEMPORAL_ADDRESS="127.0.0.1:$port"
  export TEMPORAL_METRICS_URL="http://127.0.0.1:$metrics_port/metrics"
}

start_postgres() {
  local port
  port="$(pick_free_port)"
  PG_DIR="$WORK_DIR/pg"
  pg_start "$PG_DIR" "$port"
  export DATABASE_URL="postgres://app@127.0.0.1:$port/fulfilment?sslmode=disable"
}

start_stripe_mock() {
  local port https_port logfile="$WORK_DIR/stripe-mock.log"
  stripe_mock_ensure
  port="$(pick_free_port)"
  https_port="$(pick_free_port)"
  stripe_mock_start "$logfile" "$port" "$https_port"
  stripe_mock_wait_ready "$port" "$STRIPE_MOCK_PID" "$logfile" 30 ||
    die "stripe-mock did not start"
  export STRIPE_MOCK_URL="http://127.0.0.1:$port"
}

CHROMIUM_APT_PACKAGE="${CHROMIUM_APT_PACKAGE:-chromium}"

# wants_browser: true when the packages under test include starter/api (its browser
# test needs Chromium).
wants_browser() {
  local pkgs=()
  read -r -a pkgs <<<"${TEST_PKGS:-./...}"
  go list -e "${pkgs[@]}" 2>/dev/null | grep -q '/starter/api$'
}

# ensure_chromium: exports CHROMIUM_PATH, installing Chromium first if needed and possible.
ensure_chromium() {
  if [[ -n "${CHROMIUM_PATH:-}" ]] || ! wants_browser; then
    return 0
  fi
  if ! command -v chromium >/dev/null 2>&1; then
    if ! is_root; then
      die "Chromium (for the store console's browser test in starter/api) not found.
  Install it, e.g. on Debian/Ubuntu:  sudo apt-get install -y $CHROMIUM_APT_PACKAGE
  (or set CHROMIUM_PATH to a Chromium binary, or leave starter/api out of TEST_PKGS), then retry."
    fi
    command -v apt-get >/dev/null 2>&1 ||
      die "Chromium is not installed and apt-get is unavailable; install Chromium (or set CHROMIUM_PATH) and retry"
    log "installing $CHROMIUM_APT_PACKAGE with apt-get (for the browser test)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
      die "apt-get update failed; install $CHROMIUM_APT_PACKAGE yourself and retry"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$CHROMIUM_APT_PACKAGE" >/dev/null ||
      die "installing $CHROMIUM_APT_PACKAGE failed; install it yourself and retry"
    command -v chromium >/dev/null 2>&1 || die "$CHROMIUM_APT_PACKAGE installed but chromium is still not on PATH"
  fi
  CHROMIUM_PATH="$(command -v chromium)"
  export CHROMIUM_PATH
}

# ensure_helm: builds the pinned bin/helm (once) and exports HELM_BIN when the packages
# under test include deploy/helm (the chart's validation test).
ensure_helm() {
  local pkgs=()
  read -r -a pkgs <<<"${TEST_PKGS:-./...}"
  if ! go list -e "${pkgs[@]}" 2>/dev/null | grep -q '/deploy/helm$'; then
    return 0
  fi
  helm_ensure
  export HELM_BIN
}

# ensure_podman: installs podman (as root, when missing) and exports PODMAN_PATH when the
# packages under test include deploy/image, whose test loads the archives with podman.
ensure_podman() {
  local pkgs=()
  read -r -a pkgs <<<"${TEST_PKGS:-./...}"
  if [[ -n "${PODMAN_PATH:-}" ]] || ! go list -e "${pkgs[@]}" 2>/dev/null | grep -q '/deploy/image$'; then
    return 0
  fi
  if ! command -v podman >/dev/null 2>&1; then
    is_root || die "podman (to load the image archives in deploy/image's test) not found.
  Install it, e.g. on Debian/Ubuntu:  sudo apt-get install -y podman (or set PODMAN_PATH), then retry."
    command -v apt-get >/dev/null 2>&1 || die "podman is not installed and apt-get is unavailable; install podman and retry"
    log "installing podman with apt-get (deploy/image's test loads the image archives with it)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq || die "apt-get update failed; install podman yourself and retry"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends podman >/dev/null ||
      die "installing podman failed; install it yourself and retry"
  fi
  PODMAN_PATH="$(command -v podman)"
  export PODMAN_PATH
}

run_go_test() {
  local mode="$1" flags=() pkgs=()
  read -r -a flags <<<"${GOTESTFLAGS:-}"
  read -r -a pkgs <<<"${TEST_PKGS:-./...}"
  if [[ "$mode" == bench ]]; then
    flags=(-run '^$' -bench . "${flags[@]}")
  fi
  local cmd=(go test -count=1 "${flags[@]}" "${pkgs[@]}") rc=0 mod
  local own=() nested=()
  # Nested modules (deploy/prometheus: the alerting rules' test; deploy/grafana: the
  # dashboard's; kept out of the main go.mod for their dependencies) are not in the main
  # module's ./...: run them from their directory when TEST_PKGS is ./... or names them.
  for mod in "${NESTED_MODULES[@]}"; do
    if [[ " ${pkgs[*]} " == *" ./... "* || " ${pkgs[*]} " == *" ./$mod"* ]]; then
      nested+=("$mod")
    fi
  done
  local pkg nested_pkg
  for pkg in "${pkgs[@]}"; do
    nested_pkg=false
    for mod in "${NESTED_MODULES[@]}"; do
      if [[ "$pkg" == "./$mod"* ]]; then
        nested_pkg=true
      fi
    done
    if [[ "$nested_pkg" == false ]]; then
      own+=("$pkg")
    fi
  done
  if ((${#own[@]} > 0)); then
    cmd=(go test -count=1 "${flags[@]}" "${own[@]}")
    log "${cmd[*]}"
    "${cmd[@]}" || rc=$?
  fi
  for mod in "${nested[@]}"; do
    log "(cd $mod && go test -count=1 ${flags[*]} ./...)"
    (cd "$mod" && go test -count=1 "${flags[@]}" ./...) || rc=$?
  done
  return "$rc"
}

# Go modules inside the repository that ./... does not reach.
NESTED_MODULES=(deploy/prometheus deploy/grafana)

main() {
  local mode="${1:-test}" rc=0
  case "$mode" in
    test | bench) ;;
    *) die "usage: $0 [test|bench]" ;;
  esac
  cd "$REPO"
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  make_work_dir
  # Before anything is started: a missing browser is reported at once.
  ensure_chromium
  ensure_helm
  # TestImageArchives (deploy/image) puts the machine's CA bundle into the images.
  image_ensure_ca_certificates
  ensure_podman
  if [[ -z "${TEMPORAL_ADDRESS:-}" ]]; then
    start_temporal
  else
    log "using TEMPORAL_ADDRESS=$TEMPORAL_ADDRESS"
  fi
  if [[ -z "${DATABASE_URL:-}" ]]; then
    start_postgres
  else
    log "using the given DATABASE_URL"
  fi
  if [[ -z "${STRIPE_MOCK_URL:-}" ]]; then
    start_stripe_mock
  else
    log "using STRIPE_MOCK_URL=$STRIPE_MOCK_URL"
  fi
  export TEMPORAL_NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
  if [[ -x "$TEMPORAL_BIN" ]]; then
    export TEMPORAL_CLI="$TEMPORAL_BIN"
  fi
  run_go_test "$mode" || rc=$?
  return "$rc"
}

main "$@"
