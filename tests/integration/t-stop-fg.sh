#!/usr/bin/env bash
# t-stop-fg.sh: stop and kill reach a foreground `run --rm` without a name whose output is
# not a terminal (the direct path: no supervisor): the stop signal to its init, SIGKILL
# after -t; the run ends with the command's status and removes the container.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

start_fg() { # TAG CMD...: a piped foreground --rm run in the background; sets RPID, ID
  local tag=$1
  shift
  "$NOOK" run --rm -l "t=$tag" busybox "$@" >"$T_SCRATCH/$tag.out" 2>&1 &
  RPID=$!
  listed() { [ -n "$("$NOOK" ps -q --no-trunc -f "label=t=$tag")" ]; }
  wait_until "ps lists the foreground run $tag" 30 listed
  ID=$("$NOOK" ps -q --no-trunc -f "label=t=$tag" | head -1)
}
gone() { [ -z "$("$NOOK" ps -aq -f "label=t=$1")" ]; }

start_fg s1$$ sleep 1000
nrun stop -t 30 "${ID:0:12}"
check_eq "stop of the direct path: exit 0, its ID printed" "0 ${ID:0:12}" "$RC $OUT"
wait "$RPID"
check_eq "... the run ends with SIGTERM's status" 143 "$?"
wait_until "... and its container is removed" 30 gone s1$$

start_fg s2$$ sh -c 'trap "" TERM; echo trapped; while :; do sleep 1; done'
# (the trap is set once it says so: a TERM before would end it)
wait_until "s2 ignores SIGTERM" 60 grep -qs trapped "$T_SCRATCH/s2$$.out"
nrun stop -t 1 "$ID"
check_eq "stop -t 1 of a command that ignores SIGTERM: exit 0" 0 "$RC"
wait "$RPID"
check_eq "... SIGKILL after the timeout (137)" 137 "$?"
wait_until "... removed" 30 gone s2$$

start_fg s3$$ sleep 1000
nrun kill -s USR1 "$ID"
check_eq "kill -s USR1 of the direct path" 0 "$RC"
wait "$RPID"
check_eq "... the command got it (138)" 138 "$?"

nrun stop "$ID"
check_eq "stop once it is gone: No such container (1)" 1 "$RC"
done_testing
