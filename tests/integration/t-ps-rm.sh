#!/usr/bin/env bash
# t-ps-rm.sh: container records: `nook ps [-a]`, names (given, generated, conflicts),
# `nook rm [-f]`, and that a crashed run never shows as Up.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

check_status "a run without --rm" 3 run --name kept busybox sh -c 'mkdir -p /d && echo x > /d/f && chown -R 1000:1000 /d 2>/dev/null; exit 3'
nrun ps -a
check_match "ps -a lists it, Exited (3), with its name" "Exited \\(3\\) .* kept(\$|${NL})" "$OUT"
check_match "ps -a has Docker's header" '^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES' "$OUT"
nrun ps
check_no_match "ps (running only) does not list it" 'kept' "$OUT"
nrun run --name kept busybox true
check_eq "a name in use: exit 125" 125 "$RC"
check_match "a name in use: Docker's Conflict message" 'Conflict. The container name "/kept" is already in use' "$ERR"

check_status "a run without --name" 0 run busybox true
nrun ps -a --format json
check_match "it gets a generated name" '"Names":"[a-z]+_[a-z]+"' "$OUT"
check_status "a --rm run" 0 run --rm --name gone busybox true
nrun ps -a
check_no_match "a --rm container is not listed after it ended" 'gone' "$OUT"
check_status "the --rm container's name is free again" 0 run --rm --name gone busybox true

listed() { "$NOOK" ps 2>/dev/null | grep -q "$1"; }
# Containers that run as long as the test file does: until $T_SCRATCH/alive/run is gone
# (removed at the end, or with the scratch directory), whatever happens to their nook.
mkdir -p "$T_SCRATCH/alive" && : >"$T_SCRATCH/alive/run"
alive=(-v "$T_SCRATCH/alive:/alive" busybox sh -c 'while [ -e /alive/run ]; do sleep 0.1; done')

# A running container is Up; rm refuses it without -f.
( "$NOOK" run --name sleeper "${alive[@]}" >/dev/null 2>&1 || true ) 2>/dev/null &
spid=$!
wait_until "the running container shows in ps" 60 listed sleeper
nrun ps
check_match "a running container is Up" "Up .* sleeper(\$|${NL})" "$OUT"
nrun rm sleeper
check_eq "rm of a running container fails (1)" 1 "$RC"
check_match "rm says to stop it or force" 'cannot remove a running container' "$ERR"
nrun rm -f sleeper
check_eq "rm -f removes a running container" 0 "$RC"
check_eq "rm -f prints what it removed" sleeper "$OUT"
wait "$spid" 2>/dev/null
nrun ps -a
check_no_match "the removed container is gone from ps -a" 'sleeper' "$OUT"

# A nook killed hard leaves its record: the container died with it (its supervisor); it
# must show as Exited (255), as Docker shows containers found dead, never Up.
"$NOOK" run --name crash "${alive[@]}" >/dev/null 2>&1 &
npid=$!
disown "$npid" # (no "Killed" notice from bash)
wait_until "the container shows in ps" 60 listed crash
# ps lists it as soon as its record exists and its nook lives; the nook records it running
# (state.json) once the command runs: killed before, it shows as Dead (Docker's word for a
# container that never got a state). Wait for that record, not for a race.
state_running() {
  local id
  id=$("$NOOK" inspect -f '{{.Id}}' "$1" 2>/dev/null) &&
    grep -q '"Status": *"running"' "$NOOK_ROOT/containers/$id/state.json" 2>/dev/null
}
wait_until "its nook recorded it running" 60 state_running crash
kill -KILL "$npid"
wait_until "the killed nook is gone" 60 sh -c '! kill -0 "$1" 2>/dev/null' _ "$npid"
nrun ps -a
check_match "a container whose nook was killed shows as Exited (255)" "Exited \(255\).* +crash(\$|${NL})" "$OUT"
rm -f "$T_SCRATCH/alive/run"

# A slow import (stdin) holds the store's lock; runs of unpacked images need none. Its
# input stays empty until the run has ended (a fifo gate), and the run starts only once
# the import holds the lock.
tar -C / -cf "$T_SCRATCH/tiny.tar" etc/hostname 2>/dev/null || tar -cf "$T_SCRATCH/tiny.tar" -T /dev/null
gate=$(make_gate import-gate)
( read -r _ <"$gate"; cat "$T_SCRATCH/tiny.tar" ) | "$NOOK" import - slowimg >/dev/null 2>&1 &
slow=$!
store_locked() { ! flock -n "$NOOK_ROOT/lock" true; }
if wait_until "the import holds the store's lock" 60 store_locked; then
  check_status "a run while a slow import holds the store's lock" 0 run --rm busybox true
  check_eq "the import still held the lock, waiting for its input, when the run ended" 1 \
    "$(kill -0 "$slow" 2>/dev/null && store_locked && echo 1 || echo 0)"
fi
open_gate "$gate" || fail "the import's input was waiting on its gate"
rc=0
wait "$slow" || rc=$?
check_eq "the import then completes (0)" 0 "$rc"

nrun rmi busybox
check_eq "rmi of an image a container uses fails (1)" 1 "$RC"
check_match "rmi names the container that uses it" 'conflict: .*container [0-9a-f]{12}' "$ERR"
check_status "the image still runs" 0 run --rm busybox true

nrun rm kept
check_eq "rm of an exited container (with files of other owners in its layer)" 0 "$RC"
check_status "its name can be used again" 0 run --rm --name kept busybox true
nrun rm no-such-container
check_eq "rm of an unknown container fails (1)" 1 "$RC"
check_match "rm names the unknown container" 'No such container: no-such-container' "$ERR"
# shellcheck disable=SC2046
nrun rm $("$NOOK" ps -aq)
check_eq "rm of all the rest works" 0 "$RC"
nrun ps -aq
check_eq "nothing is left" "" "$OUT"
nrun rmi busybox
check_eq "with no container left, rmi works" 0 "$RC"

done_testing
