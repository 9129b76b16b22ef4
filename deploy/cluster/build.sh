#!/usr/bin/env bash
# The pinned Temporal programs of the local cluster, built from the Go module proxy.
#
#   build.sh ensure    build what is missing or at another version (bin/temporal-server,
#                      bin/temporal-sql-tool, bin/temporal-ui-server, bin/temporal)
#
# Sourced (run.sh, test.sh): cluster_build_ensure and the binaries' paths.
#
# The server and the UI server (and the module of the SQL tool) declare `go 1.26.10`; an
# older local Go fetches that toolchain once through the module proxy (GOTOOLCHAIN=auto),
# which is Go's own mechanism for a module that needs a newer Go.
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

# _built_version BIN MODULE: the version of MODULE recorded in BIN's build info, or "".
_built_version() {
  go version -m "$1" 2>/dev/null | awk -v m="$2" '$1 == "mod" && $2 == m {print $3; exit}'
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
  GOTOOLCHAIN=auto go_install_pinned "$tmp/$(basename "$pkg")" "$pkg" "$version" "$what" "$hint" "$name"
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
  cluster_tool_ensure "$TEMPORAL_UI_SERVER_BIN" github.com/temporalio/ui-server/v2/cmd/server \
    github.com/temporalio/ui-server/v2 "$TEMPORAL_UI_SERVER_VERSION" "the Temporal Web UI server" "~2 min"
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
