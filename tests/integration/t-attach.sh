#!/usr/bin/env bash
# t-attach.sh: run -it and attach in a real pty (script): Ctrl-P Ctrl-Q detaches and leaves
# the container running, --detach-keys, attach again, the exit code through attach; pause
# and unpause by the SIGSTOP/SIGCONT fallback (NOOK_CGROUP=none: no cgroup freezer).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image
command -v script >/dev/null || skip_all "script (util-linux) is not installed"

running() { "$NOOK" ps --format json | grep -q "\"Names\":\"$1\""; }
logged() { "$NOOK" logs "$1" 2>/dev/null | grep -q "$2"; }

# attach_in NAME CMD: run CMD (a nook command line) in a pty made by script, its input
# from the fifo on fd 3, output in $T_SCRATCH/NAME.out; $apid is script's pid
attach_in() {
  rm -f "$T_SCRATCH/$1.in"
  mkfifo "$T_SCRATCH/$1.in"
  (timeout 60 script -qec "$2" /dev/null <"$T_SCRATCH/$1.in" >"$T_SCRATCH/$1.out" 2>&1
    echo "rc=$?" >>"$T_SCRATCH/$1.out") &
  apid=$!
  exec 3>"$T_SCRATCH/$1.in"
}
script_done() { ! kill -0 "$apid" 2>/dev/null; }

# --- run -it, Ctrl-P Ctrl-Q
attach_in a1 "$NOOK run -it --name a1 busybox sh"
wait_until "run -it: the container runs" 30 running a1
printf 'echo typed-$((6*7))\r' >&3
wait_until "run -it: what is typed reaches the shell" 30 logged a1 typed-42
printf '\020\021' >&3
wait_until "Ctrl-P Ctrl-Q: run -it returns" 30 script_done
exec 3>&-
check_match "... with status 0" 'rc=0' "$(cat "$T_SCRATCH/a1.out")"
check "the container still runs after detaching" running a1

# --- attach with other detach keys, then end the shell through it
attach_in a2 "$NOOK attach --detach-keys ctrl-x,x a1"
wait_until "attach: connected" 30 sh -c 'grep -q . "$1" || { printf "\r" >&3; false; }' _ "$T_SCRATCH/a2.out" 3>&3
printf 'echo again-$((1+1))\r' >&3
wait_until "attach: the shell answers" 30 logged a1 again-2
printf '\030x' >&3
wait_until "--detach-keys ctrl-x,x: attach returns" 30 script_done
exec 3>&-
check "the container still runs" running a1
attach_in a3 "$NOOK attach a1"
wait_until "attach again: connected" 30 sh -c 'grep -q . "$1" || { printf "\r" >&3; false; }' _ "$T_SCRATCH/a3.out" 3>&3
printf 'exit 5\r' >&3
wait_until "the shell's exit ends attach" 30 script_done
exec 3>&-
check_match "attach exits with the container's code" 'rc=5' "$(cat "$T_SCRATCH/a3.out")"
nrun ps -a
check_match "ps -a: Exited (5)" 'Exited \(5\).* a1($|'"$NL"')' "$OUT"
check_status "attach to a stopped container exits 1" 1 attach a1
"$NOOK" rm a1 >/dev/null

# --- pause / unpause
# the states of the container's processes but the init (from its children, recursively)
states() {
  local init q p s
  init=$(sed -n 's/.*"Pid":\([0-9]*\).*/\1/p' "$NOOK_ROOT/containers/$1/state.json")
  q="$init"
  while [ -n "$q" ]; do
    set -- $q
    p=$1
    shift
    q="$*"
    for c in $(cat "/proc/$p/task/$p/children" 2>/dev/null); do
      s=$(cat "/proc/$c/stat" 2>/dev/null) && s=${s##*) } && echo "${s%% *}"
      q="$q $c"
    done
  done
}
# stopped (T), or ended (Z): a sleep that ended just before its shell stopped stays a zombie
# while its stopped parent cannot reap it
all_stopped() { local s; s=$(states "$1"); grep -q '^T$' <<<"$s" && ! grep -qv '^[TZ]$' <<<"$s"; }
none_stopped() { ! states "$1" | grep -q T; }

# the SIGSTOP fallback, even where a freezer is delegated (t-pause-freezer tests that one)
export NOOK_CGROUP=none
id=$("$NOOK" run -d --name p1 busybox sh -c 'echo ready; while :; do sleep 0.05; done')
wait_until "p1 runs" 30 logged p1 ready
nrun pause p1
check_eq "pause prints the name" "0 p1" "$RC $OUT"
check "pause: every process of the container but its init is stopped (or ended)" all_stopped "$id"
nrun ps
check_match "ps shows (Paused)" 'Up .* \(Paused\) .* p1' "$OUT"
check_status "exec into a paused container exits 1" 1 exec p1 true
check_match "... saying so" 'is paused, unpause the container before exec' "$ERR"
check_status "pause of a paused container exits 1" 1 pause p1
nrun unpause p1
check_eq "unpause prints the name" "0 p1" "$RC $OUT"
wait_until "unpause: nothing of the container is stopped" 60 none_stopped "$id"
nrun exec p1 echo ok
check_eq "exec works again" ok "$OUT"
nrun pause p1
nrun stop -t 30 p1
check_eq "stop of a paused container" "0 p1" "$RC $OUT"
check_match "... ends it by its stop signal (143), not the timeout" 143 "$(sed -n 's/.*"ExitCode":\([0-9]*\).*/\1/p' "$NOOK_ROOT/containers/$id/state.json")"
check_status "unpause of a stopped container exits 1" 1 unpause p1
"$NOOK" rm -f p1 >/dev/null
done_testing
