#!/usr/bin/env bash
# t-netns-none.sh: --network none's network namespace is made by the container's own child
# (nook clones it without CLONE_NEWNET; the command, started early, makes the namespace
# while PID 1 mounts the rootfs, and PID 1 joins it): a new one, lo up, and one namespace
# for the command and PID 1 (seen through `nook exec`, which joins PID 1's), with or without
# the early command (--privileged and seccomp=unconfined have none).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

host=$(readlink /proc/self/ns/net)
for opts in "" "--privileged" "--security-opt seccomp=unconfined"; do
  # shellcheck disable=SC2086 # (opts: zero or more words)
  nrun run --rm --network none $opts busybox sh -c \
    'readlink /proc/self/ns/net; cat /sys/class/net/lo/flags; ls /sys/class/net'
  ns=$(sed -n 1p <<<"$OUT")
  check_match "--network none ${opts:-(default)}: a network namespace" '^net:\[[0-9]+\]$' "$ns"
  check_eq "--network none ${opts:-(default)}: not the caller's" "" "$([ "$ns" = "$host" ] && echo same)"
  check_eq "--network none ${opts:-(default)}: lo up (IFF_UP|IFF_LOOPBACK)" 0x9 "$(sed -n 2p <<<"$OUT")"
  check_eq "--network none ${opts:-(default)}: only lo" lo "$(sed -n '3,$p' <<<"$OUT")"
done

# PID 1 is in the command's namespace: exec joins PID 1's namespaces.
for opts in "" "--privileged"; do
  out=$T_SCRATCH/ns-$RANDOM
  mkdir -m 0777 "$out"
  # shellcheck disable=SC2086
  nrun run -d --network none $opts -v "$out:/out" busybox sh -c \
    'readlink /proc/self/ns/net >/out/ns.tmp && mv /out/ns.tmp /out/ns; exec sleep 1000'
  id=$OUT
  if wait_until "--network none ${opts:-(default)}: the command says its namespace" 30 test -s "$out/ns"; then
    nrun exec "$id" readlink /proc/self/ns/net
    check_eq "--network none ${opts:-(default)}: PID 1 (exec) and the command share the namespace" \
      "$(cat "$out/ns")" "$OUT"
  fi
  nrun rm -f "$id"
done

done_testing
