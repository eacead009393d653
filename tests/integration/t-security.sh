#!/usr/bin/env bash
# t-security.sh: Docker's default capabilities, no_new_privs, seccomp, and what the flags
# --cap-add/--cap-drop/--privileged/--security-opt change; fds and TIOCSTI; id maps.
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

default_caps=00000000a80425fb # chown dac_override fowner fsetid kill setgid setuid setpcap
# net_bind_service net_raw sys_chroot mknod audit_write setfcap

nrun run --rm -v "$pv" busybox /probe status
check_eq "probe status runs" 0 "$RC"
check_eq "CapEff is Docker's 14 default capabilities" "$default_caps" "$(probe_val CapEff)"
check_eq "CapPrm is the default set" "$default_caps" "$(probe_val CapPrm)"
check_eq "CapBnd is the default set" "$default_caps" "$(probe_val CapBnd)"
check_eq "CapInh is empty" 0000000000000000 "$(probe_val CapInh)"
check_eq "CapAmb is empty" 0000000000000000 "$(probe_val CapAmb)"
check_eq "NoNewPrivs is 1" 1 "$(probe_val NoNewPrivs)"
check_eq "Seccomp is 2 (filter)" 2 "$(probe_val Seccomp)"

nrun run --rm -v "$pv" busybox /probe mount
check_eq "mount of a tmpfs fails with EPERM" EPERM "$(probe_val mount)"
nrun run --rm -v "$pv" busybox /probe keyctl
check_match "keyctl fails (EPERM or ENOSYS)" '^(EPERM|ENOSYS)$' "$(probe_val keyctl)"
nrun run --rm -v "$pv" busybox /probe userns
check_eq "a nested user namespace is denied (unshare EPERM)" EPERM "$(probe_val unshare)"
check_eq "so no uid_map can be written" "" "$(probe_val uid_map)"

# The filter's i386 half (32-bit calls through int $0x80), as Docker's profile has it:
# nook loads a compacted program (sandbox/seccomp_compact.h) whose other half this is.
nrun run --rm -v "$pv" busybox /probe i386
if [ "$(probe_val i386)" = unavailable ]; then
  echo "# NOTE: this kernel has no IA32 emulation: the i386 half of the filter is not checked"
  [ "${NOOK_TEST_MUST_WORK:-}" != 1 ] || fail "i386 system calls run here (CI's kernel has IA32 emulation)" "$OUT"
else
  check_eq "i386: getpid is allowed" ok "$(probe_val i386.getpid)"
  check_eq "i386: a nested user namespace is denied (unshare EPERM)" EPERM "$(probe_val i386.unshare)"
  check_eq "i386: keyctl is denied" EPERM "$(probe_val i386.keyctl)"
  check_eq "i386: personality(0xffffffff), a query, is allowed" ok \
    "$(probe_val i386.personality-query)"
  check_eq "i386: personality(PER_LINUX32|1) is denied" EPERM "$(probe_val i386.personality-1)"
fi

nrun run --rm --cap-drop ALL -v "$pv" busybox /probe status
check_eq "--cap-drop ALL: CapEff 0" 0000000000000000 "$(probe_val CapEff)"
check_eq "--cap-drop ALL: CapBnd 0" 0000000000000000 "$(probe_val CapBnd)"
nrun run --rm --cap-drop CHOWN -v "$pv" busybox /probe status
check_eq "--cap-drop CHOWN clears bit 0" 00000000a80425fa "$(probe_val CapEff)"
nrun run --rm --cap-add SYS_ADMIN -v "$pv" busybox /probe status
check_eq "--cap-add SYS_ADMIN sets bit 21" 00000000a82425fb "$(probe_val CapEff)"
nrun run --rm --cap-add CAP_SYS_ADMIN -v "$pv" busybox /probe mount
check_eq "--cap-add CAP_SYS_ADMIN: mounting a tmpfs works (as with Docker)" ok "$(probe_val mount)"
nrun run --rm --cap-add NO_SUCH_CAP busybox true
check_eq "--cap-add of an unknown capability exits 125" 125 "$RC"

nrun run --rm --security-opt seccomp=unconfined -v "$pv" busybox /probe status
check_eq "--security-opt seccomp=unconfined: Seccomp 0" 0 "$(probe_val Seccomp)"
check_eq "--security-opt seccomp=unconfined: capabilities unchanged" "$default_caps" "$(probe_val CapEff)"

prof=$T_SCRATCH/seccomp.json
cat >"$prof" <<'EOT'
{ "defaultAction": "SCMP_ACT_ALLOW",
  "syscalls": [ { "names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO" } ] }
EOT
nrun run --rm --security-opt "seccomp=$prof" busybox sh -c 'mkdir /d'
check_eq "--security-opt seccomp=PROFILE.json applies the profile (mkdir denied)" 1 \
  "$([ "$RC" != 0 ] && echo 1 || echo 0)"
check_match "the denied mkdir reports EPERM" 'Operation not permitted' "$ERR"
nrun run --rm --security-opt no-new-privileges -v "$pv" busybox /probe status
check_eq "--security-opt no-new-privileges: NoNewPrivs 1" 1 "$(probe_val NoNewPrivs)"
nrun run --rm --security-opt bogus=1 busybox true
check_eq "--security-opt bogus=1 exits 125" 125 "$RC"

last_cap=$(cat /proc/sys/kernel/cap_last_cap)
full_caps=$(printf '%016x' $(((1 << (last_cap + 1)) - 1)))
nrun run --rm --privileged -v "$pv" busybox /probe status
check_eq "--privileged: every capability up to cap_last_cap ($last_cap)" "$full_caps" "$(probe_val CapEff)"
check_eq "--privileged: Seccomp 0" 0 "$(probe_val Seccomp)"
if [ -e /etc/shadow ] && ! [ -r /etc/shadow ]; then
  nrun run --rm --privileged -v "$pv" -v /etc/shadow:/shadow:ro busybox /probe read /shadow
  check_eq "--privileged still cannot read the host's /etc/shadow (read fails or nook refuses)" 1 \
    "$({ [ "$RC" = 125 ] || [[ $(probe_val read) == E* ]]; } && echo 1 || echo 0)"
  check_no_match "--privileged: no byte of /etc/shadow came through" 'read=ok' "$OUT"
else
  fail "/etc/shadow exists and is unreadable by $(id -un) (test precondition)"
fi

if [ "$NOOK_TEST_USER_KIND" = single ]; then
  nrun run --rm busybox cat /proc/self/uid_map
  check_match "single-id map: uid_map is '0 $(id -u) 1'" "^ *0 +$(id -u) +1\$" "$OUT"
  nrun run --rm -v "$pv" busybox /probe chown
  check_eq "single-id map: chown to 1000 is emulated (recorded, t-credemu.sh)" ok "$(probe_val chown)"
  nrun run --rm -u 0:0 --security-opt seccomp=unconfined -v "$pv" busybox /probe chown
  check_eq "single-id map without seccomp (no emulation): chown to 1000 fails with EINVAL" EINVAL \
    "$(probe_val chown)"
else
  nrun run --rm busybox cat /proc/self/uid_map
  total=$(awk '{ n += $3 } END { print n + 0 }' <<<"$OUT")
  check_eq "range map: at least 65536 ids are mapped (got $total)" 1 "$([ "$total" -ge 65536 ] && echo 1 || echo 0)"
  check_match "range map: container root is the user" "(^|$NL) *0 +$(id -u) +1" "$OUT"
  nrun run --rm -v "$pv" busybox /probe chown
  check_eq "range map: chown to 1000:1000 works" ok "$(probe_val chown)"
  nrun run --rm -u 1000 -v "$pv" busybox /probe status
  check_eq "-u 1000: CapEff 0" 0000000000000000 "$(probe_val CapEff)"
  check_eq "-u 1000: CapPrm 0" 0000000000000000 "$(probe_val CapPrm)"
fi

nrun run --rm -v "$pv" busybox /probe fds
check_eq "only fds 0, 1, 2 are open in the container" 0,1,2 "$(probe_val fds)"
nrun run --rm -i -v "$pv" busybox /probe fds
check_eq "with -i too, only fds 0, 1, 2 are open" 0,1,2 "$(probe_val fds)"

# nook's init (PID 1) never execs: it must hold no host fd and be out of reach even of a
# container with all capabilities of the user namespace (--privileged) or CAP_SYS_PTRACE.
for opts in "--privileged" "--cap-add SYS_PTRACE"; do
  # shellcheck disable=SC2086
  nrun run --rm $opts -v "$pv" busybox /probe ptrace
  check_match "$opts: ptrace of PID 1 (nook's init) fails" '^E' "$(probe_val ptrace)"
  # shellcheck disable=SC2086
  nrun run --rm $opts busybox ls /proc/1/fd/
  check_eq "$opts: PID 1's fds cannot be listed" 1 "$([ "$RC" != 0 ] && echo 1 || echo 0)"
  # shellcheck disable=SC2086
  nrun run --rm $opts busybox sh -c 'cat /proc/1/mem >/dev/null'
  check_eq "$opts: PID 1's memory cannot be read" 1 "$([ "$RC" != 0 ] && echo 1 || echo 0)"
done

nrun run --rm -v "$pv" busybox /probe tiocsti
check_match "TIOCSTI on stdin fails without a tty" '^E' "$(probe_val tiocsti)"
# -i without -t from a terminal: the container's stdin is the caller's terminal; pushing
# characters into it must fail (setsid, seccomp), CVE-2017-5226.
out=$(script -qec "$NOOK run --rm -i -v $pv busybox /probe tiocsti" /dev/null </dev/null 2>&1 | tr -d '\r')
OUT=$out
check_match "TIOCSTI on the caller's terminal (-i, no -t) fails" '^E' "$(probe_val tiocsti)"

done_testing
