#!/usr/bin/env bash
# ci/conformance.sh check|sync [SOURCE]: the conformance data under tests/data/conformance/
# is a byte-for-byte copy of part of the data set the project was founded with (SOURCE,
# default ../shared/conformance beside the repository). The tests read only the copy.
#   check  fail when a copied file differs, is missing or is extra (`make check-conformance`,
#          run by `make lint`); skipped, and says so, where SOURCE does not exist (a clone).
#   sync   refresh the copy from SOURCE (`make sync-conformance`).
# Only what the tests and tests/bench read is copied (COPIED below); the README.md and
# .gitattributes of each set under tests/data/conformance are ours.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
src=${2:-../shared/conformance}
dst=tests/data/conformance
COPIED=(
  buildkit-parser/LICENSE
  buildkit-parser/testfiles
  buildkit-parser/testfiles-negative
  buildkit-parser/testfile-line
  buildkit-parser/shell
  real-world-dockerfiles/cases
  compose/compose-go
  compose/expected
  compose/spec/LICENSE
  compose/spec/NOTICE
  compose/spec/schema
)
# Copies outside tests/data/conformance: the Compose schema compiled into nook.
EXTRA=(
  "compose/spec/schema/compose-spec.json cmd/compose/compose-spec.json"
)

case "$mode" in
  check)
    if [ ! -d "$src" ]; then
      echo "check-conformance: skipped ($src does not exist here)"
      exit 0
    fi
    bad=0
    for p in "${COPIED[@]}"; do
      if ! diff -r --no-dereference "$src/$p" "$dst/$p" >/dev/null 2>&1; then
        echo "check-conformance: $dst/$p differs from $src/$p:" >&2
        diff -r --no-dereference -q "$src/$p" "$dst/$p" >&2 || true
        bad=1
      fi
    done
    for e in "${EXTRA[@]}"; do
      read -r from to <<<"$e"
      if ! cmp -s "$src/$from" "$to"; then
        echo "check-conformance: $to differs from $src/$from" >&2
        bad=1
      fi
    done
    if [ "$bad" != 0 ]; then
      echo "check-conformance: run 'make sync-conformance' to refresh the copy" >&2
      exit 1
    fi
    echo "check-conformance: $((${#COPIED[@]} + ${#EXTRA[@]})) paths identical to $src"
    ;;
  sync)
    if [ ! -d "$src" ]; then
      echo "sync-conformance: $src does not exist: nothing to copy from" >&2
      exit 1
    fi
    for p in "${COPIED[@]}"; do
      rm -rf "${dst:?}/$p"
      mkdir -p "$(dirname "$dst/$p")"
      cp -R --no-preserve=mode,ownership,timestamps "$src/$p" "$dst/$p"
    done
    for e in "${EXTRA[@]}"; do
      read -r from to <<<"$e"
      cp --no-preserve=mode,ownership,timestamps "$src/$from" "$to"
    done
    chmod -R u+rwX,go+rX "$dst"
    echo "sync-conformance: copied ${#COPIED[@]} paths from $src to $dst"
    ;;
  *)
    echo "usage: ci/conformance.sh check|sync [SOURCE]" >&2
    exit 2
    ;;
esac
