#!/usr/bin/env bash
# t-netuser-life.sh: the lifecycle of a user-defined network's processes. The holder
# (nook-netns), its uplink (nook-uplink, nook-slirp) live while a container of the network
# does, survive the end of the first container while a second one runs, and end with the
# last one: after a normal exit, and after kill -9 of its nook. Liveness is watched through
# pidfds (zombies count as ended). `nook ps` shows nothing running afterwards, and the
# network works again (a new holder).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image
# shellcheck source=tests/integration/netlib.sh
. "$(dirname "$0")/netlib.sh"

V=$T_SCRATCH/v
mkdir -p "$V"
chmod 777 "$V"
me=$(id -u)

# the network's processes of this user (holder, uplink, user-mode stack), zombies left out
# (PID 1 reaps orphans late here)
net_procs() {
  ps -u "$me" -o pid=,stat=,comm= | awk '$2 !~ /^Z/ && $3 ~ /^nook-(netns|uplink|slirp)$/ {printf "%s ", $1}'
}

start_bg() {
  "$NOOK" "$@" >>"$T_SCRATCH/bg.out" 2>>"$T_SCRATCH/bg.err" </dev/null &
  BG=$!
}

nrun network create life
check_eq "network create life" 0 "$RC"
check_eq "no network process before a container uses it" "" "$(net_procs)"

# --- normal exits: the first ends, the second keeps the network; the last takes it along ---
start_bg run --rm --network life --name first -v "$V:/v" busybox sh -c \
  'touch /v/first.up; while [ ! -e /v/first.stop ]; do sleep 0.1; done'
BG1=$BG
wait_until "first is up" 30 test -e "$V/first.up" || diag "$(cat "$T_SCRATCH/bg.err")"
procs=$(net_procs)
check_match "the network's holder, uplink and stack run (${procs})" '^[0-9]+ [0-9]+ [0-9]+ $' "$procs"
start_bg run --rm --network life --name second -v "$V:/v" busybox sh -c \
  'touch /v/second.up; while [ ! -e /v/second.stop ]; do sleep 0.1; done; ping -c1 -W5 first >/v/second.ping 2>&1; echo $? >>/v/second.ping'
BG2=$BG
wait_until "second is up" 30 test -e "$V/second.up" || true
check_eq "the second container shares the holder" "$procs" "$(net_procs)"
: >"$V/first.stop"
wait "$BG1"
check_eq "first ends normally" 0 "$?"
# shellcheck disable=SC2086 # one pid a word
alive=0
for p in $procs; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
check_eq "the network's processes outlive the first container while the second runs" 3 "$alive"
nrun network inspect life
check_no_match "inspect: first has left the network" '"Name": "first"' "$OUT"
check_match "inspect: second is still on it" '"Name": "second"' "$OUT"
# shellcheck disable=SC2046,SC2086 # one pid a word
arm_waiter "$T_SCRATCH/w1" $procs $(kids "$BG2")
: >"$V/second.stop"
wait "$BG2"
check_eq "second ends normally" 0 "$?"
check_match "... and first's name no longer answers from second (it left)" 'bad address|1$' "$(cat "$V/second.ping" 2>/dev/null)"
check_eq "after the last container: holder, uplink, stack and container all end" all-ended "$(waiter_result "$T_SCRATCH/w1")"

# --- kill -9 of the last container's nook ----------------------------------------------------
start_bg run --rm --network life --name third -v "$V:/v" busybox sh -c \
  'touch /v/third.up; while :; do sleep 1; done'
wait_until "third is up" 30 test -e "$V/third.up" || true
procs=$(net_procs)
check_match "a new holder for the network (${procs})" '^[0-9]+ [0-9]+ [0-9]+ $' "$procs"
# shellcheck disable=SC2046,SC2086 # one pid a word
arm_waiter "$T_SCRATCH/w2" $procs $(kids "$BG")
kill -KILL "$BG"
wait "$BG" 2>/dev/null
check_eq "kill -9 of nook: holder, uplink, stack and container all end" all-ended "$(waiter_result "$T_SCRATCH/w2")"
nrun ps
check_no_match "ps shows no running container" 'Up ' "$OUT"
wait_until "inspect: the network has no container left" 60 sh -c "! '$NOOK' network inspect life | grep -q '\"Name\": \"third\"'" || true
nrun rm -f third
nrun run --rm --network life busybox sh -c 'ip -4 addr show eth0 | grep -c inet'
check_eq "the network works again afterwards" 1 "$OUT"
nrun network rm life
check_eq "network rm life" 0 "$RC"
done_testing
