#!/usr/bin/env bash
# t-wait-cond.sh: `wait --condition` given several times waits for any of them (podman's),
# removed among them too; podman's "configured" (created); next-exit, an event, is not
# combined. The waiter is seen polling before the event it waits for (no sleep).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

nrun create --name wc1 busybox true
check_eq "create" 0 "$RC"
nrun wait --condition configured wc1
check_eq "podman's configured: a created container, -1 at once" "0 -1" "$RC $OUT"
nrun wait --condition running --condition created wc1
check_eq "several conditions: any of them" "0 -1" "$RC $OUT"

# running or removed, on a created container that is removed: returns when it is gone
timeout 60 "$NOOK" wait --condition running --condition removed wc1 >"$T_SCRATCH/w1" 2>&1 &
wpid=$!
# (the waiter, under timeout: its child is nook; it is polling once it has the
# containers directory open)
waiter_open() {
  local c f
  c=$(cut -d' ' -f1 "/proc/$wpid/task/$wpid/children" 2>/dev/null) || return 1
  for f in "/proc/$c/fd/"*; do
    [[ "$(readlink "$f" 2>/dev/null)" == */containers ]] && return 0
  done
  return 1
}
wait_until "the waiter polls" 30 waiter_open
nrun rm wc1
check_eq "rm" 0 "$RC"
wait "$wpid"
check_eq "running or removed: returns once removed, with its exit code (0)" "0 0" "$? $(cat "$T_SCRATCH/w1")"

# exited or removed of a --rm container that ends with 3
gate=$(make_gate wc-gate)
nrun run -d --rm --name wc2 -v "$gate:/gate" busybox sh -c 'read x </gate; exit 3'
timeout 60 "$NOOK" wait --condition removed --condition exited wc2 >"$T_SCRATCH/w2" 2>&1 &
wpid=$!
wait_until "the second waiter polls" 30 waiter_open
open_gate "$gate"
wait "$wpid"
check_eq "removed or exited of a --rm run: its exit code" "0 3" "$? $(cat "$T_SCRATCH/w2")"

check_status "next-exit with another condition is refused" 125 wait --condition next-exit --condition running x
check_match "... saying so" 'next-exit.*cannot be combined' "$ERR"
done_testing
