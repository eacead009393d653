#!/usr/bin/env bash
# t-exec-fg.sh: exec into a foreground `run --rm` without a name (the direct path: no
# supervisor, no state written, for start-up): found by ID prefix, the same namespaces
# as the container's command (compared while both live), the run's seccomp program,
# capabilities and no_new_privs, and the command's exit code.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

gate=$(make_gate fg-gate)
"$NOOK" run --rm -v "$gate:/gate" busybox sh -c 'read x </gate; exit 7' >"$T_SCRATCH/run.out" 2>&1 &
rpid=$!
listed() { "$NOOK" ps -q --no-trunc | grep -qE '^[0-9a-f]{64}$'; }
wait_until "ps lists the foreground --rm run" 30 listed
id=$("$NOOK" ps -q --no-trunc | head -1)
short=${id:0:6}

nrun exec "$short" echo in-container
check_eq "exec by ID prefix into a foreground --rm run" "0 in-container" "$RC $OUT"
check_eq "... with nothing on stderr" "" "$ERR"
nrun exec "$short" sh -c 'exit 3'
check_eq "exec returns the command's exit code" 3 "$RC"

# the container's command: the first child of its init, the init the first of nook's
# ($rpid: the background job is nook itself)
init=$(cut -d' ' -f1 "/proc/$rpid/task/$rpid/children")
cmd=$(cut -d' ' -f1 "/proc/$init/task/$init/children")
for ns in mnt pid net ipc uts user cgroup; do
  want=$(readlink "/proc/$cmd/ns/$ns")
  nrun exec "$short" readlink "/proc/self/ns/$ns"
  check_eq "exec is in the command's $ns namespace" "$want" "$OUT"
done
field() { sed -n "s/^$1:[[:space:]]*//p"; }
nrun exec "$short" cat /proc/self/status
check_eq "exec: Seccomp as the run's (filter)" "$(field Seccomp <"/proc/$cmd/status")" "$(field Seccomp <<<"$OUT")"
check_eq "exec: NoNewPrivs as the run's" "$(field NoNewPrivs <"/proc/$cmd/status")" "$(field NoNewPrivs <<<"$OUT")"
check_eq "exec: CapEff as the run's" "$(field CapEff <"/proc/$cmd/status")" "$(field CapEff <<<"$OUT")"
check_eq "exec: CapBnd as the run's" "$(field CapBnd <"/proc/$cmd/status")" "$(field CapBnd <<<"$OUT")"
check_eq "... seccomp is on (2)" 2 "$(field Seccomp <<<"$OUT")"

open_gate "$gate"
wait "$rpid"
check_eq "the run ends with its command's code" 7 "$?"
check_status "exec after it ended: not running (1)" 1 exec "$short" true
check_match "... No such container or not running" 'No such container|is not running' "$ERR"

done_testing
