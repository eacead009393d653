#!/usr/bin/env bash
# t-isolation.sh: containers do not share files with each other or the image; PID, mount,
# UTS and network namespaces; masked and read-only paths; /etc and /dev contents.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

nrun run --rm busybox md5sum /etc/passwd
passwd_sum=${OUT%% *}
# What the unpacked layers hold now (no clock involved: every entry's type, inode, size,
# mode, owner and mtime), compared once the containers below have run.
layers_snapshot() {
  find "$NOOK_ROOT/layers" -printf '%p %y %i %s %m %U:%G %T@\n' 2>/dev/null | sort
}
layers_before=$(layers_snapshot)

check_status "a container can write its root" 0 run --rm busybox sh -c \
  'echo leak > /leakfile && echo extra >> /etc/passwd && rm /etc/group'
check_status "the next container does not see the new file" 0 run --rm busybox test ! -e /leakfile
nrun run --rm busybox md5sum /etc/passwd
check_eq "the next container sees the image's /etc/passwd unchanged" "$passwd_sum" "${OUT%% *}"
check_status "the next container still has the removed /etc/group" 0 run --rm busybox test -e /etc/group
# --rm containers' directories are emptied and reused: nothing of one run may reach the
# next, files of other owners and directories included, with and without the kept user
# namespace.
check_status "a container writes files of another owner and a directory tree" 0 run --rm busybox \
  sh -c 'mkdir -p /tree/a/b && echo x > /tree/a/b/c && chown -R 1000:1000 /tree 2>/dev/null; echo y > /tmp/t'
check_status "the next container sees none of it" 0 run --rm busybox sh -c 'test ! -e /tree && test ! -e /tmp/t'
NOOK_USERNS_KEEP=0 "$NOOK" run --rm busybox sh -c 'mkdir /nk && chown 1000 /nk 2>/dev/null; true' >/dev/null 2>&1
check_status "nor after a run with a user namespace of its own" 0 run --rm busybox test ! -e /nk
left=$(find "$NOOK_ROOT/containers" -mindepth 1 -maxdepth 1 ! -name .pool ! -name .names 2>/dev/null; find "$NOOK_ROOT/containers/.names" -mindepth 1 2>/dev/null)
check_eq "after --rm runs only the pool of emptied directories is left" "" "$left"
# (a directory parked by a run that wrote nothing, .d-ID, still holds overlayfs' own
# work/work tree: the next run empties it)
pooled=$(find "$NOOK_ROOT/containers/.pool" -mindepth 2 ! -path '*/upper' ! -path '*/work' \
  ! -path '*/merged' ! -path '*/etc' ! -name config.json ! -path '*/.pool/.d-*/work/work*' 2>/dev/null | head -3)
check_eq "pooled directories are empty" "" "$pooled"
dirty=$(find "$NOOK_ROOT/containers/.pool" -mindepth 1 -maxdepth 1 -name '.[dc]-*' 2>/dev/null | wc -l)
check_eq "at most one pooled directory waits to be emptied (the last run's)" 1 "$([ "$dirty" -le 1 ] && echo 1 || echo 0)"

if [ -d "$NOOK_ROOT/layers" ]; then
  check_eq "the layers' snapshot lists the image's files (bin/busybox)" 1 \
    "$(grep -c '/bin/busybox f ' <<<"$layers_before")"
  changed=$(diff <(echo "$layers_before") <(layers_snapshot) | head -5)
  check_eq "nothing under the store's layers/ changed" "" "$changed"
else
  fail "the store has a layers/ directory (layers/<chain-id>/ expected)" "$(ls -la "$NOOK_ROOT")"
fi

nrun run --rm busybox ls /proc
pids=$(grep -E '^[0-9]+$' <<<"$OUT" | tr '\n' ' ')
check_match "PID 1 exists in the container" '(^| )1 ' "$pids "
check_no_match "the test shell's PID ($$) is not visible" "(^| )$$ " "$pids "
check_eq "only the container's processes are in /proc (at most 3: init, ls, one more; got: $pids)" 1 \
  "$([ "$(wc -w <<<"$pids")" -le 3 ] && echo 1 || echo 0)"
nrun run --rm busybox ps -o pid
n=$(tail -n +2 <<<"$OUT" | grep -c '[0-9]')
check_eq "ps shows only the container's processes (at most 3: init, ps, one more; got $n)" 1 \
  "$([ "$n" -le 3 ] && [ "$n" -ge 1 ] && echo 1 || echo 0)"

# PID 1 is nook's init; it must not show the container nook's command line or
# environment (host paths, the caller's variables).
nrun run --rm busybox sh -c 'tr "\000" " " < /proc/1/cmdline'
check_eq "PID 1 is called nook-init" "nook-init" "$(echo $OUT)"
check_no_match "PID 1's command line does not name the host's nook binary" "$NOOK" "$OUT"
nrun run --rm --cap-add SYS_PTRACE busybox sh -c 'tr -d "\000" < /proc/1/environ | wc -c'
check_eq "PID 1 holds no copy of nook's environment" 0 "$OUT"

nrun run --rm busybox sh -c 'wc -c < /proc/kcore'
check_eq "/proc/kcore is masked (empty or unreadable)" 1 \
  "$({ [ "$RC" != 0 ] || [ "$OUT" = 0 ]; } && echo 1 || echo 0)"
nrun run --rm busybox sh -c 'cat /proc/keys | wc -c'
check_eq "/proc/keys is masked" 0 "$OUT"
nrun run --rm busybox sh -c 'ls /sys/firmware | wc -l'
check_eq "/sys/firmware is masked (empty)" 0 "$OUT"

nrun run --rm busybox touch /sys/x
check_eq "/sys: touch fails" 1 "$([ "$RC" != 0 ] && echo 1 || echo 0)"
nrun run --rm busybox sh -c "grep ' /sys ' /proc/mounts"
check_match "/sys is mounted read-only" '^[^ ]+ /sys [^ ]+ ro[, ]' "$OUT"
nrun run --rm busybox sh -c "grep ' /proc/sys ' /proc/mounts"
check_match "/proc/sys is read-only" '^[^ ]+ /proc/sys [^ ]+ ro[, ]' "$OUT"
nrun run --rm busybox sh -c 'echo 1 > /proc/sysrq-trigger'
check_eq "/proc/sysrq-trigger is not writable" 1 "$([ "$RC" != 0 ] && echo 1 || echo 0)"

nrun run --rm --network none busybox cat /proc/net/dev
ifaces=$(awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' <<<"$OUT" | tr '\n' ' ')
check_eq "--network none: only lo" "lo " "$ifaces"

for f in /etc/hostname /etc/hosts /etc/resolv.conf; do
  check_status "$f exists" 0 run --rm busybox test -f "$f"
done
nrun run --rm busybox hostname
check_no_match "the default hostname is not the host's" "^$(hostname)\$" "$OUT"
check_match "the default hostname is not empty" '.' "$OUT"

nrun run --rm busybox sh -c 'test -c /dev/null && echo x > /dev/null && head -c 4 /dev/zero | wc -c && head -c 4 /dev/urandom | wc -c'
check_eq "/dev/null, /dev/zero, /dev/urandom work" "$(printf '4\n4')" "$OUT"
nrun run --rm busybox sh -c 'echo x > /dev/shm/x && cat /dev/shm/x && test -d /dev/pts'
check_eq "/dev/shm is writable, /dev/pts exists" x "$OUT"
check_status "host devices are not visible (/dev/sda, /dev/mem)" 0 run --rm busybox \
  sh -c 'test ! -e /dev/mem && test ! -e /dev/sda && test ! -e /dev/kmsg'

# --network host binds the host's /sys: read-only all the way down, submounts included.
nrun run --rm --network host busybox sh -c "awk '\$5 ~ \"^/sys\" { print \$5, \$6 }' /proc/self/mountinfo"
check_match "--network host: /sys is there" '^/sys ' "$OUT"
check_no_match "--network host: no mount under /sys is writable" '(^|'$'\n'')/sys[^ ]* rw' "$OUT"

# Images that link /etc/resolv.conf (systemd-style) or /etc/hosts elsewhere still run:
# nook mounts on what the link names, inside the root.
lr=$T_SCRATCH/linkroot
mkdir -p "$lr/bin" "$lr/etc" "$lr/run"
cp /bin/busybox "$lr/bin/busybox"
ln -s busybox "$lr/bin/sh"
ln -s ../run/resolv.conf "$lr/etc/resolv.conf"
ln -s /run/hosts "$lr/etc/hosts"
tar -C "$lr" -cf "$T_SCRATCH/linkroot.tar" .
check_status "an image with linked etc files imports" 0 import "$T_SCRATCH/linkroot.tar" linkbox
nrun run --rm --hostname linked linkbox /bin/busybox sh -c '/bin/busybox cat /etc/hosts; /bin/busybox readlink /etc/resolv.conf'
check_eq "it runs (linked /etc/hosts and /etc/resolv.conf)" 0 "$RC"
check_match "its /etc/hosts is nook's" 'linked' "$OUT"
check_match "its /etc/resolv.conf is still the image's link" '\.\./run/resolv.conf' "$OUT"

done_testing
