#!/usr/bin/env bash
# t-info-pause.sh: `nook info` says whether a cgroup v2 is delegated to the user (this
# process's cgroup writable) and that pause uses SIGSTOP/SIGCONT either way; the
# directory it names is the one /proc/self/cgroup and the cgroup2 mount give.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

path=$(sed -n 's/^0:://p' /proc/self/cgroup)
mnt=$(awk '{ for (i = 1; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2" && $4 == "/") print $5; break } }' /proc/self/mountinfo | head -1)
nrun info --format '{{.Pause}}'
check_eq "info --format {{.Pause}}" 0 "$RC"
check_match "pause: SIGSTOP/SIGCONT" '^SIGSTOP/SIGCONT of every process' "$OUT"
if [ -z "$mnt" ] || [ -z "$path" ]; then
  check_match "no cgroup v2: said" 'no cgroup v2 holds this process' "$OUT"
else
  dir=$mnt${path%/}
  [ "$path" = / ] && dir=$mnt
  if [ -w "$dir" ] && [ -w "$dir/cgroup.procs" ]; then
    check_match "a delegated cgroup v2 named" "a cgroup v2 is delegated, $dir," "$OUT"
  else
    check_match "the cgroup v2 not delegated, named" \
      "this process's cgroup v2, $dir, is not writable by this user \\(not delegated\\)" "$OUT"
  fi
fi
done_testing
