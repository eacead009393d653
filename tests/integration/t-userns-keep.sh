#!/usr/bin/env bash
# t-userns-keep.sh: with a subordinate range, runs share one kept user namespace
# (sandbox/userns_keep.c) instead of calling newuidmap/newgidmap each time; the keeper
# holds nothing, a dead keeper is replaced, NOOK_USERNS_KEEP=0 turns it off. Without a
# range no keeper is started.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

# keeper_pid (keeper.sh) finds the keeper through nook's pid file, wherever nook keeps it;
# a keeper is named by PID:STARTTIME (keeper_identity), never by its pid alone.
if [ "$NOOK_TEST_USER_KIND" = single ]; then
  check_status "single-id map: a run works" 0 run --rm busybox true
  new=$(comm -13 <(sort <<<"$T_KEEPERS_BEFORE") <(keeper_list | sort))
  check_eq "single-id map: no user namespace keeper is started" "" "$new"
  done_testing
fi

check_status "a run works" 0 run --rm busybox true
k1=$(keeper_pid "$NOOK")
check_match "a keeper process holds the user namespace" '^[0-9]+$' "$k1"
id1=$(keeper_identity "$k1")
check_status "a second run works" 0 run --rm busybox true
check_eq "the second run reused the same keeper" "$id1" "$(keeper_identity "$(keeper_pid "$NOOK")")"

nrun run --rm busybox cat /proc/self/uid_map
check_match "containers still see the full range map" '^ *0 +[0-9]+ +1'$'\n'' *1 +[0-9]+ +65536' "$OUT"
nrun run --rm busybox sh -c 'readlink /proc/self/ns/user'
ns_a=$OUT
check_eq "the user namespace is the keeper's" "$(readlink "/proc/$k1/ns/user")" "$ns_a"
# Two containers alive at the same time (a freed namespace's inode number is reused, so
# runs one after the other prove nothing): the first prints its namespaces and blocks on a
# fifo until the second has printed its own.
gate=$(make_gate ns-gate)
nsa=$T_SCRATCH/ns-a
"$NOOK" run --rm -v "$T_SCRATCH:/sync" busybox sh -c \
  'for n in user mnt pid net; do readlink /proc/self/ns/$n; done; read -r _ </sync/ns-gate' \
  >"$nsa" 2>"$nsa.err" </dev/null &
apid=$!
if wait_until "the first container printed its namespaces" 60 sh -c '[ -f "$1" ] && [ "$(wc -l <"$1")" -ge 4 ]' _ "$nsa"; then
  nrun run --rm busybox sh -c 'for n in user mnt pid net; do readlink /proc/self/ns/$n; done'
  a_alive=$(kill -0 "$apid" 2>/dev/null && echo 1 || echo 0)
  check_eq "the first container was still running while the second ran" 1 "$a_alive"
  check_eq "both share the keeper's user namespace" "$(head -n 1 "$nsa")" "$(head -n 1 <<<"$OUT")"
  check_eq "mount, PID and network namespaces are new for each run" "" \
    "$(comm -12 <(tail -n 3 "$nsa" | sort) <(tail -n 3 <<<"$OUT" | sort))"
  check_eq "the second container printed 3 of them" 3 "$(tail -n 3 <<<"$OUT" | grep -c .)"
fi
open_gate "$gate" || fail "the first container was waiting on its fifo" "$(cat "$nsa" "$nsa.err")"
rc=0
wait "$apid" || rc=$?
check_eq "the first container then ends (0)" 0 "$rc"

# The keeper holds no host files: stdio on /dev/null, nothing else, cwd /, no arguments.
fds=$(ls "/proc/$k1/fd" | tr '\n' ' ')
check_eq "the keeper has only fds 0 1 2 open" "0 1 2 " "$fds"
check_eq "the keeper's fds are /dev/null" "/dev/null" "$(readlink "/proc/$k1/fd/1")"
check_eq "the keeper's cwd is /" "/" "$(readlink "/proc/$k1/cwd")"
check_eq "the keeper's command line is nook-userns" "nook-userns" "$(tr '\0' '\n' <"/proc/$k1/cmdline" | head -n 1)"
check_no_match "the keeper maps nothing of nook" "$NOOK" "$(cat "/proc/$k1/maps")"
check_eq "the keeper has no environment" 0 "$(wc -c <"/proc/$k1/environ")"

# The keeper blocks no signal: SIGTERM ends it. A dead keeper is replaced.
check_eq "the keeper blocks no signal" "0000000000000000" "$(awk '/^SigBlk:/ { print $2 }' "/proc/$k1/status")"
kill -TERM "$k1"
keeper_gone() { [ "$(keeper_identity "$k1")" != "$id1" ]; }
wait_until "the keeper ends on SIGTERM" 30 keeper_gone
check_status "a run after the keeper died works" 0 run --rm busybox true
k2=$(keeper_pid "$NOOK")
id2=$(keeper_identity "$k2")
check_eq "a new keeper took its place" 1 "$([ -n "$id2" ] && [ "$id2" != "$id1" ] && echo 1 || echo 0)"

# Off switch: a user namespace of the run's own.
nrun run --rm busybox readlink /proc/self/ns/user
keep_ns=$OUT
OUT=$(NOOK_USERNS_KEEP=0 "$NOOK" run --rm busybox readlink /proc/self/ns/user 2>&1)
check_eq "NOOK_USERNS_KEEP=0: the run still works" 1 "$([ -n "$OUT" ] && echo 1 || echo 0)"
check_eq "NOOK_USERNS_KEEP=0: the run has a user namespace of its own" 1 \
  "$([ "$OUT" != "$keep_ns" ] && echo 1 || echo 0)"
OUT=$(NOOK_USERNS_KEEP=0 "$NOOK" run --rm busybox cat /proc/self/uid_map 2>&1)
check_match "NOOK_USERNS_KEEP=0: the same map" '^ *0 +[0-9]+ +1'$'\n'' *1 +[0-9]+ +65536' "$OUT"

done_testing
