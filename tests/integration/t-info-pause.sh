#!/usr/bin/env bash
# t-info-pause.sh: `nook info` says which pause nook uses: the cgroup freezer delegated to
# the user (this process's cgroup v2 when writable and it has cgroup.freeze, else the v1
# /sys/fs/cgroup/freezer/nook-$USER when writable; the directory named is the one
# /proc/self/cgroup and the cgroup2 mount give), or the SIGSTOP/SIGCONT fallback saying
# why; NOOK_CGROUP=none forces the fallback, a NOOK_CGROUP that is no cgroup is named.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

path=$(sed -n 's/^0:://p' /proc/self/cgroup)
mnt=$(awk '{ for (i = 1; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2" && $4 == "/") print $5; break } }' /proc/self/mountinfo | head -1)
v1=/sys/fs/cgroup/freezer/nook-$USER
unset NOOK_CGROUP
nrun info --format '{{.Pause}}'
check_eq "info --format {{.Pause}}" 0 "$RC"
dir=
if [ -n "$mnt" ] && [ -n "$path" ]; then
  dir=$mnt${path%/}
  [ "$path" = / ] && dir=$mnt
fi
if [ -n "$dir" ] && [ -w "$dir" ] && [ -w "$dir/cgroup.procs" ] && [ -e "$dir/cgroup.freeze" ]; then
  check_match "pause: the delegated cgroup v2's freezer, named" "^the cgroup freezer \\(v2\\), delegated at $dir:" "$OUT"
elif [ -w "$v1" ] && [ -w "$v1/cgroup.procs" ] && [ -e "$v1/freezer.state" ]; then
  check_match "pause: the delegated v1 freezer, named" "^the cgroup freezer \\(v1\\), delegated at $v1:" "$OUT"
else
  check_match "pause: SIGSTOP/SIGCONT" '^SIGSTOP/SIGCONT of every process' "$OUT"
  if [ -z "$dir" ]; then
    check_match "no cgroup v2: said" 'no cgroup v2 holds this process' "$OUT"
  elif [ -w "$dir" ] && [ -w "$dir/cgroup.procs" ]; then
    check_match "a delegated cgroup v2 without freezer named" "this process's cgroup v2, $dir, has no cgroup.freeze" "$OUT"
  else
    check_match "the cgroup v2 not delegated, named" \
      "this process's cgroup v2, $dir, is not writable by this user \\(not delegated\\)" "$OUT"
  fi
  check_match "... and the v1 freezer looked for, named" "$v1 is not a v1 freezer cgroup writable by this user" "$OUT"
fi
NOOK_CGROUP=none nrun info --format '{{.Pause}}'
check_match "NOOK_CGROUP=none: SIGSTOP/SIGCONT" '^SIGSTOP/SIGCONT of every process.*: NOOK_CGROUP=none\.' "$OUT"
NOOK_CGROUP=$TMPDIR nrun info --format '{{.Pause}}'
check_match "NOOK_CGROUP=a plain directory: SIGSTOP/SIGCONT, saying so" \
  "^SIGSTOP/SIGCONT .*NOOK_CGROUP=$TMPDIR is not a cgroup with a freezer writable by this user" "$OUT"
done_testing
