#!/usr/bin/env bash
# t-init.sh: the container's init reaps orphans, forwards signals and is PID 1.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image
pv=$(probe_vol)

nrun run --rm busybox sh -c 'echo $$'
check_match "the command is not PID 1 (nook's init is)" '^[0-9]+$' "$OUT"
check_eq "the command's PID is greater than 1" 1 "$([ "${OUT:-0}" -gt 1 ] 2>/dev/null && echo 1 || echo 0)"

if [ -x "$PROBE" ]; then
  nrun run --rm -v "$pv" busybox sh -c \
    '/probe zombie > /tmp/z; sleep 1; p=$(sed -n s/zombie_pid=//p /tmp/z); echo "pid $p"; cat /proc/$p/stat 2>/dev/null || echo reaped'
  check_match "an orphaned zombie is reaped by the init" 'reaped$' "$OUT"
else
  fail "PROBE ($PROBE) is not executable"
fi
nrun run --rm busybox sh -c '(sleep 0.2 &) ; sleep 1; ps -o stat | grep -c Z'
check_eq "no zombie remains after a double fork" 0 "$OUT"

# signal_test SIG CODE: SIG sent to the nook process reaches the command.
signal_test() {
  local sig=$1 code=$2 out=$T_SCRATCH/sig-$1.out pid rc=0
  # A background job of a non-interactive shell starts with SIGINT and SIGQUIT ignored, and
  # a process may keep signals that were ignored at start ignored: so start nook with
  # default dispositions (as from a terminal), via python3, which execs it in place.
  python3 -c 'import os, signal, sys
for s in (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(s, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])' "$NOOK" run --rm busybox sh -c \
    "trap 'echo got $sig; exit $code' $sig; echo ready; while :; do sleep 0.1; done" \
    >"$out" 2>&1 </dev/null &
  pid=$!
  if ! wait_for "$out" 100; then
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    fail "$sig: the container started (no 'ready' within 10 s)" "$(cat "$out")"
    return
  fi
  kill "-$sig" "$pid"
  # bounded wait: kill it if it ignores the signal
  local n=100
  while kill -0 "$pid" 2>/dev/null && [ "$n" -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null
    fail "$sig sent to nook ends the container within 10 s"
  fi
  wait "$pid" || rc=$?
  check_match "$sig sent to nook reaches the command" "got $sig" "$(cat "$out")"
  check_eq "$sig: nook exits with the command's status $code" "$code" "$rc"
}
signal_test TERM 7
signal_test INT 8
signal_test HUP 9

done_testing
