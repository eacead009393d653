#!/usr/bin/env bash
# t-storage.sh: each storage driver (overlay, fuse-overlayfs, copy-up) gives a writable
# root whose writes, appends and deletions stay in the container. A driver this machine
# cannot offer is reported loudly and the file exits 77 (a failure under
# NOOK_TEST_MUST_WORK=1); a driver that should work but fails is a plain failure.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

# Can this user mount kernel overlayfs inside a user namespace? (a private namespace of
# unshare's, nothing is mounted on the host)
overlay_possible() {
  local d=$T_SCRATCH/ovl
  mkdir -p "$d/l" "$d/u" "$d/w" "$d/m"
  unshare -Urm sh -c "mount -t overlay overlay -o lowerdir=$d/l,upperdir=$d/u,workdir=$d/w $d/m" \
    >/dev/null 2>&1
}
fuse_possible() {
  command -v fuse-overlayfs >/dev/null && [ -r /dev/fuse ] && [ -w /dev/fuse ]
}

unavailable=()
nrun run --rm busybox md5sum /etc/passwd
passwd_sum=${OUT%% *}

for d in overlay fuse-overlayfs copy-up; do
  case $d in
    overlay) if ! overlay_possible; then unavailable+=("overlay: this kernel refuses overlayfs in a user namespace"); continue; fi ;;
    fuse-overlayfs) if ! fuse_possible; then unavailable+=("fuse-overlayfs: binary missing or /dev/fuse not read-writable ($(ls -l /dev/fuse 2>&1))"); continue; fi ;;
  esac
  nrun --storage-driver "$d" run --rm busybox sh -c 'echo x > /etc/f; cat /etc/f'
  check_eq "$d: a new file in /etc is written and read back" x "$OUT"
  check_status "$d: the next container does not see it" 0 --storage-driver "$d" run --rm busybox test ! -e /etc/f
  nrun --storage-driver "$d" run --rm busybox sh -c 'echo more >> /etc/passwd; rm /etc/group; test ! -e /etc/group && tail -n 1 /etc/passwd'
  check_eq "$d: appending to an image file and deleting one work" more "$OUT"
  nrun --storage-driver "$d" run --rm busybox md5sum /etc/passwd
  check_eq "$d: the image's /etc/passwd is unchanged afterwards" "$passwd_sum" "${OUT%% *}"
  check_status "$d: the deleted /etc/group is back in the next container" 0 \
    --storage-driver "$d" run --rm busybox test -e /etc/group
  # (not /etc: /etc/hosts and /etc/resolv.conf are mount points, as with Docker)
  nrun --storage-driver "$d" run --rm busybox sh -c 'mkdir -p /a/b && echo y > /a/b/c && mv /a/b /a/d && cat /a/d/c && rm -r /usr && test ! -e /usr && echo gone'
  check_eq "$d: mkdir, rename and rm -r of an image directory" "$(printf 'y\ngone')" "$OUT"
  check_status "$d: the removed /usr is back in the next container" 0 \
    --storage-driver "$d" run --rm busybox test -d /usr
  nrun --storage-driver "$d" info
  check_match "$d: nook --storage-driver $d info names it" "Storage driver: $d( |\$|$NL)" "$OUT"
done

nrun info
if overlay_possible; then
  check_match "nook info: the probed driver is overlay (it works here)" 'Storage driver: overlay( |$|'$'\n'')' "$OUT"
else
  check_match "nook info names a storage driver" 'Storage driver: (fuse-overlayfs|copy-up)' "$OUT"
fi
nrun --storage-driver no-such-driver run --rm busybox true
check_eq "--storage-driver of an unknown driver exits 125" 125 "$RC"

if [ ${#unavailable[@]} -gt 0 ]; then
  echo "# ********************************************************************"
  for u in "${unavailable[@]}"; do echo "# STORAGE DRIVER UNAVAILABLE: $u"; done
  echo "# ********************************************************************"
  echo "1..$T_N"
  [ "$T_FAILED" = 0 ] || exit 1
  exit 77
fi
done_testing
