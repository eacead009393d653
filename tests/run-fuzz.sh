#!/usr/bin/env bash
# Run each libFuzzer target in BUILD_DIR/fuzz for SECONDS on a scratch copy of
# its corpus (the committed corpus only grows by hand, with findings).
# Usage: tests/run-fuzz.sh BUILD_DIR SECONDS
#        tests/run-fuzz.sh BUILD_DIR runs:N[:SEED]   N inputs from seed SEED (default 1):
#        the same inputs every time, so a test run never fails by the luck of the draw
#        (`make test`); time-bounded runs (`make fuzz`) explore further.
set -euo pipefail
O=${1:-build}
secs=${2:-20}
pass=0 fail=0
for f in "$O"/fuzz/fuzz_*; do
  [ -x "$f" ] || continue
  name=$(basename "$f")
  work=$(mktemp -d)
  cp -r "tests/fuzz/corpus/$name/." "$work/" 2>/dev/null || true
  case $secs in
    runs:*)
      IFS=: read -r _ runs seed <<<"$secs"
      bound=(-runs="$runs" -seed="${seed:-1}")
      echo "# $name: $runs inputs from seed ${seed:-1}" ;;
    *)
      bound=(-max_total_time="$secs")
      echo "# $name: ${secs}s" ;;
  esac
  if "$f" "${bound[@]}" -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$O/fuzz/$name-" \
      "$work" >"$O/fuzz/$name.log" 2>&1; then
    pass=$((pass + 1)); echo "ok - $name ($(grep -c . "$O/fuzz/$name.log") log lines)"
  else
    fail=$((fail + 1)); echo "not ok - $name: see $O/fuzz/$name.log and $O/fuzz/$name-*"
    tail -n 20 "$O/fuzz/$name.log" | sed 's/^/#   /'
  fi
  rm -rf "$work"
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
