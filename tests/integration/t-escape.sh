#!/usr/bin/env bash
# t-escape.sh: with every storage driver, even a --privileged container (all capabilities
# of the user namespace, no seccomp) finds no way to a host file through any process it
# can see: /proc/PID/fd/N/.., /proc/PID/root, /proc/PID/cwd. fuse-overlayfs keeps fds on
# host directories, so its daemon must not be among those processes.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

marker="$T_SCRATCH/host-marker"
secret="host-secret-$$-$RANDOM"
echo "$secret" >"$marker"
rel=${marker#/}
ups=$(printf '../%.0s' $(seq 24))
# shellcheck disable=SC2016
scan='for p in /proc/[0-9]*; do
  for f in "$p"/fd/* "$p"/root "$p"/cwd; do
    cat "$f/'"$ups$rel"'" 2>/dev/null
    cat "$f/'"$rel"'" 2>/dev/null
    cat "$f/host-marker" 2>/dev/null
  done
done; echo scanned; ps -o comm'

for d in overlay fuse-overlayfs copy-up; do
  if [ "$d" = fuse-overlayfs ] && ! { command -v fuse-overlayfs >/dev/null && [ -r /dev/fuse ] && [ -w /dev/fuse ]; }; then
    fail "fuse-overlayfs is usable here (binary and /dev/fuse read-write)" "$(ls -l /dev/fuse 2>&1)"
    continue
  fi
  for opts in "--privileged" "--cap-add SYS_PTRACE"; do
    # shellcheck disable=SC2086
    nrun --storage-driver "$d" run --rm $opts busybox sh -c "$scan"
    check_match "$d, $opts: the scan ran" 'scanned' "$OUT"
    check_no_match "$d, $opts: no host file is reachable through /proc" "$secret" "$OUT"
    check_no_match "$d, $opts: no storage daemon is visible in the container" 'fuse-overlayfs' "$OUT"
  done
done

# Control: the scan finds the marker through an fd when one really leads to it (an fd
# that the container's shell holds on a volume of the marker's directory).
nrun run --rm --privileged -v "$T_SCRATCH:/vol:ro" busybox sh -c "exec 7</vol; $scan"
check_match "control: the same scan finds a host file an fd really leads to" "$secret" "$OUT"

# Where podman holds, nook holds. A default run of podman 4.3 (rootless, runc) and of nook
# were compared by listing every directory and reading every file of /proc, /proc/sys/kernel,
# /sys, /sys/{fs,kernel,dev,class,devices} and /dev from inside: the one thing podman hid and
# nook showed was /sys/dev/block (the host's block devices by major:minor, links into
# /sys/devices), masked by containers/common's list. With --network host /sys is the
# host's, bound read-only: the mask must cover it there too.
for opts in "" "--network host"; do
  # shellcheck disable=SC2086
  nrun run --rm $opts busybox sh -c 'ls -A /sys/dev/block | wc -l; ls -A /sys/firmware | wc -l'
  check_eq "run ${opts:-(default)}: /sys/dev/block and /sys/firmware list nothing, as with podman" \
    "0${NL}0" "$OUT"
done

done_testing
