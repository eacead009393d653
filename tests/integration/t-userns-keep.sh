#!/usr/bin/env bash
# t-userns-keep.sh: with a subordinate range, runs share one kept user namespace
# (sandbox/userns_keep.c) instead of calling newuidmap/newgidmap each time; the keeper
# holds nothing, a dead keeper is replaced, NOOK_USERNS_KEEP=0 turns it off. Without a
# range no keeper is started.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

rt=${XDG_RUNTIME_DIR:+$XDG_RUNTIME_DIR/nook}
rt=${rt:-/tmp/nook-$(id -u)}
keeper_pid() {
  local p
  p=$(cat "$rt/userns.pid" 2>/dev/null) || return 0
  [ "$(tr '\0' '\n' <"/proc/$p/cmdline" 2>/dev/null | head -n 1)" = nook-userns ] && echo "$p"
  return 0
}

if [ "$NOOK_TEST_USER_KIND" = single ]; then
  pkill -u "$(id -u)" -f '^nook-userns ' 2>/dev/null || true
  rm -f "$rt/userns.pid"
  check_status "single-id map: a run works" 0 run --rm busybox true
  check_eq "single-id map: no user namespace keeper is started" "" "$(keeper_pid)"
  done_testing
fi

check_status "a run works" 0 run --rm busybox true
k1=$(keeper_pid)
check_match "a keeper process holds the user namespace" '^[0-9]+$' "$k1"
check_status "a second run works" 0 run --rm busybox true
check_eq "the second run reused the same keeper" "$k1" "$(keeper_pid)"

nrun run --rm busybox cat /proc/self/uid_map
check_match "containers still see the full range map" '^ *0 +[0-9]+ +1'$'\n'' *1 +[0-9]+ +65536' "$OUT"
nrun run --rm busybox sh -c 'readlink /proc/self/ns/user'
ns_a=$OUT
nrun run --rm busybox sh -c 'for n in mnt pid net; do readlink /proc/self/ns/$n; done'
mnt_a=$OUT
nrun run --rm busybox sh -c 'for n in mnt pid net; do readlink /proc/self/ns/$n; done'
check_eq "the user namespace is the keeper's" "$(readlink "/proc/$k1/ns/user")" "$ns_a"
check_eq "mount, PID and network namespaces are still new for each run" 1 \
  "$([ -n "$mnt_a" ] && [ "$mnt_a" != "$OUT" ] && echo 1 || echo 0)"

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
for _ in $(seq 50); do [ -d "/proc/$k1" ] || break; sleep 0.1; done
check_status "a run after the keeper died works" 0 run --rm busybox true
k2=$(keeper_pid)
check_eq "a new keeper took its place" 1 "$([ -n "$k2" ] && [ "$k2" != "$k1" ] && echo 1 || echo 0)"

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
