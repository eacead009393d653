#!/usr/bin/env bash
# tests/run-fuzz-brief.sh BUILD_DIR: build the libFuzzer targets (clang) and run each
# for NOOK_FUZZ_SECONDS (default 5) seconds: the brief fuzzing `make test` and CI do.
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
exec tests/run-fuzz.sh "$O" "${NOOK_FUZZ_SECONDS:-5}"
