#!/usr/bin/env bash
# t-detach.sh: run -d and its supervisor: returns at once, keeps no fd of the caller; logs
# in Docker's json-file format, complete when stop returns; stop honours the stop signal
# and the timeout; kill, wait, start (the writable layer kept), restart; Docker's exit
# codes and messages for these verbs.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

# state FIELD ID: a field of the container's state.json (written by its supervisor)
state() {
  sed -n "s/.*\"$1\":\\([^,}]*\\).*/\\1/p" "$NOOK_ROOT/containers/$2/state.json" | tr -d '"'
}
running() { "$NOOK" ps --no-trunc -q | grep -qx "$1"; }
gone() { ! "$NOOK" ps -a --no-trunc -q | grep -qx "$1"; }

# --- run -d returns once the command runs, through $(...) (no fd of ours is kept: the
# command substitution would wait for every writer of its pipe), stderr too
id=$(timeout 30 "$NOOK" run -d --name d1 busybox sh -c 'echo out1; echo err1 >&2; exec sleep 1000' 2>&1)
rc=$?
check_eq "run -d returns through \$(...) at once" 0 "$rc"
check_match "run -d prints the full container ID" '^[0-9a-f]{64}$' "$id"
check "run -d: the container is running" running "$id"
sup=$(state SupervisorPid "$id")
init=$(state Pid "$id")
check_match "state.json names the supervisor and the init" '^[0-9]+ [0-9]+$' "$sup $init"
fds=$(ls -l "/proc/$sup/fd" 2>&1)
check_no_match "the supervisor holds no terminal or fd of the caller" '/dev/pts|/dev/tty|'"$T_SCRATCH" "$fds"
check_eq "the supervisor's stdin is /dev/null" /dev/null "$(readlink "/proc/$sup/fd/0")"

wait_until "logs has the output" 60 sh -c '"$1" logs d1 2>/dev/null | grep -q out1' _ "$NOOK"
nrun logs d1
check_eq "logs: stdout on stdout" out1 "$OUT"
check_eq "logs: stderr on stderr" err1 "$ERR"
log=$NOOK_ROOT/containers/$id/$id-json.log
check_match "the log is Docker's json-file format" \
  '^\{"log":"out1\\n","stream":"stdout","time":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z"\}$' \
  "$(grep out1 "$log")"
nrun logs -t d1
check_match "logs -t prefixes the time" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z out1$' "$OUT"
nrun logs --tail 0 d1
check_eq "logs --tail 0 prints nothing" "" "$OUT$ERR"
nrun logs --since 2000-01-01T00:00:00Z --until 1h d1
check_eq "logs --until 1h (an hour ago) prints nothing" "" "$OUT"

# --- logs -f follows until the container ends
gate=$(make_gate logs-gate)
"$NOOK" run -d --name f1 -v "$gate:/gate" busybox sh -c 'echo first; read x </gate; echo second' >/dev/null
( timeout 60 "$NOOK" logs -f f1 >"$T_SCRATCH/follow.out" 2>&1; echo "rc=$?" >>"$T_SCRATCH/follow.out" ) &
fpid=$!
wait_until "logs -f prints what is there" 60 grep -qs first "$T_SCRATCH/follow.out"
open_gate "$gate"
wait "$fpid"
check_eq "logs -f follows new lines and ends with the container" "first${NL}second${NL}rc=0" "$(cat "$T_SCRATCH/follow.out")"

# --- bounded logs: --log-opt max-size, max-file; --log-driver none
nrun run -d --name b1 --log-opt max-size=2k --log-opt max-file=2 busybox sh -c \
  'i=0; while [ $i -lt 400 ]; do echo "line $i"; i=$((i+1)); done'
bid=$OUT
nrun wait b1
blog=$NOOK_ROOT/containers/$bid/$bid-json.log
check "max-file=2: the log rotated once into .1" test -s "$blog.1"
check_fail "... and no further" test -e "$blog.2"
check "max-size=2k: the current file stays near 2 KiB" test "$(stat -c %s "$blog")" -le 2200
nrun logs b1
check_match "logs reads the rotated file first: the last line is last" 'line 399$' "$OUT"
check_eq "... and the lines are in order" "$OUT" "$(sort -t' ' -k2 -n <<<"$OUT")"
nrun run -d --name b2 --log-driver none busybox echo quiet
nrun wait b2
check_status "logs of a --log-driver none container exits 1" 1 logs b2
check_match "... saying why" 'does not support reading' "$ERR"
"$NOOK" rm -f b1 b2 >/dev/null

# --- run -d with a failing command: the start error and its code, as in the foreground
check_status "run -d of a missing command exits 127" 127 run -d busybox /nonexistent
check_match "... with the start error" 'no such file or directory|not found' "$ERR"
check_status "run -d --restart with --rm is refused (125)" 125 run -d --rm --restart always busybox true
check_match "... as Docker says it" 'Conflicting options: --restart and --rm' "$ERR"

# --- stop: the stop signal, logs complete when it returns
cat >"$T_SCRATCH/lines.sh" <<'EOF'
trap 'i=0; while [ $i -lt 300 ]; do echo "bye $i"; i=$((i+1)); done; printf partial; exit 3' USR1
echo ready
while :; do sleep 0.05; done
EOF
id2=$("$NOOK" run -d --name d2 --stop-signal USR1 -v "$T_SCRATCH/lines.sh:/lines.sh:ro" busybox sh /lines.sh)
wait_until "d2 is ready" 60 sh -c '"$1" logs d2 2>/dev/null | grep -q ready' _ "$NOOK"
nrun stop d2
check_eq "stop exits 0" 0 "$RC"
check_eq "stop prints the container's name as given" d2 "$OUT"
nrun logs d2
check_eq "every line the container wrote on its stop signal is logged when stop returns" \
  300 "$(grep -c '^bye' <<<"$OUT")"
check_match "a partial last line is kept" 'partial$' "$OUT"
check_match "... without a newline in the log" '"log":"partial","stream"' "$(tail -n 1 "$NOOK_ROOT/containers/$id2/$id2-json.log")"
nrun ps -a
check_match "ps -a: Exited (3)" "Exited \\(3\\).* d2($|$NL)" "$OUT"
check_eq "state.json: exited" "exited 3" "$(state Status "$id2") $(state ExitCode "$id2")"
nrun stop d2
check_eq "stop of a stopped container prints its name, exits 0" "0 d2" "$RC $OUT"

# --- the timeout: a container that ignores TERM is killed after -t
id3=$("$NOOK" run -d --name d3 busybox sh -c 'trap "" TERM; echo ready; while :; do sleep 0.05; done')
wait_until "d3 is ready" 60 sh -c '"$1" logs d3 2>/dev/null | grep -q ready' _ "$NOOK"
nrun stop -t 1 d3
check_eq "stop -t 1 of a container ignoring TERM" "0 d3" "$RC $OUT"
check_eq "... ends it with SIGKILL (137)" 137 "$(state ExitCode "$id3")"

# --- kill, wait
nrun kill d3
check_eq "kill of a stopped container fails (1)" 1 "$RC"
check_match "... container d3 is not running" 'Error: container d3 is not running' "$ERR"
"$NOOK" run -d --name d4 busybox sh -c 'trap "exit 42" HUP; echo ready; while :; do sleep 0.05; done' >/dev/null
wait_until "d4 is ready" 60 sh -c '"$1" logs d4 2>/dev/null | grep -q ready' _ "$NOOK"
( "$NOOK" wait d4 >"$T_SCRATCH/wait.out" 2>&1 ) &
wpid=$!
nrun kill -s HUP d4
check_eq "kill -s HUP prints the name" "0 d4" "$RC $OUT"
wait "$wpid"
check_eq "wait prints the exit code" 42 "$(cat "$T_SCRATCH/wait.out")"
nrun wait d4
check_eq "wait of an exited container prints its code at once" 42 "$OUT"

# --- start keeps the writable layer; restart
id5=$("$NOOK" run -d --name d5 busybox sh -c 'echo run >>/count; echo ready; exec sleep 1000')
wait_until "d5 is ready" 60 sh -c '"$1" logs d5 2>/dev/null | grep -q ready' _ "$NOOK"
nrun stop -t 0 d5
nrun start d5
check_eq "start prints the name" "0 d5" "$RC $OUT"
check "start: running again" running "$id5"
# (the command runs once started: poll for its second line)
runs() { [ "$("$NOOK" exec d5 grep -c run /count 2>/dev/null)" = "$1" ]; }
wait_until "start: the command ran again" 60 runs 2
nrun exec d5 cat /count
check_eq "start keeps the writable layer" "run${NL}run" "$OUT"
oldsup=$(state SupervisorPid "$id5")
nrun restart -t 0 d5
check_eq "restart prints the name" "0 d5" "$RC $OUT"
check "restart: running" running "$id5"
check_fail "restart: a new supervisor" test "$oldsup" = "$(state SupervisorPid "$id5")"
wait_until "restart: the command ran a third time" 60 runs 3
nrun exec d5 cat /count
check_eq "restart: three runs in the kept writable layer" 3 "$(grep -c run <<<"$OUT")"

# --- create + start -a
nrun create --name c1 busybox sh -c 'echo created-out; exit 6'
cid=$OUT
check_match "create prints the ID" '^[0-9a-f]{64}$' "$cid"
nrun ps -a
check_match "ps -a: Created" "Created +c1($|$NL)" "$OUT"
nrun start -a c1
check_eq "start -a: the output, then the exit code" "6 created-out" "$RC $OUT"

# --- start --all --filter restart-policy=always: what a daemon would start after a boot
nrun create --name ra --restart always busybox sleep 1000
raid=$OUT
nrun create --name rn busybox sleep 1000
nrun start --all --filter restart-policy=always
check_eq "start --all --filter restart-policy=always starts the always one (its ID, as podman)" \
  "0 $raid" "$RC $OUT"
nrun ps --format json
check_match "... which runs" '"Names":"ra"' "$OUT"
check_no_match "... and only it" '"Names":"rn"' "$OUT"
"$NOOK" rm -f ra rn >/dev/null

# --- messages and exit codes
for verb in stop kill start restart wait pause unpause logs; do
  check_status "$verb of a missing container exits 1" 1 "$verb" nosuchcontainer
  check_match "... No such container" '^Error: No such container: nosuchcontainer' "$ERR"
done

# --- --cidfile and -d --rm
nrun run -d --rm --cidfile "$T_SCRATCH/cid" busybox sh -c 'echo hi'
check_eq "run -d --cidfile writes the ID" "$OUT" "$(cat "$T_SCRATCH/cid")"
wait_until "run -d --rm removes the container when it ends" 30 gone "$OUT"
nrun run -d --cidfile "$T_SCRATCH/cid" busybox true
check_eq "an existing --cidfile is refused (125)" 125 "$RC"

# --- rm -f ends and removes the running ones; nothing is left
nrun rm -f d1 d2 d3 d4 d5 c1 f1
check_eq "rm -f prints each name" "d1 d2 d3 d4 d5 c1 f1" "$(echo $OUT)"
# (and the container of the failed start, kept as Docker keeps it: Created, code 127)
nrun ps -a
check_match "a container whose start failed is kept, with its code" 'Exited \(127\)' "$OUT"
# shellcheck disable=SC2046 # one ID a word
"$NOOK" rm -f $("$NOOK" ps -aq) >/dev/null
nrun ps -aq
check_eq "rm -f removed them all" "" "$OUT"
done_testing
