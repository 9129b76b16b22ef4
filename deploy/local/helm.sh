#!/usr/bin/env bash
# Helm, built from the Go module proxy (pinned), for validating deploy/helm/fulfilment.
#
#   helm.sh ensure    build bin/helm unless it already is the pinned version
#   helm.sh check     (make helm-check) ensure, then helm lint --strict and helm template
#                     of deploy/helm/fulfilment with every values file, then the chart's
#                     validation test (go test ./deploy/helm/); needs no services
#
# Sourced (test.sh): helm_ensure. HELM_BIN overrides where the binary goes.
# helm template and helm lint work offline on a local chart: no cluster is needed.
# shellcheck source-path=SCRIPTDIR
# HELM_BIN etc. are read by the scripts that source this file.
# shellcheck disable=SC2034
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HELM_MODULE="helm.sh/helm/v3/cmd/helm"
HELM_VERSION="v3.22.0"
HELM_DEFAULT_BIN="$REPO/bin/helm"
HELM_BIN="${HELM_BIN:-$HELM_DEFAULT_BIN}"

# helm_built_version: prints the module version $HELM_BIN was built from (go version
# -m; `helm version` of a go-installed helm says only "v3.22", the release build sets
# the full version with -ldflags).
helm_built_version() {
  go version -m "$HELM_BIN" 2>/dev/null | awk '$1 == "mod" { print $3; exit }'
}

# helm_ensure: builds $HELM_BIN (pinned version) unless it exists and was built from
# that version; an older bin/helm is replaced. A HELM_BIN of your own is used as it is
# (with a warning when it is not the pinned version), never replaced.
helm_ensure() {
  local have=""
  if [[ -x "$HELM_BIN" ]]; then
    have="$(helm_built_version)"
    if [[ "$have" == "$HELM_VERSION" ]]; then
      return 0
    fi
    if [[ "$HELM_BIN" != "$HELM_DEFAULT_BIN" ]]; then
      warn "HELM_BIN=$HELM_BIN is not a go-installed $HELM_VERSION (${have:-unknown}); using it anyway"
      return 0
    fi
    log "$HELM_BIN is version '${have:-unknown}', not $HELM_VERSION; rebuilding it"
    rm -f "$HELM_BIN"
  fi
  go_install_pinned "$HELM_BIN" "$HELM_MODULE" "$HELM_VERSION" Helm \
    "3-4 min, longer on a busy machine"
  have="$(helm_built_version)"
  [[ "$have" == "$HELM_VERSION" ]] ||
    die "$HELM_BIN reports version '${have:-unknown}' after building $HELM_VERSION"
}

HELM_CHART="$REPO/deploy/helm/fulfilment"

# helm_check: lint and render the chart with each values file, then run its Go test.
helm_check() {
  local f args
  helm_ensure
  for f in "$HELM_CHART"/values*.yaml; do
    args=()
    if [[ "$(basename "$f")" != values.yaml ]]; then
      args=(-f "$f")
    fi
    log "helm lint --strict and helm template with $(basename "$f")"
    "$HELM_BIN" lint --strict "$HELM_CHART" "${args[@]}" >/dev/null ||
      die "helm lint --strict failed with $(basename "$f") (run: $HELM_BIN lint --strict $HELM_CHART ${args[*]})"
    "$HELM_BIN" template fulfilment "$HELM_CHART" "${args[@]}" >/dev/null ||
      die "helm template failed with $(basename "$f")"
  done
  log "go test ./deploy/helm/"
  (cd "$REPO" && HELM_BIN="$HELM_BIN" go test -count=1 ./deploy/helm/)
}

helm_main() {
  case "${1:-}" in
    ensure)
      helm_ensure
      ;;
    check)
      helm_check
      ;;
    *)
      die "usage: $0 ensure|check"
      ;;
  esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  helm_main "$@"
fi
