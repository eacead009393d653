#!/usr/bin/env bash
# tests/run-fuzz-brief.sh BUILD_DIR: build the libFuzzer targets (clang) and run each on
# NOOK_FUZZ_RUNS (default 8000) inputs from a fixed seed: the brief fuzzing `make test` and
# CI do. Deterministic, so CI is never red by chance; NOOK_FUZZ_SECONDS=N runs each for N
# seconds instead (what `make fuzz` does, with FUZZ_SECONDS).
# Ends with "fuzz: N passed, N failed" (from tests/run-fuzz.sh).
set -uo pipefail
O=${1:-build}
cd "$(dirname "$0")/.." || exit 125
if ! command -v clang >/dev/null; then
  echo "not ok - clang is missing: the fuzz targets cannot be built (ci/deps.sh installs it)"
  echo "fuzz: 0 passed, 1 failed"
  exit 1
fi
mkdir -p "$O"
if ! make --no-print-directory -j"$(nproc)" O="$O" fuzz-build >"$O/fuzz-build.log" 2>&1; then
  tail -n 30 "$O/fuzz-build.log" | sed 's/^/#   /'
  echo "not ok - the fuzz targets do not build (see $O/fuzz-build.log)"
  echo "fuzz: 0 passed, 1 failed"
  exit 1
fi
if [ -n "${NOOK_FUZZ_SECONDS:-}" ]; then
  exec tests/run-fuzz.sh "$O" "$NOOK_FUZZ_SECONDS"
fi
exec tests/run-fuzz.sh "$O" "runs:${NOOK_FUZZ_RUNS:-8000}:1"
