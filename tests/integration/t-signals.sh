#!/usr/bin/env bash
# t-signals.sh: a foreground `nook run` and its signals (Docker's sig-proxy plus what
# `docker stop` adds): the first INT/TERM/HUP/QUIT goes to the command; a command that
# ignores it is killed after --stop-timeout seconds or at a second INT/TERM (exit 137,
# removed with --rm). And -i -t needs a terminal on stdin; -t alone does not.
# Synchronisation: the command writes a ready file on a volume, then blocks opening a
# fifo nobody writes to; nook is waited for with a deadline that fails loudly.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

S=$T_SCRATCH/s
mkdir -p "$S"
mkfifo "$S/fifo"
BG=0

# start_bg ARGS...: start `nook ARGS...` in the background (output in $S/out, $S/err), wait
# until the command has written /s/ready; BG gets nook's pid.
start_bg() {
  rm -f "$S/ready" "$S/got"
  "$NOOK" "$@" >"$S/out" 2>"$S/err" </dev/null &
  BG=$!
  if ! wait_for "$S/ready" 300; then
    fail "the command did not start (no ready file in 30 s)" "$(cat "$S/err")"
    kill -KILL "$BG" 2>/dev/null
    wait "$BG" 2>/dev/null
    return 1
  fi
}

# wait_bg TENTHS: wait for the background nook to end; its status in RC, 999 when it did
# not end before the deadline (then it is killed).
wait_bg() {
  if ! poll $((($1 + 9) / 10)) pid_ended "$BG"; then
    kill -KILL "$BG" 2>/dev/null
    wait "$BG" 2>/dev/null
    RC=999
    return
  fi
  RC=0
  wait "$BG" || RC=$?
}

# ---- -i -t and stdin ----
out=$(echo true | timeout -k 5 60 "$NOOK" run --rm -it busybox sh 2>&1) && rc=0 || rc=$?
check_eq "-it with a pipe as stdin: refused with 125 (not a hang)" 125 "$rc"
check_match "-it with a pipe: Docker's message" 'the input device is not a TTY' "$out"
out=$(echo x | timeout -k 5 60 "$NOOK" run --rm -t busybox echo hi 2>&1) && rc=0 || rc=$?
check_eq "-t alone with a pipe as stdin works" 0 "$rc"
check_eq "-t alone: the output comes through" hi "$(tr -d '\r' <<<"$out")"
check_status "-t alone with /dev/null as stdin works" 0 run --rm -t busybox true
if command -v script >/dev/null; then
  rc=0
  script -qec "$NOOK run --rm -it busybox sh -c 'exit 7'" /dev/null </dev/null >/dev/null 2>&1 || rc=$?
  check_eq "-it with a terminal as stdin still works" 7 "$rc"
fi

# ---- the first signal goes to the command ----
if start_bg run --rm --stop-timeout 600 -v "$S:/s" busybox sh -c 'echo ok >/s/ready; read x </s/fifo'; then
  kill -TERM "$BG"
  wait_bg 300
  check_eq "SIGTERM is forwarded: the command dies of it, nook exits 143" 143 "$RC"
fi
if start_bg run --rm -t --stop-timeout 600 -v "$S:/s" busybox sh -c 'echo ok >/s/ready; read x </s/fifo'; then
  kill -TERM "$BG"
  wait_bg 300
  check_eq "with -t too: SIGTERM is forwarded, nook exits 143" 143 "$RC"
fi
# A background job of a script starts with SIGINT ignored; the command must not inherit that.
if start_bg run --rm --stop-timeout 600 -v "$S:/s" busybox sh -c 'echo ok >/s/ready; read x </s/fifo'; then
  kill -INT "$BG"
  wait_bg 300
  check_eq "SIGINT reaches a command of a nook started with INT ignored: 130" 130 "$RC"
fi

# ---- a command that ignores it ----
if start_bg run --rm --name ignorer --stop-timeout 1 -v "$S:/s" busybox sh -c "trap '' TERM; echo ok >/s/ready; read x </s/fifo"; then
  kill -TERM "$BG"
  wait_bg 600
  check_eq "TERM ignored: killed after --stop-timeout 1, nook exits 137" 137 "$RC"
  nrun ps -a
  check_no_match "... and the --rm container is removed" 'ignorer' "$OUT"
fi

cmd='trap "echo got >/s/got" TERM; echo ok >/s/ready; cat /s/fifo & while :; do wait $!; done'
if start_bg run --name twice --stop-timeout 600 -v "$S:/s" busybox sh -c "$cmd"; then
  kill -TERM "$BG"
  if wait_for "$S/got" 300; then
    ok "the first SIGTERM reached the command (its trap ran)"
  else
    fail "the first SIGTERM reached the command (its trap ran)" "$(cat "$S/err")"
  fi
  kill -INT "$BG"
  wait_bg 300
  check_eq "a second signal (INT) kills it at once: 137" 137 "$RC"
  nrun ps -a
  check_match "ps -a shows it Exited (137)" "Exited \\(137\\) .* twice(\$|${NL})" "$OUT"
  check_status "rm of the killed container" 0 rm twice
fi

nrun run --rm --stop-timeout soon busybox true
check_eq "--stop-timeout must be a number: 125" 125 "$RC"
check_match "--stop-timeout: the message names the flag and the value" \
  'invalid argument "soon" for "--stop-timeout" flag' "$ERR"

done_testing
