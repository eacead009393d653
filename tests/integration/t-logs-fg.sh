#!/usr/bin/env bash
# t-logs-fg.sh: a foreground `run --rm` without a name whose output is a terminal is
# logged (another terminal can follow it with `nook logs`, as Docker's); with its output
# not on a terminal it takes the direct path (start-up), not logged.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
command -v script >/dev/null || skip_all "script (util-linux) is not installed"
setup_image

tag=lf$$
gate=$(make_gate lf-gate)
# stdout on a pty (script), stdin not a terminal
(timeout 60 script -qec "$NOOK run --rm -l t=$tag -v $gate:/gate busybox sh -c 'echo out-line; echo err-line >&2; read x </gate'" /dev/null \
  </dev/null >"$T_SCRATCH/tty.out" 2>&1) &
spid=$!
listed() { [ -n "$("$NOOK" ps -q --no-trunc -f "label=t=$tag")" ]; }
wait_until "ps lists the foreground --rm run on a terminal" 30 listed
id=$("$NOOK" ps -q --no-trunc -f "label=t=$tag" | head -1)
logged() { "$NOOK" logs "$id" 2>&1 | grep -q err-line; }
wait_until "logs shows what it wrote" 30 logged
nrun logs "$id"
check_eq "logs: its stdout" "out-line" "$OUT"
check_eq "logs: its stderr apart" "err-line" "$ERR"
# follow: ends when the container does
"$NOOK" logs -f "$id" >"$T_SCRATCH/follow.out" 2>&1 &
fpid=$!
following() { grep -q out-line "$T_SCRATCH/follow.out"; }
wait_until "logs -f shows what was written before" 30 following
open_gate "$gate"
wait "$spid"
check_eq "the run on a terminal ends with 0" 0 "$?"
wait "$fpid"
check_eq "logs -f ends with the container" 0 "$?"
check_match "the terminal got the output too" 'out-line' "$(cat "$T_SCRATCH/tty.out")"
gone() { [ -z "$("$NOOK" ps -aq -f "label=t=$tag")" ]; }
wait_until "--rm removed it" 30 gone

# not on a terminal: the direct path, no log (logs says it has none, exit 0 as Docker
# for a container whose driver is none)
tag2=lg$$
gate2=$(make_gate lf-gate2)
"$NOOK" run --rm -l "t=$tag2" -v "$gate2:/gate" busybox sh -c 'echo piped; read x </gate' >"$T_SCRATCH/pipe.out" 2>&1 &
rpid=$!
listed2() { [ -n "$("$NOOK" ps -q --no-trunc -f "label=t=$tag2")" ]; }
wait_until "ps lists the piped --rm run" 30 listed2
id2=$("$NOOK" ps -q --no-trunc -f "label=t=$tag2" | head -1)
nrun logs "$id2"
check_eq "the direct path keeps no log" "" "$OUT"
open_gate "$gate2"
wait "$rpid"
check_eq "the piped run ends with 0" 0 "$?"
check_eq "its output went to the pipe" "piped" "$(cat "$T_SCRATCH/pipe.out")"

done_testing
