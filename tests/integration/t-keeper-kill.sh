#!/usr/bin/env bash
# t-keeper-kill.sh: a nook killed with SIGKILL while it starts the user namespace keeper
# (sandbox/userns_keep.c) leaves nothing that stops the user's later runs: the keeper and
# the process between them hold no copy of nook's lock or of the pipe the keeper waits on,
# so the half-started keeper sees nook die and goes. The kill is not left to luck: the
# hooked test build (NOOK_HOOKED, util/test_hook.h) stops at point keeper-started.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

need_hooked

# A runtime directory of this file's own, so no keeper exists there yet.
rt=$T_SCRATCH/rt
mkdir -m 0700 "$rt"
hooks=$T_SCRATCH/hooks
mkdir -p "$hooks"
mkfifo "$hooks/keeper-started.reached" "$hooks/keeper-started.go"

# The processes of a killed run: nook's own command line (the half-started keeper is a fork
# of nook and keeps it), zombies excluded.
leftovers() {
  local p st
  for p in $(pgrep -u "$(id -u)" -f "^$NOOK_HOOKED run --rm busybox true\$" 2>/dev/null); do
    st=$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null) || continue
    [ "$st" = Z ] || echo "$p"
  done
}

no_leftovers() { [ -z "$(leftovers)" ]; }

XDG_RUNTIME_DIR=$rt NOOK_TEST_HOOK_DIR=$hooks "$NOOK_HOOKED" run --rm busybox true \
  </dev/null >"$T_SCRATCH/run.out" 2>"$T_SCRATCH/run.err" &
runpid=$!
if [ "$NOOK_TEST_USER_KIND" = range ]; then
  if timeout 60 cat "$hooks/keeper-started.reached" >/dev/null; then
    ok "the run stopped while the keeper it started waits for its maps"
  else
    fail "the run stopped while the keeper it started waits for its maps" "$(cat "$T_SCRATCH/run.err")"
  fi
  kill -KILL "$runpid" 2>/dev/null
  wait "$runpid" 2>/dev/null
  XDG_RUNTIME_DIR=$rt NRUN_STDIN=/dev/null nrun run --rm busybox echo after
  check_eq "a later run is not stopped by the killed one (status)" 0 "$RC"
  check_eq "a later run is not stopped by the killed one (output)" after "$OUT"
  if poll 60 no_leftovers; then
    ok "no process of the killed run is left (the half-started keeper went)"
  else
    fail "no process of the killed run is left (the half-started keeper went)" "$(ps -o pid,stat,args -p "$(leftovers | tr '\n' ',' | sed 's/,$//')" 2>&1)"
  fi
  # The keeper the later run started lives in this file's runtime directory: end it here.
  k=$(head -c 32 "$rt/nook/userns.pid" 2>/dev/null)
  if [ -n "$k" ] && keeper_identity "$k" >/dev/null; then kill "$k"; fi
else
  # No keeper without a range: the run never reaches the point.
  wait "$runpid"
  check_eq "single-id map: the hooked run completes (no keeper to start)" 0 "$?"
  if [ -e "$rt/nook/userns.pid" ]; then
    fail "single-id map: no keeper pid file is made" "$(cat "$rt/nook/userns.pid")"
  else
    ok "single-id map: no keeper pid file is made"
  fi
fi
done_testing
