#!/usr/bin/env bash
# t-storepath.sh: a store whose path holds ',' and ':' (which overlay and fuse-overlayfs
# split their options on) still runs with overlay: nook names the directories by fd. The
# probe records overlay, not a driver that cannot work there; fuse-overlayfs, which resolves
# and splits paths itself, is refused up front with a clear message; copy-up works.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

NOOK_ROOT=$T_SCRATCH/'odd,dir:x'/root
export NOOK_ROOT
setup_image

overlay_possible() {
  local d=$T_SCRATCH/ovl
  mkdir -p "$d/l" "$d/u" "$d/w" "$d/m"
  unshare -Urm sh -c "mount -t overlay overlay -o lowerdir=$d/l,upperdir=$d/u,workdir=$d/w $d/m" \
    >/dev/null 2>&1
}
overlay_possible || skip_all "this kernel refuses overlayfs in a user namespace"

nrun info
check_match "a store path with ',' and ':': the probe records overlay" \
  "Storage driver: overlay \\(probed\\)($NL|\$)" "$OUT"
nrun run --rm busybox sh -c 'echo x >/etc/f && cat /etc/f && grep -c " / .* overlay " /proc/self/mountinfo'
check_eq "overlay runs there (write, read back; the root is an overlay mount)" "x${NL}1" "$OUT"
nrun run --rm busybox sh -c 'test ! -e /etc/f && rm /etc/group && test ! -e /etc/group && echo ok'
check_eq "overlay there: the next container starts clean, whiteouts work" ok "$OUT"
nrun run --rm busybox grep -c 'odd,dir' /proc/self/mountinfo
check_eq "the container's mountinfo does not name the store's path" 0 "$OUT"
nrun run --name named busybox true
check_status "a kept container there is removed" 0 rm named

nrun --storage-driver fuse-overlayfs run --rm busybox true
check_eq "--storage-driver fuse-overlayfs there: exit 125" 125 "$RC"
check_match "--storage-driver fuse-overlayfs there: the message says why and what to do" \
  "fuse-overlayfs cannot use the store '.*odd,dir:x/root': its path contains ',', ':' .*--storage-driver overlay or copy-up" \
  "$ERR"
check_no_match "--storage-driver fuse-overlayfs there: no trailing errno string" \
  'Invalid argument' "$ERR"
nrun --storage-driver copy-up run --rm busybox sh -c 'echo y >/etc/g && cat /etc/g'
check_eq "--storage-driver copy-up there works" y "$OUT"

done_testing
