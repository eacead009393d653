#!/usr/bin/env bash
# t-credemu.sh: credentials as a program sees them, the same for both kinds of user.
# With a range the kernel does it all (real ids); without one (single-id map) the
# container's init emulates set*id/setgroups/setfs*id, get*id, chown and stat through
# seccomp user notification, and records owners as user.nook.owner in the upper dir
# (sandbox/credemu.c). Every check below expects the same visible result for both.
# The static probe is bind-mounted as /probe. apt-get: t-credemu-apt.sh.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image
[ -x "$PROBE" ] || skip_all "PROBE ($PROBE) is not executable"
pv=$(probe_vol)

probe_val() {
  sed -n "s/^$1=//p" <<<"$OUT" | head -n 1
}

# ---- apt's privilege drop (setgroups, setresgid, setresuid), then no way back ----
nrun run --rm -v "$pv" busybox /probe drop 1000 1001
check_eq "drop to 1000:1001 succeeds ($NOOK_TEST_USER_KIND)" ok "$(probe_val drop)"
check_eq "getresuid after the drop" 1000,1000,1000 "$(probe_val res)"
check_eq "getresgid after the drop" 1001,1001,1001 "$(probe_val resg)"
check_eq "getgroups after the drop" 1001 "$(probe_val groups)"
check_eq "setuid(0) after the drop fails with EPERM" EPERM "$(probe_val regain)"

nrun run --rm -v "$pv" --cap-drop SETUID busybox /probe drop 1000 1001
check_eq "--cap-drop SETUID: the drop fails with EPERM" EPERM "$(probe_val drop)"

# ---- su (busybox) to a user of the image ----
nrun run --rm busybox su -s /bin/sh user -c 'id; touch /tmp/mine; stat -c %u:%g /tmp/mine
  chown 0 /tmp/mine 2>/dev/null && echo gave=yes || echo gave=no
  chown 1000:0 /tmp/mine 2>/dev/null && echo chgrp0=yes || echo chgrp0=no'
check_match "su user: id says 1000" '^uid=1000\(user\) gid=1000\(user\)' "$OUT"
check_match "a file created after su belongs to 1000:1000" "${NL}1000:1000$NL" "$OUT"
check_match "user 1000 cannot give its file to root" "gave=no" "$OUT"
check_match "nor to a group it is not in" "chgrp0=no" "$OUT"

# ---- chown -R, and what stat, ls and find show ----
nrun run --rm busybox sh -c 'mkdir -p /d/a/b && echo x > /d/a/b/f && ln -s f /d/a/b/l &&
  chown -R 1000:1000 /d && stat -c "%n %u:%g" /d /d/a /d/a/b/f && ls -ln /d/a/b/f &&
  chown 42:43 /d/a/b/f && stat -L -c "%n %u:%g" /d/a/b/l && find /d -user 42 -group 43'
check_eq "chown -R 1000:1000: exit 0" 0 "$RC"
check_match "stat shows 1000:1000 on the tree" "/d 1000:1000$NL/d/a 1000:1000$NL/d/a/b/f 1000:1000" "$OUT"
check_match "ls -ln shows it" '^-rw-r--r-- +1 1000 +1000 ' "$(sed -n 4p <<<"$OUT")"
check_match "through a symlink: the target's new owner 42:43" "/d/a/b/l 42:43" "$OUT"
check_match "find -user 42 -group 43 finds it" "${NL}/d/a/b/f\$" "$OUT"

# ---- files created under an emulated fsuid/fsgid ----
nrun run --rm -v "$pv" busybox sh -c '/probe fsuid 42 43 /tmp/f && stat -c "%n %u:%g" /tmp/f /tmp/f.d
  umask 077; su -s /bin/sh user -c "mkdir /tmp/u && echo a > /tmp/u/g"; ls -lnd /tmp/u /tmp/u/g'
check_eq "setfsuid 42, setfsgid 43: create and mkdir succeed" ok,ok \
  "$(probe_val create),$(probe_val mkdir)"
check_match "the new file belongs to 42:43" "/tmp/f 42:43$NL" "$OUT"
check_match "the new directory too" "/tmp/f.d 42:43" "$OUT"
check_match "su user, umask 077: its directory is 1000:1000, mode 700" '^drwx------ +2 1000 +1000 ' \
  "$(grep ' /tmp/u$' <<<"$OUT")"
check_match "its file, written through the fd the handler made: 1000:1000, mode 600" \
  '^-rw------- +1 1000 +1000 +2 ' "$(grep ' /tmp/u/g$' <<<"$OUT")"

# ---- limits: only files the container may chown for real ----
nrun run --rm -v /usr/share/doc:/hostdoc busybox chown 0:0 /hostdoc
check_eq "chown of a host directory of another owner fails (as for real)" 1 "$RC"
check_match "with EPERM" 'Operation not permitted' "$ERR"
nrun run --rm --cap-drop CHOWN busybox sh -c 'touch /f && chown 1000 /f'
check_eq "--cap-drop CHOWN: chown to 1000 fails" 1 "$RC"

# ---- a chrooted process: its paths are not the init's ----
# /f is 1000's, /r/f 2000's. Chrooted into /r, a process names /r/f as /f: with a
# range the kernel shows 2000; without one the init answers no path of a process whose
# root is not its own (the kernel's answer, the one id: 0), and must never show /f's
# 1000. The init learns of a chroot through the program (either architecture), and
# from then on looks at each caller's root (sandbox/credemu.c).
if [ "$NOOK_TEST_USER_KIND" = single ]; then inside=0; else inside=2000; fi
chroot_setup='mkdir -p /r && echo a > /f && echo b > /r/f && chown 1000 /f && chown 2000 /r/f'
nrun run --rm -v "$pv" busybox sh -c "$chroot_setup && /probe chroot /r /f && stat -c after=%u /f"
check_eq "chroot /r: the probe's chroot succeeds" ok "$(probe_val chroot)"
check_eq "chrooted, /f is /r/f (never the outer /f's 1000)" "$inside" "$(probe_val uid)"
check_eq "a process outside the chroot still sees /f's 1000" 1000 "$(probe_val after)"
nrun run --rm -v "$pv" busybox sh -c "$chroot_setup && /probe chroot /r /f i386"
if [ "$(probe_val chroot)" = unavailable ]; then
  echo "# NOTE: this kernel has no IA32 emulation: a 32-bit chroot is not checked"
  [ "${NOOK_TEST_MUST_WORK:-}" != 1 ] || fail "a 32-bit chroot runs here (CI's kernel has IA32 emulation)" "$OUT"
else
  check_eq "chroot through int \$0x80 succeeds" ok "$(probe_val chroot)"
  check_eq "chrooted through int \$0x80, /f is /r/f too" "$inside" "$(probe_val uid)"
fi
nrun run --rm -v "$pv" busybox sh -c "$chroot_setup && /probe chroot / /f"
check_eq "chroot / (the same root): /f is 1000's" 1000 "$(probe_val uid)"

# ---- the records live in the container: kept across starts, seen by export ----
nrun run --name credkeep busybox sh -c 'test -e /k || { touch /k; chown 7:8 /k; }; stat -c %u:%g /k'
check_eq "a named container records 7:8" 7:8 "$OUT"
nrun start -a credkeep
check_eq "started again, its file is still 7:8" 7:8 "$OUT"
tar_list=$("$NOOK" export credkeep | tar -tvf - k 2>/dev/null)
check_match "export writes the owner 7/8 into the tar" '^-rw-r--r-- 7/8 ' "$tar_list"

# exec'd processes are not emulated (nobody answers them), but they run
nrun run -d --name credexec busybox sleep 60
nrun exec credexec sh -c 'touch /e && stat -c %u /e && id -u'
check_eq "exec in an emulating container works (stat, id)" 0 "$RC"
nrun rm -f credexec credkeep

# without seccomp there is no emulation: the kernel's answer
if [ "$NOOK_TEST_USER_KIND" = single ]; then
  nrun run --rm --security-opt seccomp=unconfined busybox sh -c 'touch /f && chown 1000 /f'
  check_match "single id, seccomp=unconfined: chown to 1000 fails with EINVAL" 'Invalid argument' "$ERR"
fi

done_testing
