#!/usr/bin/env bash
# t-wait-fg.sh: `nook wait` of a foreground `run --rm` without a name whose output is not
# a terminal (the direct path: no supervisor) blocks until it ends and prints its exit
# code, as Docker's wait; two waiters both get it. The container is held by a gate the
# test opens once both waiters are seen waiting.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

tag=wf$$
gate=$(make_gate wf-gate)
"$NOOK" run --rm -l "t=$tag" -v "$gate:/gate" busybox sh -c 'read x </gate; exit 5' >/dev/null 2>&1 &
rpid=$!
listed() { [ -n "$("$NOOK" ps -q --no-trunc -f "label=t=$tag")" ]; }
wait_until "ps lists the foreground run" 30 listed
id=$("$NOOK" ps -q --no-trunc -f "label=t=$tag" | head -1)
"$NOOK" wait "$id" >"$T_SCRATCH/w1" 2>&1 &
w1=$!
"$NOOK" wait "${id:0:12}" >"$T_SCRATCH/w2" 2>&1 &
w2=$!
# both waiters are waiting once each has the container's exit FIFO open
waiting() {
  local n=0 p f
  for p in "$w1" "$w2"; do
    for f in "/proc/$p/fd/"*; do
      [[ "$(readlink "$f" 2>/dev/null)" == */exit.fifo ]] && n=$((n + 1)) && break
    done
  done
  [ "$n" = 2 ]
}
wait_until "both waiters wait" 30 waiting
check "the run is still going" kill -0 "$rpid"
open_gate "$gate"
wait "$w1"
check_eq "wait prints the exit code once it ends" "0 5" "$? $(cat "$T_SCRATCH/w1")"
wait "$w2"
check_eq "... a second waiter too" "0 5" "$? $(cat "$T_SCRATCH/w2")"
wait "$rpid"
check_eq "the run's own status" 5 "$?"
done_testing
