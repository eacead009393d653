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
  # The probe leaves a zombie child and exits; the init must reap it (60 s at most).
  nrun run --rm -v "$pv" busybox sh -c \
    '/probe zombie > /tmp/z; p=$(sed -n s/zombie_pid=//p /tmp/z); echo "pid $p"; n=1200
     while [ -e /proc/$p ] && [ $n -gt 0 ]; do sleep 0.05; n=$((n - 1)); done
     cat /proc/$p/stat 2>/dev/null || echo reaped'
  check_match "an orphaned zombie is reaped by the init" 'reaped$' "$OUT"
else
  fail "PROBE ($PROBE) is not executable"
fi
# A double fork: the orphan writes its pid and exits; once it is reaped (60 s at most) no
# zombie is left.
nrun run --rm busybox sh -c '(sh -c "echo \$\$ > /tmp/o.new; mv /tmp/o.new /tmp/o" &); n=1200
  while { [ ! -s /tmp/o ] || [ -e /proc/$(cat /tmp/o) ]; } && [ $n -gt 0 ]; do sleep 0.05; n=$((n - 1)); done
  test -s /tmp/o || echo "the orphan never ran"; ps -o stat | grep -c Z'
check_eq "no zombie remains after a double fork" 0 "$OUT"

nook_gone() { ! kill -0 "$1" 2>/dev/null; }

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
  if ! wait_until "$sig: the container started and said ready" 60 grep -qs ready "$out"; then
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    diag "$(cat "$out")"
    return
  fi
  kill "-$sig" "$pid"
  # bounded wait: kill it if it ignores the signal
  if ! wait_until "$sig sent to nook ends the container" 60 nook_gone "$pid"; then
    kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" || rc=$?
  check_match "$sig sent to nook reaches the command" "got $sig" "$(cat "$out")"
  check_eq "$sig: nook exits with the command's status $code" "$code" "$rc"
}
signal_test TERM 7
signal_test INT 8
signal_test HUP 9

done_testing
