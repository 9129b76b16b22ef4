#!/usr/bin/env bash
# rename.sh rewrites every reference to an identifier moved into package domain
# (listed in moves.txt: activities.Line -> domain.Line, workflows.Stage ->
# domain.Stage, ...) and fixes the imports of the files it changed.
#
# Run it from anywhere in the repository, on a tree where the old declarations are
# gone (after merging a branch that still uses the old names, say):
#
#     .rename/rename.sh        # rewrite
#     .rename/rename.sh -n     # only list what would change
#
# It is idempotent: a reference already rewritten is left alone, so running it
# again changes nothing. It follows type information (see main.go), so fields,
# composite-literal keys and local variables that share a moved name are never
# touched. Afterwards `go build ./... && go vet ./...` lists what still needs a
# hand fix: typically a moved constant that used to be an untyped string
# (domain.ChannelEmail, domain.StageCompleted) now used where a plain string is
# expected.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$here"
GOWORK=off go run . -root "$root" -moves "$here/moves.txt" "$@"
