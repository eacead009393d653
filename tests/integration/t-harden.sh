#!/usr/bin/env bash
# t-harden.sh: nook's hardening beyond Docker's defaults, checked from inside the container:
# the audit netlink socket fails with EINVAL under the default seccomp profile (and only
# there), the masked paths of moby and containers/common, lo up in a new network namespace.
# The static probe is bind-mounted as /probe.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image
[ -x "$PROBE" ] || skip_all "PROBE ($PROBE) is not executable"
pv=$(probe_vol)

# probe_val KEY: the value of KEY=... in $OUT
probe_val() {
  sed -n "s/^$1=//p" <<<"$OUT" | head -n 1
}

# --- NETLINK_AUDIT -----------------------------------------------------------------------
nrun run --rm -v "$pv" busybox /probe netlink audit
check_eq "default profile: socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT) fails with EINVAL" \
  EINVAL "$(probe_val raw)"
check_eq "default profile: the same with SOCK_DGRAM" EINVAL "$(probe_val dgram)"
nrun run --rm --cap-add AUDIT_CONTROL --cap-add SYS_ADMIN -v "$pv" busybox /probe netlink audit
check_eq "default profile with more capabilities: still EINVAL" EINVAL "$(probe_val raw)"
nrun run --rm -v "$pv" busybox /probe netlink route
check_eq "default profile: NETLINK_ROUTE still opens (raw)" ok "$(probe_val raw)"
check_eq "default profile: NETLINK_ROUTE still opens (dgram)" ok "$(probe_val dgram)"
nrun run --rm busybox ip link show lo
check_match "default profile: busybox ip (netlink route) works" 'lo:' "$OUT"

# A user's choice is used as written.
nrun run --rm --security-opt seccomp=unconfined -v "$pv" busybox /probe netlink audit
check_eq "seccomp=unconfined: the audit socket opens" ok "$(probe_val raw)"
nrun run --rm --privileged -v "$pv" busybox /probe netlink audit
check_eq "--privileged: the audit socket opens" ok "$(probe_val raw)"
prof=$T_SCRATCH/allow.json
echo '{ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [] }' >"$prof"
nrun run --rm --security-opt "seccomp=$prof" -v "$pv" busybox /probe netlink audit
check_eq "seccomp=FILE (allow everything): the audit socket opens" ok "$(probe_val raw)"

# --- masked paths --------------------------------------------------------------------------
# The union of moby's list and containers/common's. Each path, seen from inside, is absent,
# or a mount of /dev/null that reads empty (a file), or an empty tmpfs (a directory).
masked='/proc/asound /proc/acpi /proc/interrupts /proc/kcore /proc/keys /proc/latency_stats
/proc/timer_list /proc/timer_stats /proc/sched_debug /proc/scsi /sys/firmware
/sys/devices/virtual/powercap /sys/dev/block /sys/fs/selinux'
# shellcheck disable=SC2016
look='for p in '"$(echo $masked)"'; do
  if [ ! -e "$p" ]; then echo "$p absent"; continue; fi
  m=$(awk -v p="$p" '"'"'$5 == p { for (i = 7; i <= NF; i++) if ($i == "-") print $4, $(i + 1) }'"'"' /proc/self/mountinfo | tail -n 1)
  if [ -d "$p" ]; then echo "$p dir entries=$(ls -A "$p" | wc -l) mount=$m"
  else echo "$p file bytes=$(cat "$p" | wc -c) mount=$m"; fi
done'
nrun run --rm busybox sh -c "$look"
for p in $masked; do
  line=$(grep "^$p " <<<"$OUT")
  check_match "masked from inside: $p (on the host: $([ -e "$p" ] && echo present || echo absent))" \
    "^$p (absent|dir entries=0 mount=/ tmpfs|file bytes=0 mount=/null .*)\$" "$line"
done
# The paths that exist here are really covered (not merely empty or absent inside).
for p in /proc/interrupts /sys/firmware /sys/dev/block; do
  [ -e "$p" ] || continue
  check_no_match "$p exists here, so it is masked rather than absent inside" "^$p absent" \
    "$(grep "^$p " <<<"$OUT")"
done

nrun run --rm --privileged busybox sh -c "$look"
check_no_match "--privileged: no masked path is a mount" 'mount=/' "$(grep -v absent <<<"$OUT")"
if [ -d /sys/dev/block ] && [ -n "$(ls -A /sys/dev/block)" ]; then
  check_no_match "--privileged: /sys/dev/block lists the devices" '/sys/dev/block dir entries=0 ' "$OUT"
fi

# --- lo up in a network namespace of the container's own ------------------------------------
nrun run --rm --network none -v "$pv" busybox /probe loopback
check_eq "--network none: a TCP server on 127.0.0.1 is reachable from inside" ok \
  "$(probe_val loopback)"
nrun run --rm --network none busybox sh -c 'ls /sys/class/net; cat /sys/class/net/lo/flags'
check_eq "--network none: /sys/class/net holds only lo, with IFF_UP (flags 0x9)" "lo${NL}0x9" "$OUT"
nrun run --rm --network none busybox ip -o addr show
check_match "--network none: ip addr shows lo UP with 127.0.0.1/8" \
  '^1: lo +inet 127\.0\.0\.1/8 ' "$OUT"
check_eq "--network none: ip addr shows no interface but lo" "" \
  "$(grep -v '^1: lo ' <<<"$OUT")"
nrun run --rm --network none busybox ip link show
check_match "--network none: ip link shows lo <LOOPBACK,UP,...>" '^1: lo: <LOOPBACK,UP' "$OUT"
# busybox httpd binds its socket before it daemonizes: it serves once it has returned.
nrun run --rm --network none busybox sh -c 'mkdir /www && echo served >/www/index.html &&
  httpd -p 127.0.0.1:8080 -h /www && timeout 30 wget -q -O - http://127.0.0.1:8080/'
check_eq "--network none: busybox httpd on 127.0.0.1 serves wget from inside" served "$OUT"
nrun run --rm --privileged -v "$pv" busybox /probe loopback
check_eq "--privileged: lo is up too" ok "$(probe_val loopback)"

done_testing
