#!/usr/bin/env bash
# Run every cmocka unit test binary and every fuzz-corpus replay under $1 (build dir).
# Prints one line per binary and a closing "unit: N passed, N failed". The tests read their
# data (tests/data/, tests/fuzz/corpus/) relative to the repository root: run from there.
set -u
O=$(cd "${1:-build}" && pwd) || exit 125
cd "$(dirname "$0")/.." || exit 125
pass=0 fail=0
failed=()
for t in "$O"/tests/unit/test_*; do
  [ -x "$t" ] || continue
  case "$t" in *.o|*.d) continue ;; esac
  if out=$("$t" 2>&1); then
    pass=$((pass + 1)); echo "ok - $(basename "$t")"
  else
    fail=$((fail + 1)); failed+=("$t"); echo "not ok - $(basename "$t")"; echo "$out" | sed 's/^/#   /'
  fi
  echo "$out" | grep -E '^\[  (PASSED|FAILED)  \]|conformance|passed|identical|rejected' | sed 's/^/#   /'
done
for r in "$O"/tests/fuzz/replay_*; do
  [ -x "$r" ] || continue
  case "$r" in *.o|*.d) continue ;; esac
  name=$(basename "$r"); name=${name#replay_}
  corpus=tests/fuzz/corpus/$name
  if out=$("$r" "$corpus" 2>&1); then
    pass=$((pass + 1)); echo "ok - replay $name ($out)"
  else
    fail=$((fail + 1)); failed+=("$r"); echo "not ok - replay $name"; echo "$out" | sed 's/^/#   /'
  fi
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
