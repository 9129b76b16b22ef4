#!/usr/bin/env bash
# The pinned Temporal programs of the local cluster, built from the Go module proxy.
#
#   build.sh ensure    build what is missing or at another version (bin/temporal-server,
#                      bin/temporal-sql-tool, bin/temporal-ui-server, bin/temporal)
#
# Sourced (run.sh, test.sh): cluster_build_ensure and the binaries' paths.
#
# The server module (server and SQL tool) and the UI server declare `go 1.26.10`: they are
# built with the Go toolchain go1.27.3 (GOTOOLCHAIN; the go command fetches it once through
# the module proxy, ~76 MB). The UI server is built from the module deploy/cluster/uiserver
# (go.mod and go.sum there), because `go install ...ui-server/v2/cmd/server@v2.58.1` needs
# dependency versions the module proxy refuses (go.mod there says which and why).
# Cold builds on a 2-core machine: see docs/cluster.md.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

# shellcheck source=../local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../local/lib.sh"
# shellcheck source=../local/temporal.sh
source "$(dirname "${BASH_SOURCE[0]}")/../local/temporal.sh"

TEMPORAL_SERVER_VERSION="v1.32.2"
TEMPORAL_UI_SERVER_VERSION="v2.58.1"
TEMPORAL_SERVER_BIN="$REPO/bin/temporal-server"
TEMPORAL_SQL_TOOL_BIN="$REPO/bin/temporal-sql-tool"
TEMPORAL_UI_SERVER_BIN="$REPO/bin/temporal-ui-server"
CLUSTER_GOTOOLCHAIN="${CLUSTER_GOTOOLCHAIN:-go1.27.3}"

# _built_version BIN MODULE: the version of MODULE recorded in BIN's build info (as the
# main module or a dependency), or "".
_built_version() {
  go version -m "$1" 2>/dev/null | awk -v m="$2" '($1 == "mod" || $1 == "dep") && $2 == m {print $3; exit}'
}

# cluster_tool_ensure BIN PACKAGE MODULE VERSION WHAT HINT: go install PACKAGE@VERSION
# and install the binary as BIN, unless BIN was already built from MODULE@VERSION. The
# package's own binary name ("server", "sql") would be ambiguous in bin/, hence the move.
cluster_tool_ensure() {
  local bin="$1" pkg="$2" module="$3" version="$4" what="$5" hint="$6" tmp name
  if [[ -x "$bin" && "$(_built_version "$bin" "$module")" == "$version" ]]; then
    return 0
  fi
  name="$(basename "$bin")"
  tmp="$REPO/.dev/gobin-$name"
  rm -rf "$tmp"
  GOTOOLCHAIN="$CLUSTER_GOTOOLCHAIN" go_install_pinned "$tmp/$(basename "$pkg")" "$pkg" "$version" "$what" "$hint" "$name"
  mv -f "$tmp/$(basename "$pkg")" "$bin"
  rm -rf "$tmp"
}

# cluster_build_ensure: every program the cluster runs besides ours.
cluster_build_ensure() {
  mkdir -p "$REPO/bin" "$REPO/.dev"
  temporal_ensure_cli
  cluster_tool_ensure "$TEMPORAL_SERVER_BIN" go.temporal.io/server/cmd/server go.temporal.io/server \
    "$TEMPORAL_SERVER_VERSION" "the Temporal server" "~9 min"
  cluster_tool_ensure "$TEMPORAL_SQL_TOOL_BIN" go.temporal.io/server/cmd/tools/sql go.temporal.io/server \
    "$TEMPORAL_SERVER_VERSION" "temporal-sql-tool" "~1 min after the server"
  cluster_ui_ensure
}

# cluster_ui_ensure: bin/temporal-ui-server, built from the module deploy/cluster/uiserver
# unless it was built with the UI server at the pinned version.
cluster_ui_ensure() {
  local bin="$TEMPORAL_UI_SERVER_BIN" logfile="$REPO/.dev/build-temporal-ui-server.log" first pid rc=0
  local started=$SECONDS
  if [[ -x "$bin" && "$(_built_version "$bin" github.com/temporalio/ui-server/v2)" == "$TEMPORAL_UI_SERVER_VERSION" ]]; then
    return 0
  fi
  grep -q "github.com/temporalio/ui-server/v2 $TEMPORAL_UI_SERVER_VERSION" "$REPO/deploy/cluster/uiserver/go.mod" ||
    die "deploy/cluster/uiserver/go.mod does not require the UI server $TEMPORAL_UI_SERVER_VERSION"
  log "building the Temporal Web UI server $TEMPORAL_UI_SERVER_VERSION into $REPO/bin (first time only, ~2 min)"
  log "go's output goes to $logfile"
  printf '=== go build ui-server %s %s ===\n' "$TEMPORAL_UI_SERVER_VERSION" "$(date -Is)" >>"$logfile"
  first=$(($(wc -l <"$logfile")))
  (cd "$REPO/deploy/cluster/uiserver" && GOTOOLCHAIN="$CLUSTER_GOTOOLCHAIN" GOFLAGS=-mod=readonly \
    go build -o "$bin" github.com/temporalio/ui-server/v2/cmd/server) >>"$logfile" 2>&1 &
  pid=$!
  wait_build "$pid" "$logfile" "$first" "the Temporal Web UI server" || rc=$?
  if ((rc != 0)); then
    tail -n 20 "$logfile" >&2 || true
    die "building the Temporal Web UI server failed (log $logfile)"
  fi
  log "built the Temporal Web UI server in $(_elapsed $((SECONDS - started)))"
}

cluster_build_main() {
  case "${1:-}" in
    ensure)
      cluster_build_ensure
      ;;
    *)
      die "usage: $0 ensure"
      ;;
  esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  cluster_build_main "$@"
fi
