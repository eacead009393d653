#!/usr/bin/env bash
# t-init-end.sh: when the command ends, the init ends the rest of the container before
# nook returns: a background process the command left (an orphan of the init) and a
# process `nook exec` started; and a container whose command leaves nothing ends as
# quickly (the init looks at its PID namespace's /proc instead of kill(-1) over the host).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

# An orphan that ignores SIGTERM: nook returns, and the orphan is gone by then.
mark=$((900000 + RANDOM))
out=$(timeout 60 "$NOOK" run --rm busybox sh -c \
  "(trap '' TERM HUP; exec sleep $mark) </dev/null >/dev/null 2>&1 & echo left" 2>&1)
check_eq "a run whose command leaves a background process returns (within 60 s)" "0 left" "$? $out"
alive=$(pgrep -u "$(id -u)" -f "sleep $mark" | while read -r p; do pid_ended "$p" || echo "$p"; done)
check_eq "... and the background process has ended before nook returned" "" "$alive"

# A process started by `nook exec` (not a child of the init) ends with the container too.
gate=$(make_gate end-gate)
"$NOOK" run --rm -v "$gate:/gate" busybox sh -c 'read x </gate' >"$T_SCRATCH/run.out" 2>&1 &
rpid=$!
listed() { "$NOOK" ps -q --no-trunc | grep -qE '^[0-9a-f]{64}$'; }
wait_until "ps lists the foreground --rm run" 30 listed
id=$("$NOOK" ps -q --no-trunc | head -1)
mark2=$((mark + 1))
"$NOOK" exec "$id" sleep "$mark2" >/dev/null 2>&1 &
epid=$!
in_ns() { pgrep -u "$(id -u)" -f "^sleep $mark2" >/dev/null; }
wait_until "the exec'd process runs" 30 in_ns
open_gate "$gate"
wait "$rpid"
check_eq "the run ends as its command" 0 "$?"
exec_done() { pid_ended "$epid"; }
wait_until "the exec'd process ends with the container" 30 exec_done
wait "$epid"
check_eq "... killed (nook exec says 137)" 137 "$?"

# Nothing left: the status is the command's.
check_status "a command that leaves nothing: its status" 5 run --rm busybox sh -c 'exit 5'

done_testing
