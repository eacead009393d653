#!/usr/bin/env bash
# t-net-holder-start.sh: the start of a user network's holder when its middle process (which
# used to report the holder's pid on the pipe the holder speaks on) runs late: the holder's
# "ready" (R) or "map my user namespace" (U) came first, nook read them as part of a pid and
# then waited forever, holding the networks lock (seen under load: `compose up -d` hung at
# "Container ... Starting", the next project's network create behind it). Forced here with
# the hooked build's points holder-forked (the middle process, after its fork), holder-ready
# (R said) and holder-unshared (U said).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image
need_hooked

H=$T_SCRATCH/hooks
mkdir -p "$H"

# start_late NET NAME SAID [ENV...]: `run -d --network NET` (hooked) whose holder says SAID
# (holder-ready or holder-unshared) before its middle process goes on; status in $RC.
start_late() {
  local net=$1 name=$2 said=$3 pid
  shift 3
  rm -f "$H"/*
  mkfifo "$H/holder-forked.reached" "$H/holder-forked.go" "$H/$said.reached" "$H/$said.go"
  env "$@" NOOK_TEST_HOOK_DIR="$H" timeout -k 5 40 "$NOOK_HOOKED" run -d --name "$name" \
    --network "$net" busybox sleep 1000 >"$T_SCRATCH/late.out" 2>"$T_SCRATCH/late.err" </dev/null &
  pid=$!
  timeout 30 cat "$H/holder-forked.reached" >/dev/null || fail "$name: the middle process reached its point"
  timeout 30 cat "$H/$said.reached" >/dev/null || fail "$name: the holder reached $said"
  # the holder has spoken; now the middle process goes on, then the holder
  open_gate "$H/holder-forked.go"
  open_gate "$H/$said.go"
  RC=0
  wait "$pid" || RC=$?
  OUT=$(cat "$T_SCRATCH/late.out") ERR=$(cat "$T_SCRATCH/late.err")
  LAST_CMD="nook-testhooks run -d --name $name --network $net (holder's $said before its pid)"
}

nrun network create late1
check_eq "network create late1" 0 "$RC"
start_late late1 l1 holder-ready
check_eq "run -d on a network whose holder was ready before its pid was told" 0 "$RC"
nrun exec l1 hostname -i
check_match "the container is on the network" '^[0-9.]+$' "$OUT"
nrun network create late2
check_eq "the networks lock is free: another network is made" 0 "$RC"

# the holder in a user namespace of its own (no kept one): it asks for its maps (U)
nrun network create late3
start_late late3 l3 holder-unshared NOOK_USERNS_KEEP=0
check_eq "run -d (no kept user namespace) whose holder asked for its maps before its pid was told" 0 "$RC"
nrun exec l3 hostname -i
check_match "that container is on its network" '^[0-9.]+$' "$OUT"

nrun rm -f l1 l3
check_eq "rm -f" 0 "$RC"
nrun network rm late1 late2 late3
check_eq "network rm" 0 "$RC"
wait_until "no holder is left" 30 sh -c "! pgrep -u $(id -u) -x nook-netns >/dev/null" &&
  ok "no holder is left"

done_testing
