#!/usr/bin/env bash
# `make image`: builds the image archives bin/images/worker.tar and bin/images/starter.tar
# with deploy/image (Go, go-containerregistry; no Docker, no base image pulled).
#
#   image.sh     build (needs the CA bundle /etc/ssl/certs/ca-certificates.crt: as root,
#                the ca-certificates package is installed with apt-get when it is missing)
#
# Environment: IMAGE_VERSION (tag and version label; default git describe --always --dirty),
# IMAGE_ARCH (GOARCH of binaries and images; default the build machine's),
# SOURCE_DATE_EPOCH (time stamp of every file; default the commit time of HEAD).
# Sourced by deploy/local/test.sh for image_ensure_ca_certificates (TestImageArchives).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

# shellcheck source=../local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../local/lib.sh"

IMAGE_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

# image_ensure_ca_certificates: the images carry the build machine's CA bundle; installs
# Debian's ca-certificates when it is missing and we are root, else says what to install.
image_ensure_ca_certificates() {
  if [[ -s "$IMAGE_CA_BUNDLE" ]]; then
    return 0
  fi
  if ! is_root; then
    die "$IMAGE_CA_BUNDLE not found (the images take their CA certificates from it).
  Install it, e.g. on Debian/Ubuntu:  sudo apt-get install -y ca-certificates, then retry."
  fi
  command -v apt-get >/dev/null 2>&1 ||
    die "$IMAGE_CA_BUNDLE is missing and apt-get is unavailable; install the CA certificates and retry"
  log "installing ca-certificates with apt-get (the images' CA bundle)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
    die "apt-get update failed; install ca-certificates yourself and retry"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ca-certificates >/dev/null ||
    die "installing ca-certificates failed; install it yourself and retry"
  [[ -s "$IMAGE_CA_BUNDLE" ]] || die "ca-certificates installed but $IMAGE_CA_BUNDLE is still missing"
}

image_main() {
  local args=(-out bin/images)
  (($# == 0)) || die "usage: $0 (no arguments; see the environment variables in its header)"
  command -v go >/dev/null 2>&1 || die "go is not on PATH; needed to build the images"
  image_ensure_ca_certificates
  cd "$REPO"
  if [[ -n "${IMAGE_VERSION:-}" ]]; then
    args+=(-version "$IMAGE_VERSION")
  fi
  if [[ -n "${IMAGE_ARCH:-}" ]]; then
    args+=(-arch "$IMAGE_ARCH")
  fi
  log "building the image archives into bin/images (static binaries: a minute or two the first time)"
  go run ./deploy/image "${args[@]}"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  image_main "$@"
fi
