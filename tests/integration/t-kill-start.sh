#!/usr/bin/env bash
# t-kill-start.sh: a `nook run` killed with SIGKILL between cloning the container and the
# container's request to die with it (PR_SET_PDEATHSIG) leaves no container running on its
# own: the child polls a pidfd of nook right after the request. The kill is not left to
# luck: the hooked test build (NOOK_HOOKED, util/test_hook.h) stops the child at point
# child-cloned, before the request.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

need_hooked

hooks=$T_SCRATCH/hooks
shared=$T_SCRATCH/shared
mkdir -p "$hooks" "$shared"
mkfifo "$hooks/child-cloned.reached" "$hooks/child-cloned.go"

# Live (non-zombie) processes of the killed run: the child is a fork of nook and keeps its
# command line until the container's command execs.
marker="$T_SCRATCH/shared:/s"
live_run() {
  local p st
  for p in $(pgrep -u "$(id -u)" -f -- "$marker" 2>/dev/null); do
    st=$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null) || continue
    [ "$st" = Z ] || return 0
  done
  return 1
}
run_gone() { ! live_run; }

NOOK_TEST_HOOK_DIR=$hooks "$NOOK_HOOKED" run --rm --network none -v "$marker" busybox \
  sh -c 'touch /s/ran; read -r _ </s/never 2>/dev/null; exec sleep 30' \
  </dev/null >"$T_SCRATCH/run.out" 2>"$T_SCRATCH/run.err" &
runpid=$!
if timeout 60 cat "$hooks/child-cloned.reached" >/dev/null; then
  ok "the container's first process stopped before asking to die with nook"
else
  fail "the container's first process stopped before asking to die with nook" "$(cat "$T_SCRATCH/run.err")"
fi
kill -KILL "$runpid" 2>/dev/null
wait "$runpid" 2>/dev/null
# Let the child go on, now that its nook is dead.
timeout 30 sh -c ': >"$1"' _ "$hooks/child-cloned.go"
if poll 30 run_gone; then
  ok "the child of a killed nook ends on its own"
else
  fail "the child of a killed nook ends on its own" "$(pgrep -a -u "$(id -u)" -f -- "$marker")"
  pkill -KILL -u "$(id -u)" -f -- "$marker" 2>/dev/null
fi
if [ -e "$shared/ran" ]; then
  fail "the container's command never ran without its nook"
else
  ok "the container's command never ran without its nook"
fi
done_testing
