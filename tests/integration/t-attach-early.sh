#!/usr/bin/env bash
# t-attach-early.sh: input that reaches the supervisor before the container has started
# (run -it and start -a attach first, then the supervisor starts the container) is kept
# and given to the container once it runs, in order: text typed ahead on the terminal of
# run -it, and a pipe's whole input and its end for start -ai. The supervisor once dropped
# it (what came with the attach request, and every frame read before the start), so that a
# line typed as soon as `ps` listed the container could vanish (t-attach, under load).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image
command -v script >/dev/null || skip_all "script (util-linux) is not installed"

logged() { "$NOOK" logs "$1" 2>/dev/null | grep -q "$2"; }

# --- run -it: a line typed before the client has even attached (held at the test hook
# "supervisor-forked": the supervisor listens, the client has not connected yet)
if has_hooked; then
  hooks=$T_SCRATCH/hooks
  mkdir -p "$hooks"
  mkfifo "$hooks/supervisor-forked.reached" "$hooks/supervisor-forked.go" "$T_SCRATCH/in"
  (NOOK_TEST_HOOK_DIR=$hooks timeout 120 script -qec "$NOOK_HOOKED run -it --name ta busybox sh" \
    /dev/null <"$T_SCRATCH/in" >"$T_SCRATCH/ta.out" 2>&1
    echo "rc=$?" >>"$T_SCRATCH/ta.out") &
  spid=$!
  exec 3>"$T_SCRATCH/in"
  if timeout 60 cat "$hooks/supervisor-forked.reached" >/dev/null; then
    # typed while run -it is held: it waits in the terminal, then goes with the attach
    printf 'echo typed-$((6*7))\r' >&3
    open_gate "$hooks/supervisor-forked.go" >/dev/null
    wait_until "run -it: a line typed before the attach reaches the shell" 60 logged ta typed-42 &&
      ok "run -it: a line typed before the attach reaches the shell"
    printf 'exit 7\r' >&3
    wait_until "run -it: the shell's exit ends it" 60 pid_ended "$spid" &&
      check_match "... with the shell's code" 'rc=7' "$(cat "$T_SCRATCH/ta.out")"
  else
    fail "run -it stopped at the test hook supervisor-forked"
  fi
  exec 3>&-
  kill "$spid" 2>/dev/null
  wait "$spid" 2>/dev/null
  "$NOOK" rm -f ta >/dev/null 2>&1
fi

# --- start -ai with stdin from a file: all of it, then its end (cat ends), whenever the frames come
"$NOOK" create -i --name pc busybox cat >/dev/null
printf 'piped-1\npiped-2\n' >"$T_SCRATCH/piped"
NRUN_STDIN=$T_SCRATCH/piped nrun start -ai pc
check_eq "start -ai: what stdin holds reaches the container, and its end ends cat" \
  "0 piped-1${NL}piped-2" "$RC $OUT"
NRUN_STDIN=$T_SCRATCH/piped nrun start -ai pc
check_eq "... again on a second start" "0 piped-1${NL}piped-2" "$RC $OUT"
# stdin empty from the start: the end alone arrives before the container runs
nrun start -ai pc
check_eq "start -ai with an empty stdin: cat sees its end" "0 " "$RC $OUT"
"$NOOK" rm -f pc >/dev/null 2>&1

done_testing
