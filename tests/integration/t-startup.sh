#!/usr/bin/env bash
# t-startup.sh: what the start-up shortcuts must keep: masked directories (one empty
# tmpfs bound on all of them) stay empty and read-only, the default working directory
# is /, and a --rm directory parked unemptied is emptied by the next run.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

# Every masked directory present on this kernel: empty, and no write reaches it.
nrun run --rm busybox sh -c 'for d in /proc/acpi /proc/asound /proc/scsi /sys/firmware \
  /sys/devices/virtual/powercap; do
  [ -d "$d" ] || continue
  echo "$d $(ls -A "$d" | wc -l) $(mkdir "$d/x" 2>/dev/null && echo writable || echo ro)"
done'
check_eq "the masked directories can be listed" 0 "$RC"
masked=$(grep -c . <<<"$OUT")
check_eq "at least one masked directory exists here" 1 "$([ "$masked" -ge 1 ] && echo 1 || echo 0)"
bad=$(grep -v ' 0 ro$' <<<"$OUT" || true)
check_eq "every masked directory is empty and read-only" "" "$bad"
nrun run --rm --cap-add SYS_ADMIN busybox sh -c 'touch /sys/firmware/x 2>&1; ls -A /sys/firmware'
check_eq "even with CAP_SYS_ADMIN nothing is written to a masked directory" "" \
  "$(grep -v 'Read-only file system' <<<"$OUT" || true)"

nrun run --rm busybox pwd
check_eq "without WORKDIR or -w the command starts in /" "/" "$OUT"
nrun run --rm -w /var/tmp/new busybox pwd
check_eq "-w still makes and enters its directory" "/var/tmp/new" "$OUT"

# A run that writes nothing parks its directory unemptied (.pool/.d-ID); the next
# run empties it: after two more such runs, at most one waits.
for _ in 1 2 3; do "$NOOK" run --rm busybox true >/dev/null 2>&1; done
dirty=$(find "$NOOK_ROOT/containers/.pool" -mindepth 1 -maxdepth 1 -name '.[dc]-*' 2>/dev/null | wc -l)
check_eq "runs that wrote nothing leave at most one pooled directory to empty ($dirty)" 1 \
  "$([ "$dirty" -le 1 ] && echo 1 || echo 0)"
left=$(find "$NOOK_ROOT/containers/.pool" -mindepth 1 -maxdepth 1 ! -name '.[dc]-*' \
  -exec sh -c 'find "$1/work" "$1/upper" -mindepth 1 2>/dev/null' _ {} \; | head -3)
check_eq "the other pooled directories hold nothing in work/ and upper/" "" "$left"

# Without x32 in the kernel the filter leaves x32 out: an x32 system call is answered
# ENOSYS (as the kernel answers it), never with a kill.
if [ -x "$PROBE" ] && [ "$(uname -m)" = x86_64 ]; then
  host_x32=$("$PROBE" x32 || true)
  nrun run --rm -v "$(probe_vol)" busybox /probe x32
  check_eq "an x32 system call in the container is answered as on the host ($host_x32)" \
    "$host_x32" "$OUT"
fi

# With Docker's default profile the command is started while the init still mounts,
# and loads its seccomp program meanwhile: it must end up as the late one did.
nrun run --rm busybox sh -c 'ps -o pid,sid,comm; grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status'
check_eq "the command runs in the init's session" "2 1 sh" \
  "$(awk '$3 == "sh" { print $1, $2, $3 }' <<<"$OUT")"
check_match "the command is filtered and has no_new_privs" 'Seccomp:[[:space:]]+2' "$OUT"
check_match "(no_new_privs)" 'NoNewPrivs:[[:space:]]+1' "$OUT"
# The early command is queued on a CPU the init is not on, then given its CPUs back
# before it goes on: it runs on every CPU nook may use (or the one nook is bound to).
host_cpus=$(awk '/^Cpus_allowed_list:/ { print $2 }' /proc/self/status)
[ "$(nproc)" -ge 2 ] || diag "one CPU here: the narrowing of the early command is not exercised"
nrun run --rm busybox sh -c 'grep -E "^Cpus_allowed_list:" /proc/self/status'
check_eq "the command may run on every CPU nook may ($host_cpus)" "$host_cpus" "$(awk '{ print $2 }' <<<"$OUT")"
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  last=$(grep -oE '[0-9]+$' <<<"$host_cpus") # (the last CPU nook may use)
  OUT=$(taskset -c "$last" "$NOOK" run --rm busybox sh -c 'grep -E "^Cpus_allowed_list:" /proc/self/status' 2>&1)
  check_eq "bound to CPU $last, nook's command is too" "$last" "$(awk '{ print $2 }' <<<"$OUT")"
fi
# Bound to one CPU: the container is the same (nook then starts the command once the
# container is set up, with nothing beside the init to overlap it with).
if command -v taskset >/dev/null; then
  one=$(grep -oE '[0-9]+$' <<<"$host_cpus")
  # one_cpu ARGS...: nrun with nook bound to that CPU
  # shellcheck disable=SC2034 # (LAST_CMD, ERR: read by lib.sh's failure report)
  one_cpu() {
    LAST_CMD="taskset -c $one nook $*"
    RC=0
    ERR=
    OUT=$(timeout -k 5 60 taskset -c "$one" "$NOOK" "$@" 2>&1 </dev/null) || RC=$?
  }
  one_cpu run --rm busybox sh -c \
    'ps -o pid,sid,comm; grep -E "^(Cpus_allowed_list|Seccomp|NoNewPrivs|CapEff):" /proc/self/status'
  check_match "bound to one CPU: the command is filtered" 'Seccomp:[[:space:]]+2' "$OUT"
  check_match "(no_new_privs)" 'NoNewPrivs:[[:space:]]+1' "$OUT"
  check_match "(Docker's capabilities)" 'CapEff:[[:space:]]+00000000a80425fb' "$OUT"
  check_eq "(in the init's session, on that CPU)" "2 1 sh $one" \
    "$(awk '$3 == "sh" { print $1, $2, $3 } /^Cpus_allowed_list:/ { c = $2 } END { print c }' <<<"$OUT" | paste -sd' ')"
  one_cpu run --rm --network none busybox sh -c 'ip -o link | wc -l; exit 3'
  check_eq "(--network none: lo only; the command's status returned)" "1 3" "$OUT $RC"
else
  diag "no taskset here: the start on one CPU is not exercised"
fi
nrun run --rm busybox ls /proc/self/fd 7</etc/hostname 8<&0
check_eq "an fd given to nook (7, 8) does not reach the command" "0 1 2 3" "$(echo $OUT)"
nrun run --rm --ulimit nofile=64:64 busybox sh -c 'ulimit -n'
check_eq "the command gets its --ulimit" 64 "$OUT"

# A run that wrote nothing returns without waiting for its init's exit (the kernel's
# teardown): back-to-back runs reuse the pool while earlier teardowns may still run.
fails=0
for _ in $(seq 20); do "$NOOK" run --rm busybox true >/dev/null 2>&1 || fails=$((fails + 1)); done
check_eq "20 back-to-back runs all succeed" 0 "$fails"
check_status "the status is the command's when nook does not wait for the teardown" 7 \
  run --rm busybox sh -c 'exit 7'

done_testing
