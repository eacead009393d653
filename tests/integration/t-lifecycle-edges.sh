#!/usr/bin/env bash
# t-lifecycle-edges.sh: edges of the lifecycle verbs, each ordered by the hooked test
# build's points (util/test_hook.h), not by luck:
#  - `nook wait` on a foreground `run --rm` without a name (no supervisor) that had told
#    its waiters, nobody then, just before the waiter made its FIFO: the real exit code;
#  - `pause` of such a run: a clear refusal (no supervisor to record it), not "is not
#    running"; `unpause`: "is not paused";
#  - a supervisor killed between making the container's freezer cgroup and going on:
#    the cgroup is recorded already, and the removal of the container (by the run that
#    started it, or `rm -f`) removes it.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

need_hooked
hooks=$T_SCRATCH/hooks
mkdir -p "$hooks"
gates() { local p; for p in "$@"; do rm -f "$hooks/$p.reached" "$hooks/$p.go"; mkfifo "$hooks/$p.reached" "$hooks/$p.go"; done; }
reached() { timeout 60 cat "$hooks/$1.reached" >/dev/null; }

# --- wait: the run told its waiters (none) before this one listened
gates waiters-told waiter-listening
NOOK_TEST_HOOK_DIR=$hooks "$NOOK_HOOKED" run --rm busybox sh -c 'exit 7' </dev/null >/dev/null 2>&1 &
npid=$!
if reached waiters-told; then
  id=$("$NOOK" ps -q --no-trunc)
  check_match "the foreground run is listed while it ends" '^[0-9a-f]{64}$' "$id"
  NOOK_TEST_HOOK_DIR=$hooks "$NOOK_HOOKED" wait "$id" >"$T_SCRATCH/wait.out" 2>"$T_SCRATCH/wait.err" &
  wpid=$!
  if reached waiter-listening; then
    open_gate "$hooks/waiters-told.go" >/dev/null
    wait "$npid"
    check_eq "the run's own exit code" 7 "$?"
    open_gate "$hooks/waiter-listening.go" >/dev/null
    wait "$wpid"
    wrc=$?
    check_eq "wait after the run told nobody: the real exit code" "0 7" "$wrc $(cat "$T_SCRATCH/wait.out")"
  else
    fail "the waiter stopped at waiter-listening" "$(cat "$T_SCRATCH/wait.err")"
    kill -KILL "$wpid" 2>/dev/null
    open_gate "$hooks/waiters-told.go" >/dev/null
  fi
else
  fail "the run stopped at waiters-told"
  kill -KILL "$npid" 2>/dev/null
fi
wait 2>/dev/null

# --- pause / unpause of a foreground run without a supervisor
gate=$(make_gate fg-pause)
"$NOOK" run --rm -v "$T_SCRATCH:/s" busybox sh -c 'echo up >/s/up; read x </s/fg-pause' </dev/null >/dev/null 2>&1 &
npid=$!
if wait_for "$T_SCRATCH/up" 300; then
  id=$("$NOOK" ps -q --no-trunc)
  nrun pause "$id"
  check_eq "pause of a foreground run without a supervisor fails" 1 "$RC"
  check_match "... saying why (no supervisor), not 'not running'" "without a supervisor.*cannot be paused" "$ERR"
  nrun unpause "$id"
  check_eq "unpause of it: not paused" "1 Error: container $id is not paused" "$RC $ERR"
  nrun ps -q --no-trunc
  check_eq "it still runs" "$id" "$OUT"
  open_gate "$gate" >/dev/null
  wait "$npid"
  check_eq "it ends as it would have" 0 "$?"
else
  fail "the foreground run started"
  kill -KILL "$npid" 2>/dev/null
fi
nrun pause nosuchcontainer
check_match "pause of no container: no such container" "No such container" "$ERR"

# --- a supervisor killed right after it made the container's cgroup
if "$NOOK" info 2>/dev/null | grep -q "the cgroup freezer"; then
  cgk=cgk$$
  gates supervisor-cgroup-made
  NOOK_TEST_HOOK_DIR=$hooks "$NOOK_HOOKED" run -d --name "$cgk" busybox sleep 4242 </dev/null >/dev/null 2>&1 &
  npid=$!
  if reached supervisor-cgroup-made; then
    # the supervisor: nook-supervise of this run (its command line is the run's), this
    # user's (the other test user runs this file at the same time: its supervisor was
    # found first once, the kill was refused and this run waited for ever)
    sup=
    for d in /proc/[0-9]*; do
      if [ -O "$d" ] && [ "$(cat "$d/comm" 2>/dev/null)" = nook-supervise ] &&
        [[ "$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null)" == *" --name $cgk "* ]]; then
        sup=${d#/proc/}
        break
      fi
    done
    id=$("$NOOK" ps -aq --no-trunc --filter "name=$cgk")
    cg=$(find /sys/fs/cgroup -maxdepth 6 -type d -name "nook-$id" 2>/dev/null | head -n 1)
    check_match "the container's cgroup exists at the point" "/nook-$id\$" "$cg"
    check_match "the supervisor is found" '^[0-9]+$' "$sup"
    [ -n "$sup" ] && kill -KILL "$sup"
    wait "$npid" 2>/dev/null
    # (the run -d, told its supervisor died, removes the container itself)
    nrun rm -f "$cgk"
    check_eq "rm -f of what the killed supervisor left" 0 "$RC"
    nrun ps -aq
    check_eq "nothing in ps -a" "" "$OUT"
    check "its cgroup is removed with it" test ! -e "${cg:-/nonexistent}"
    [ -n "$cg" ] && [ -e "$cg" ] && rmdir "$cg" 2>/dev/null
  else
    fail "the supervisor stopped at supervisor-cgroup-made"
    kill -KILL "$npid" 2>/dev/null
  fi
elif [[ ${NOOK_TEST_FREEZER:-} == impossible:* ]]; then
  diag "NO CGROUP FREEZER ON THIS MACHINE ($NOOK_TEST_FREEZER): the cgroup edge is not checked"
else
  fail "no cgroup freezer for this user (nook info), and ci/prepare.sh did not say why"
fi
done_testing
