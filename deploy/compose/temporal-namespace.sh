#!/bin/sh
# Compose one-shot (temporalio/admin-tools): waits for the Temporal server, creates the
# namespace TEMPORAL_NAMESPACE (retention TEMPORAL_RETENTION) unless it exists, and
# registers the order workflow's custom search attributes that are missing. Idempotent.
set -eu
: "${TEMPORAL_ADDRESS:?}" "${TEMPORAL_NAMESPACE:?}"

# The custom search attributes, NAME=TYPE: workflows.SearchAttributes, as printed by
# `go run ./workflows/cmd/searchattrs`. TestCompose (deploy/compose) fails when they differ.
SEARCH_ATTRIBUTES="OrderStage=Keyword FulfilmentMethod=Keyword StoreId=Keyword CustomerId=Keyword NeedsAttention=Bool PickupDeadline=Datetime OrderTotal=Double"

# retry WHAT CMD...: runs CMD until it succeeds, every 2 s, for at most 2 minutes (the
# server starts, a new namespace takes a few seconds to reach every frontend).
retry() {
  what=$1
  shift
  i=0
  until "$@"; do
    i=$((i + 1))
    if [ "$i" -ge 60 ]; then
      echo "giving up: $what" >&2
      return 1
    fi
    sleep 2
  done
}

retry "Temporal at $TEMPORAL_ADDRESS is not healthy" \
  temporal operator cluster health --address "$TEMPORAL_ADDRESS"

if temporal operator namespace describe --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; then
  echo "namespace $TEMPORAL_NAMESPACE exists"
else
  echo "creating namespace $TEMPORAL_NAMESPACE"
  retry "creating namespace $TEMPORAL_NAMESPACE" \
    temporal operator namespace create --address "$TEMPORAL_ADDRESS" \
    --namespace "$TEMPORAL_NAMESPACE" --retention "${TEMPORAL_RETENTION:-720h}"
fi

for sa in $SEARCH_ATTRIBUTES; do
  name=${sa%%=*}
  type=${sa#*=}
  existing=$(temporal operator search-attribute list --address "$TEMPORAL_ADDRESS" \
    --namespace "$TEMPORAL_NAMESPACE" -o json 2>/dev/null || true)
  if echo "$existing" | grep -q "\"$name\""; then
    continue
  fi
  echo "registering search attribute $name ($type)"
  retry "registering search attribute $name" \
    temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" \
    --namespace "$TEMPORAL_NAMESPACE" --name "$name" --type "$type"
done
echo "namespace $TEMPORAL_NAMESPACE ready"
