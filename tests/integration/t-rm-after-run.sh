#!/usr/bin/env bash
# t-rm-after-run.sh: `rm NAME` right after a foreground `run --name NAME` returned removes
# it (t-storepath 5 failed once under load: "You cannot remove a running container").
# The cause: the network helper (nook-slirp) is a fork of the supervising nook, which holds
# its lock on the container directory; a helper killed at the container's end before it
# had closed the fds it inherited kept that lock through its exit (tens of ms: it holds the
# tap), after nook had returned.  The hooked build holds the helper right after its fork
# (hook net-helper-forked, whose FIFO nobody reads), so the container always ends first.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

need_hooked
hooks=$T_SCRATCH/hooks
mkdir -p "$hooks"
mkfifo "$hooks/net-helper-forked.reached"

bad=0
for i in $(seq 1 20); do
  NOOK_TEST_HOOK_DIR=$hooks timeout -k 5 60 "$NOOK_HOOKED" run --name "after$i" busybox true \
    >"$T_SCRATCH/run.out" 2>"$T_SCRATCH/run.err"
  rc=$?
  [ "$rc" = 0 ] || diag "run $i: status $rc: $(cat "$T_SCRATCH/run.err")"
  if ! "$NOOK" rm "after$i" >"$T_SCRATCH/rm.out" 2>"$T_SCRATCH/rm.err"; then
    bad=$((bad + 1))
    diag "rm $i: $(cat "$T_SCRATCH/rm.err")"
    "$NOOK" rm -f "after$i" >/dev/null 2>&1
  fi
done
check_eq "rm right after a foreground run --name (helper held before closing its fds): 20 of 20 removed" \
  0 "$bad"
check_eq "nothing left" "" "$("$NOOK" ps -a -q)"

done_testing
