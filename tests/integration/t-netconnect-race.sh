#!/usr/bin/env bash
# t-netconnect-race.sh: `network connect` of a running container to a network whose holder
# starts after the user's kept user namespace (the nook-userns keeper) changed. Every holder
# joins the keeper's namespace, so that every container of a network is below every network;
# a holder in another namespace (a sibling tree) cannot take the container
# ("the container's user namespace is not below the network's", seen in t-netuser under load).
#  1. The race: a keeper named in userns.pid before it had exec'd (its name) failed the name
#     check of a nook that came meanwhile, which replaced it by a second keeper. Forced with
#     the hooked build (NOOK_HOOKED): the keeper stops before its exec (hook keeper-exec)
#     while a run in a second store starts its own network's holder. One keeper must result,
#     and b (whose network started the first) can be connected to lab2 afterwards.
#  2. A keeper ended while its namespace is in use (killed, or replaced): a holder `network
#     connect` starts is still one the container is below.
# Each part on its own runtime directory (XDG_RUNTIME_DIR), so that no keeper exists there
# when it starts; the keepers are ended at the end (lib.sh, keeper.sh).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

need_hooked

V=$T_SCRATCH/v
mkdir -p "$V"
chmod 777 "$V"
PIDS=()
ROOT2=$T_SCRATCH/root2
mkdir -p "$ROOT2"
if ! NOOK_ROOT=$ROOT2 "$NOOK" bootstrap busybox >"$T_SCRATCH/bootstrap2.log" 2>&1; then
  fail "nook bootstrap busybox (a second store)" "$(cat "$T_SCRATCH/bootstrap2.log")"
fi
# (short: the holders' sockets are made there, 108 bytes at most)
RT=$(mktemp -d /tmp/nkr.XXXXXX)
chmod 0700 "$RT"
export XDG_RUNTIME_DIR=$RT
cleanup_rt() {
  : >"$V/stop"
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  keeper_end_new "$NOOK" "$T_KEEPERS_BEFORE"
  rm -rf "$RT"
}

# the keepers of this user that were not there when the file started
new_keepers() {
  local k
  for k in $(keeper_list); do
    case " $(tr '\n' ' ' <<<"$T_KEEPERS_BEFORE") " in *" $k "*) ;; *) echo "$k" ;; esac
  done
}

# connect_reach NET CONTAINER [ALIAS]: `network connect` works, and a container on NET
# reaches CONTAINER (by ALIAS when given).
connect_reach() {
  local to=${3:-$2}
  nrun network connect ${3:+--alias "$3"} "$1" "$2"
  check_eq "network connect ${3:+--alias $3 }$1 $2 ($NOOK_TEST_USER_KIND)" 0 "$RC"
  [ "$RC" = 0 ] || diag "$ERR"
  nrun run --rm --network "$1" busybox ping -c1 -W30 "$to"
  check_eq "a container on $1 reaches $2${3:+ by the alias}" 0 "$RC"
}

# --- 1. the keeper's start raced by a second store's holder ---------------------------------
nrun network create lab
nrun network create --subnet 10.88.0.0/16 lab2
check_eq "network create lab lab2" 0 "$RC"
NOOK_ROOT=$ROOT2 "$NOOK" network create other >/dev/null
check_eq "no keeper yet in this file's runtime directory" "" "$(cat "$RT/nook/userns.pid" 2>/dev/null)"

hooks=$T_SCRATCH/hooks
mkdir -p "$hooks"
mkfifo "$hooks/keeper-exec.reached" "$hooks/keeper-exec.go"
NOOK_TEST_HOOK_DIR=$hooks "$NOOK_HOOKED" run --rm --network lab --name b -v "$V:/v" busybox sh -c \
  'touch /v/b.ready; while [ ! -e /v/stop ]; do sleep 0.1; done' \
  >"$T_SCRATCH/b.out" 2>"$T_SCRATCH/b.err" </dev/null &
PIDS+=("$!")
if timeout 60 cat "$hooks/keeper-exec.reached" >/dev/null; then
  ok "lab's holder started the keeper, stopped before its exec"
else
  fail "lab's holder started the keeper, stopped before its exec" "$(cat "$T_SCRATCH/b.err")"
fi
rm -f "$hooks/keeper-exec.reached" # (any later keeper goes on)
# (made only now: lab's holder passed that point before it started the keeper)
mkfifo "$hooks/userns-keep-lock.reached" "$hooks/userns-keep-lock.go"
# A run in the second store meanwhile: its network's holder finds no named keeper. It waits
# for the starting one (stopped at userns-keep-lock, then for the lock), or (the bug) starts
# another keeper and runs at once.
(timeout 60 cat "$hooks/userns-keep-lock.reached" >/dev/null && : >"$T_SCRATCH/r2.waits") &
catpid=$!
(
  NOOK_ROOT=$ROOT2 NOOK_TEST_HOOK_DIR=$hooks "$NOOK_HOOKED" run --rm --network other busybox true \
    >"$T_SCRATCH/r2.out" 2>"$T_SCRATCH/r2.err" </dev/null
  echo "$?" >"$T_SCRATCH/r2.rc"
) &
r2=$!
r2_settled() { [ -e "$T_SCRATCH/r2.waits" ] || [ -e "$T_SCRATCH/r2.rc" ]; }
wait_until "the second store's run waits for the keeper or has ended" 60 r2_settled || true
rm -f "$hooks/userns-keep-lock.reached"
if [ -e "$T_SCRATCH/r2.waits" ]; then
  open_gate "$hooks/userns-keep-lock.go"
else
  kill "$catpid" 2>/dev/null
fi
wait "$catpid" 2>/dev/null
# the keeper goes on (it reads keeper-exec.go to its end)
open_gate "$hooks/keeper-exec.go"
wait "$r2"
check_eq "the second store's run succeeds" 0 "$(cat "$T_SCRATCH/r2.rc" 2>/dev/null)"
wait_until "b is up" 60 test -e "$V/b.ready" || diag "$(cat "$T_SCRATCH/b.err")"
nk=$(new_keepers | wc -l)
check_eq "one keeper for the user, not a second one that replaced the first" 1 "$nk"
connect_reach lab2 b bee
: >"$V/stop"
for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
PIDS=()
rm -f "$V/stop" "$V/b.ready"
nrun network rm lab lab2
NOOK_ROOT=$ROOT2 "$NOOK" network rm other >/dev/null 2>&1
keeper_end_new "$NOOK" "$T_KEEPERS_BEFORE"

# --- 2. the keeper ended while its namespace is in use ------------------------------------
nrun network create lab3
nrun network create --subnet 10.87.0.0/16 lab4
check_eq "network create lab3 lab4" 0 "$RC"
"$NOOK" run --rm --network lab3 --name c -v "$V:/v" busybox sh -c \
  'touch /v/c.ready; while [ ! -e /v/stop ]; do sleep 0.1; done' \
  >"$T_SCRATCH/c.out" 2>"$T_SCRATCH/c.err" </dev/null &
PIDS+=("$!")
wait_until "c is up on lab3" 60 test -e "$V/c.ready" || diag "$(cat "$T_SCRATCH/c.err")"
k=$(keeper_pid "$NOOK")
check_match "a keeper runs (lab3's holder joined it)" '^[0-9]+$' "$k"
id=$(keeper_identity "$k")
[ -n "$k" ] && kill -TERM "$k"
gone() { [ "$(keeper_identity "$k")" != "$id" ]; }
wait_until "the keeper ended" 10 gone || true
connect_reach lab4 c
: >"$V/stop"
for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
PIDS=()
nrun network rm lab3 lab4
check_eq "network rm lab3 lab4 once c ended" "lab3${NL}lab4" "$OUT"
cleanup_rt
done_testing
