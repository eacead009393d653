#!/usr/bin/env bash
# t-exec-start.sh: `ps` lists a foreground `run --rm` without a name (the direct path: no
# supervisor, no state) from its config.json on, before its command runs; exec then waits
# for the command instead of saying "is not running" (t-exec-fg failed so under load), and
# a stop meets the command. The run is held at the test hook child-cloned (its container's
# first process waits there, before any set-up) while ps lists it.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image
need_hooked

tag=xs$$
hooks=$T_SCRATCH/hooks
mkdir -p "$hooks"
mkfifo "$hooks/child-cloned.reached" "$hooks/child-cloned.go"
# (--network none: with a network nook would wait for the held process's namespace)
NOOK_TEST_HOOK_DIR=$hooks "$NOOK_HOOKED" run --rm --network none -l "t=$tag" busybox sleep 1000 \
  >"$T_SCRATCH/run.out" 2>&1 </dev/null &
rpid=$!
listed() { [ -n "$("$NOOK" ps -q --no-trunc -f "label=t=$tag")" ]; }
if timeout 60 cat "$hooks/child-cloned.reached" >/dev/null &&
  wait_until "ps lists the run held before its start" 60 listed; then
  id=$("$NOOK" ps -q --no-trunc -f "label=t=$tag" | head -1)
  "$NOOK" exec "${id:0:12}" echo in-container >"$T_SCRATCH/exec.out" 2>&1 </dev/null &
  epid=$!
  # (it could end only by failing: the run cannot start while it is held)
  check_fail "exec of a listed run that has not started yet waits for it" poll 3 pid_ended "$epid"
  open_gate "$hooks/child-cloned.go" >/dev/null
  wait "$epid"
  check_eq "... then runs in it" "0 in-container" "$? $(cat "$T_SCRATCH/exec.out")"
  nrun stop -t 30 "${id:0:12}"
  check_eq "stop of it: exit 0" 0 "$RC"
  wait "$rpid"
  check_eq "... the run ends by SIGTERM (143)" 143 "$?"
else
  fail "the run stopped at the test hook child-cloned" "$(cat "$T_SCRATCH/run.out")"
  kill -KILL "$rpid" 2>/dev/null
fi

done_testing
