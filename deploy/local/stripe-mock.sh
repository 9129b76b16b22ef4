#!/usr/bin/env bash
# stripe-mock helpers: Stripe's own mock of its API, built from the Go module proxy.
#
#   stripe-mock.sh ensure    build bin/stripe-mock if it is missing
#
# Sourced (test.sh): stripe_mock_ensure, stripe_mock_start, stripe_mock_wait_ready.
# stripe-mock is stateless: it checks requests against Stripe's OpenAPI spec and
# answers with fixtures. v0.180.0 serves the spec of API version 2023-10-16, the
# one stripe-go v76 pins, so -strict-version-check holds the adapter to it.
# shellcheck source-path=SCRIPTDIR
# STRIPE_MOCK_PID etc. are read by the scripts that source this file.
# shellcheck disable=SC2034
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STRIPE_MOCK_MODULE="github.com/stripe/stripe-mock"
STRIPE_MOCK_VERSION="v0.180.0"
STRIPE_MOCK_BIN="${STRIPE_MOCK_BIN:-$REPO/bin/stripe-mock}"

# Set by stripe_mock_start.
STRIPE_MOCK_PID=""

# stripe_mock_ensure: builds $STRIPE_MOCK_BIN (pinned version) unless it already exists.
stripe_mock_ensure() {
  go_install_pinned "$STRIPE_MOCK_BIN" "$STRIPE_MOCK_MODULE" "$STRIPE_MOCK_VERSION" stripe-mock \
    "~10 s, ~1 min with empty Go caches"
}

# stripe_mock_start LOGFILE HTTP_PORT HTTPS_PORT: starts stripe-mock in the background
# (own session) on 127.0.0.1 only; sets STRIPE_MOCK_PID. Both addresses are given:
# without -https-addr it would listen for HTTPS on every interface.
stripe_mock_start() {
  local logfile="$1" port="$2" https_port="$3"
  log "starting stripe-mock on 127.0.0.1:$port (log $logfile)"
  start_detached "$logfile" "$STRIPE_MOCK_BIN" -http-addr "127.0.0.1:$port" \
    -https-addr "127.0.0.1:$https_port" -strict-version-check
  STRIPE_MOCK_PID="$STARTED_PID"
}

# stripe_mock_wait_ready PORT PID LOGFILE [TIMEOUT_SECONDS]: waits until stripe-mock
# answers HTTP (any status: without a key it answers 401); on failure shows the log.
stripe_mock_wait_ready() {
  local port="$1" pid="$2" logfile="$3" timeout="${4:-30}" deadline code
  deadline=$((SECONDS + timeout))
  while ((SECONDS < deadline)); do
    if ! pid_alive "$pid"; then
      _stripe_mock_show_log "$logfile"
      printf 'error: stripe-mock exited during startup\n' >&2
      return 1
    fi
    code="$(http_status 127.0.0.1 "$port" /v1/charges || true)"
    if [[ -n "$code" ]]; then
      return 0
    fi
    sleep 0.2
  done
  _stripe_mock_show_log "$logfile"
  printf 'error: stripe-mock was not ready after %ss\n' "$timeout" >&2
  return 1
}

_stripe_mock_show_log() {
  printf -- '--- last lines of %s ---\n' "$1" >&2
  tail -n 20 "$1" >&2 2>/dev/null || true
  printf -- '---\n' >&2
}

stripe_mock_main() {
  case "${1:-}" in
    ensure)
      stripe_mock_ensure
      ;;
    *)
      die "usage: $0 ensure"
      ;;
  esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  stripe_mock_main "$@"
fi
