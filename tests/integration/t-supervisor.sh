#!/usr/bin/env bash
# t-supervisor.sh: a container lives and dies with its supervisor.  SIGKILL of the
# supervisor ends the container (ps -a: Exited (255)); SIGKILL of nook during run -d
# (stopped at a test hook, not raced) leaves nothing that ps -a and rm do not clear; rm -f
# leaves no process and no mount; 20 containers started and removed concurrently leave a
# consistent store; a restart policy brings a crashing container back N times; a
# foreground container is seen by logs, exec and stop from another process.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

state() {
  sed -n "s/.*\"$1\":\\([^,}]*\\).*/\\1/p" "$NOOK_ROOT/containers/$2/state.json" 2>/dev/null | tr -d '"'
}
# the start time of a process (field 22 of its stat), empty when gone or a zombie: with
# the pid it names one process, even if the pid were reused
starttime() {
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  s=${s##*) }
  set -- $s
  [ "$1" = Z ] || echo "${20}"
}
dead() { [ "$(starttime "$1")" != "$2" ]; }
# live (not zombie) processes of a container of this file: supervisors, inits, and the
# commands (all run "sleep 4242")
leftovers() {
  local p c
  for p in $(pgrep -u "$(id -u)" 2>/dev/null); do
    [ -n "$(starttime "$p")" ] || continue
    c=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)
    case "$(cat "/proc/$p/comm" 2>/dev/null) $c" in
      nook-init* | nook-supervise* | *"sleep 4242"*) echo "$p $c" ;;
    esac
  done
}
no_leftovers() { [ -z "$(leftovers)" ]; }

# --- SIGKILL of the supervisor ends the container
id=$("$NOOK" run -d --name s1 busybox sleep 4242)
sup=$(state SupervisorPid "$id")
init=$(state Pid "$id")
sup_t=$(starttime "$sup")
init_t=$(starttime "$init")
check_match "the supervisor and the init are alive" '^[0-9]+ [0-9]+$' "$sup_t $init_t"
kill -KILL "$sup"
wait_until "the init dies with its supervisor" 60 dead "$init" "$init_t"
nrun ps -a
check_match "ps -a: Exited (255)" "Exited \\(255\\).* s1($|$NL)" "$OUT"
check "no process of it is left" no_leftovers
nrun rm s1
check_eq "rm removes it" "0 s1" "$RC $OUT"

# --- rm -f of a running container leaves no process and no mount
id=$("$NOOK" run -d --name s2 busybox sleep 4242)
init=$(state Pid "$id")
init_t=$(starttime "$init")
nrun rm -f s2
check_eq "rm -f of a running container" "0 s2" "$RC $OUT"
check "rm -f: the init is gone when rm returns" dead "$init" "$init_t"
check "rm -f: no process is left" no_leftovers
check_fail "rm -f: no mount of it is left" grep -q "$id" /proc/self/mountinfo
check_fail "rm -f: its directory is gone" test -e "$NOOK_ROOT/containers/$id"

# --- SIGKILL of nook during run -d
if has_hooked; then
  hooks=$T_SCRATCH/hooks
  mkdir -p "$hooks"
  for point in container-created supervisor-forked; do
    mkfifo "$hooks/$point.reached" "$hooks/$point.go"
    NOOK_TEST_HOOK_DIR=$hooks "$NOOK_HOOKED" run -d --name "k-$point" busybox sleep 4242 \
      </dev/null >/dev/null 2>&1 &
    npid=$!
    if timeout 60 cat "$hooks/$point.reached" >/dev/null; then
      kill -KILL "$npid"
      wait "$npid" 2>/dev/null
      nrun ps -a
      check_match "killed at $point: ps -a lists the container" "k-$point($|$NL)" "$OUT"
      nrun rm -f "k-$point"
      check_eq "killed at $point: rm -f removes it" "0 k-$point" "$RC $OUT"
      wait_until "killed at $point: no process is left" 60 no_leftovers
      nrun ps -aq
      check_eq "killed at $point: nothing in ps -a" "" "$OUT"
    else
      fail "run -d stopped at $point"
      kill -KILL "$npid" 2>/dev/null
    fi
    rm -f "$hooks/$point.reached" "$hooks/$point.go"
  done
  # The container's first process asks to die with nook (PR_SET_PDEATHSIG) after the clone:
  # a nook killed before that prctl, after it let the child go on, must not leave the
  # container running without a parent.  The child waits at child-cloned (before its
  # prctl), nook at child-synced (after it sent the go-ahead); nook is killed, then the
  # child let go.
  mkfifo "$hooks/child-cloned.reached" "$hooks/child-cloned.go" \
    "$hooks/child-synced.reached" "$hooks/child-synced.go"
  NOOK_TEST_HOOK_DIR=$hooks "$NOOK_HOOKED" run --rm --name pd busybox sleep 4242 \
    </dev/null >/dev/null 2>&1 &
  npid=$!
  if timeout 60 cat "$hooks/child-cloned.reached" >/dev/null &&
    timeout 60 cat "$hooks/child-synced.reached" >/dev/null; then
    kill -KILL "$npid"
    wait "$npid" 2>/dev/null
    open_gate "$hooks/child-cloned.go" >/dev/null
    wait_until "a child whose nook died before its prctl ends (no orphan container)" 60 no_leftovers
  else
    fail "run stopped at child-cloned and child-synced"
    kill -KILL "$npid" 2>/dev/null
  fi
  "$NOOK" rm -f pd >/dev/null 2>&1
  # An attached start (and run -it) returns only once the supervisor is gone: `start -a x;
  # rm x` must not find x still held by a supervisor that told the exit code and is
  # cleaning up.  The supervisor is held after it told the code; start must still be
  # waiting for it.  (Without the wait, start ends at once; the 3 s bound how long we look.)
  hooks=$T_SCRATCH/hooks-fin
  mkdir -p "$hooks"
  mkfifo "$hooks/supervisor-finished.reached" "$hooks/supervisor-finished.go"
  "$NOOK" create --name held busybox true >/dev/null
  NOOK_TEST_HOOK_DIR=$hooks "$NOOK_HOOKED" start -a held </dev/null >/dev/null 2>&1 &
  npid=$!
  if timeout 60 cat "$hooks/supervisor-finished.reached" >/dev/null; then
    check_fail "start -a has not returned while its supervisor still holds the container" \
      poll 3 pid_ended "$npid"
    open_gate "$hooks/supervisor-finished.go" >/dev/null
    wait "$npid"
    check_eq "start -a's exit code once the supervisor ended" 0 "$?"
    check_status "rm right after start -a returned" 0 rm held
  else
    fail "the supervisor stopped at supervisor-finished"
    kill -KILL "$npid" 2>/dev/null
  fi
  "$NOOK" rm -f held >/dev/null 2>&1
  # `start` of a container that has just ended, while its supervisor (its final state
  # written, "exited") still holds the container's lock on its way out: start waits for
  # that supervisor to go, then starts it (it used to take the lock for another start's
  # and return 0 having started nothing: t-net-peer's restart, once in CI).
  hooks=$T_SCRATCH/hooks-restart
  V=$T_SCRATCH/vrs
  mkdir -p "$hooks" "$V"
  chmod 777 "$V"
  mkfifo "$hooks/supervisor-finished.reached" "$hooks/supervisor-finished.go"
  NOOK_TEST_HOOK_DIR=$hooks "$NOOK_HOOKED" run -d --name rs -v "$V:/v" busybox \
    sh -c 'echo run >>/v/runs; if [ -e /v/again ]; then exec sleep 300; fi; touch /v/again' \
    </dev/null >/dev/null 2>&1
  if timeout 60 cat "$hooks/supervisor-finished.reached" >/dev/null; then
    nrun inspect -f '{{.State.Status}}' rs
    check_eq "its first run over, the held supervisor has written exited" exited "$OUT"
    "$NOOK" start rs >"$T_SCRATCH/rs.out" 2>&1 &
    spid=$!
    check_fail "start waits while the ended supervisor holds the container" poll 3 pid_ended "$spid"
    open_gate "$hooks/supervisor-finished.go" >/dev/null
    wait "$spid"
    check_eq "start, once that supervisor has gone, succeeds" 0 "$?"
    ran_twice() { [ "$(grep -c run "$V/runs" 2>/dev/null)" = 2 ]; }
    wait_until "... and the container runs again" 30 ran_twice
    nrun inspect -f '{{.State.Status}}' rs
    check_eq "... and is running" running "$OUT"
  else
    fail "the supervisor of rs stopped at supervisor-finished"
  fi
  "$NOOK" rm -f rs >/dev/null 2>&1
fi

# --- 20 containers started and removed concurrently
pids=()
for i in $(seq 1 20); do
  "$NOOK" run -d --name "m$i" busybox sleep 4242 >"$T_SCRATCH/m$i.id" 2>"$T_SCRATCH/m$i.err" &
  pids+=($!)
done
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
check_eq "20 concurrent run -d all succeed" 0 "$bad"
nrun ps -q
check_eq "ps lists 20 running containers" 20 "$(grep -c . <<<"$OUT")"
pids=()
for i in $(seq 1 20); do
  "$NOOK" rm -f "m$i" >/dev/null 2>"$T_SCRATCH/rm$i.err" &
  pids+=($!)
done
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
check_eq "20 concurrent rm -f all succeed" 0 "$bad"
nrun ps -aq
check_eq "ps -a is empty" "" "$OUT"
check_eq "no container directory is left" "" "$(ls "$NOOK_ROOT/containers")"
check_eq "no name is left" "" "$(ls "$NOOK_ROOT/containers/.names" 2>/dev/null)"
check_eq "no image hold is left" "" "$(ls "$NOOK_ROOT/holds" 2>/dev/null)"
wait_until "no process is left" 60 no_leftovers

# --- a restart policy brings a crashing container back N times
id=$("$NOOK" run -d --name r1 --restart on-failure:3 busybox sh -c 'echo run; exit 1')
nrun wait r1
wait_until "r1 ends for good" 60 sh -c '[ "$(sed -n "s/.*\"Status\":\"\([a-z]*\)\".*/\1/p" "$1")" = exited ]' _ "$NOOK_ROOT/containers/$id/state.json"
check_eq "on-failure:3: restarted 3 times" 3 "$(state RestartCount "$id")"
nrun logs r1
check_eq "on-failure:3: 4 runs in the log" 4 "$(grep -c '^run$' <<<"$OUT")"
nrun wait r1
check_eq "wait prints its last exit code" 1 "$OUT"
id=$("$NOOK" run -d --name r2 --restart always busybox sh -c 'echo run; exit 0')
wait_until "always: restarted twice" 60 sh -c '[ "$(sed -n "s/.*\"RestartCount\":\([0-9]*\).*/\1/p" "$1")" -ge 2 ]' _ "$NOOK_ROOT/containers/$id/state.json"
nrun stop r2
check_eq "stop of a restarting container" "0 r2" "$RC $OUT"
check_eq "... stays stopped" exited "$(state Status "$id")"
"$NOOK" rm -f r1 r2 >/dev/null

# --- a foreground container is a container for the other verbs
"$NOOK" run --name fg busybox sh -c 'echo fg-ready; exec sleep 4242' </dev/null >"$T_SCRATCH/fg.out" 2>&1 &
fgpid=$!
wait_until "the foreground container logs" 60 sh -c '"$1" logs fg 2>/dev/null | grep -q fg-ready' _ "$NOOK"
nrun ps
check_match "ps lists the foreground container" 'Up .* fg($|'"$NL"')' "$OUT"
nrun exec fg echo from-exec
check_eq "exec into the foreground container" "0 from-exec" "$RC $OUT"
nrun stop -t 1 fg
check_eq "stop of the foreground container" "0 fg" "$RC $OUT"
rc=0
wait "$fgpid" || rc=$?
check_eq "the foreground nook exits with the container's status" 143 "$rc"
check_eq "its output reached its own stdout" fg-ready "$(cat "$T_SCRATCH/fg.out")"
"$NOOK" rm fg >/dev/null
check "nothing is left" no_leftovers
done_testing
