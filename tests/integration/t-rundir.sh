#!/usr/bin/env bash
# t-rundir.sh: nook's runtime directory (the kept user namespace's pid and lock). When
# $XDG_RUNTIME_DIR/nook or /tmp/nook-UID cannot be trusted (another user may squat
# /tmp/nook-UID; here: a directory of mode 0777, a symlink), nook falls back to the private
# $XDG_STATE_HOME/nook/run, says so in `nook info`, and runs keep sharing one kept user
# namespace; `info` never promises a keeper that no run will start.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

# A short path: DIR/NAME of a unix socket in the runtime dir must fit in 108 bytes, and
# the scratch directory's path is long.
S=$(mktemp -d /tmp/nook-rd.XXXXXX)
trap '_lib_cleanup; rm -rf "$S"' EXIT
mkdir -p "$S/xdg" "$S/state"
export XDG_RUNTIME_DIR=$S/xdg XDG_STATE_HOME=$S/state
mkdir -m 0777 "$S/xdg/nook"
chmod 0777 "$S/xdg/nook"
fallback=$S/state/nook/run

# info_val KEY: the value of "KEY: ..." in $OUT
info_val() {
  sed -n "s/^$1: //p" <<<"$OUT" | head -n 1
}

nrun info
check_eq "info works with a runtime dir of mode 0777" 0 "$RC"
check_eq "info names the fallback and why" \
  "$fallback (fallback: '$S/xdg/nook' has mode 0777, not 0700)" "$(info_val 'Runtime directory')"
check_eq "the fallback exists, mode 0700" 700 "$(stat -c %a "$fallback" 2>&1)"
nrun info --format json
check_match "info --format json has RuntimeDirectory" \
  "\"RuntimeDirectory\": \"$fallback \\(fallback: " "$OUT"

keeper_pid() {
  cat "$fallback/userns.pid" 2>/dev/null
}

if [ "$NOOK_TEST_USER_KIND" = range ]; then
  nrun info
  check_eq "range: info says a keeper will be started" "kept by nook-userns, started by the next run" \
    "$(info_val 'User namespace')"
  # Two containers alive together share the kept user namespace.
  mkfifo "$S/go"
  "$NOOK" run --rm -v "$S/go:/go" busybox sh -c 'readlink /proc/self/ns/user; read x </go' \
    >"$S/a.out" 2>"$S/a.err" </dev/null &
  a=$!
  if wait_for "$S/a.out" 300; then
    nrun run --rm busybox readlink /proc/self/ns/user
    check_eq "range, fallback dir: two live containers share one user namespace" \
      "$(cat "$S/a.out")" "$OUT"
  else
    fail "range: the first container started" "$(cat "$S/a.err")"
  fi
  echo >"$S/go"
  wait "$a"
  check_match "range: the keeper's pid is recorded in the fallback dir" '^[0-9]+$' "$(keeper_pid)"
  nrun info
  check_eq "range: info names the running keeper" \
    "kept by nook-userns (pid $(keeper_pid)), shared by this user's runs" "$(info_val 'User namespace')"
fi

# A symlink is refused too, even to a directory of ours with mode 0700.
rmdir "$S/xdg/nook"
mkdir -m 0700 "$S/own"
ln -s "$S/own" "$S/xdg/nook"
nrun info
check_eq "a symlinked runtime dir: info names the fallback and why" \
  "$fallback (fallback: '$S/xdg/nook' is a symlink)" "$(info_val 'Runtime directory')"

# Neither can be trusted: info says so, and promises no keeper; runs still work.
chmod 0755 "$fallback"
nrun info
check_match "no trusted runtime dir: info says none and why" \
  "^none \\(no trusted runtime directory: '$S/xdg/nook' is a symlink; fallback: '$fallback' has mode 0755, not 0700\\)" \
  "$(info_val 'Runtime directory')"
if [ "$NOOK_TEST_USER_KIND" = range ]; then
  check_eq "range, no trusted runtime dir: info promises no keeper" \
    "new for each run (no trusted runtime directory to keep it)" "$(info_val 'User namespace')"
fi
check_status "no trusted runtime dir: a run still works" 0 run --rm busybox true
chmod 0700 "$fallback"

long=$T_SCRATCH/$(printf 'x%.0s' $(seq 60))
mkdir -p "$long"
XDG_STATE_HOME=$long nrun info
check_match "a fallback too long for unix socket paths is refused, and info says so" \
  "^none \\(.*fallback: '$long/nook/run' is too long for unix socket paths" \
  "$(info_val 'Runtime directory')"

# The keeper this file caused ends with it.
k=$(keeper_pid)
[ -n "$k" ] && [ "$(cat "/proc/$k/comm" 2>/dev/null)" = nook-userns ] && kill "$k"

done_testing
