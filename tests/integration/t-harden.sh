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

done_testing
