#!/usr/bin/env bash
# t-record-deferred.sh: `run --rm` without a name (the quick path) writes its config.json
# while its child sets the container up, not before the clone. Until then its directory,
# taken from the pool, still holds the config.json of the run that parked it: no verb may
# take that one for a container (ps -a, inspect), and once the command runs the new
# container is listed.
#
# The run is stopped where its directory is taken and its record not yet written
# (NOOK_HOOKED: nook with util/test_hook.h's synchronisation points, hook container-created).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image
export NOOK_RUN_TIMEOUT=60

need_hooked

# A run that parks its directory (and its config.json) in the pool, and one more, which
# empties it while its child sets up (a run that wrote nothing parks its directory as
# it is, for the next run to empty): the next run takes the first one's directory. Its
# ID is the one a stale record would show.
check_status "a first --rm run" 0 run --rm --cidfile "$T_SCRATCH/first.cid" busybox true
first=$(cat "$T_SCRATCH/first.cid")
check_status "a second one" 0 run --rm busybox true
before=$("$NOOK" ps -a -q --no-trunc)
check_eq "the first run left no container" "" "$before"

hooks=$T_SCRATCH/hooks
mkdir -p "$hooks"
mkfifo "$hooks/container-created.reached" "$hooks/container-created.go"
gate=$(make_gate stdin)
# (its command blocks on stdin until the gate opens: the container is running meanwhile)
NOOK_TEST_HOOK_DIR=$hooks timeout -k 5 90 "$NOOK_HOOKED" run --rm -i busybox sh -c 'read x; echo ran' \
  <"$gate" >"$T_SCRATCH/run.out" 2>"$T_SCRATCH/run.err" &
runpid=$!
exec 9>"$gate"
if timeout 60 cat "$hooks/container-created.reached" >/dev/null; then
  ok "the run stopped with its directory taken, before the clone"
else
  fail "the run stopped with its directory taken, before the clone" "$(cat "$T_SCRATCH/run.err")"
fi
nrun ps -a -q --no-trunc
check_eq "ps -a shows no container meanwhile (not the pooled directory's last one)" "0:" "$RC:$OUT"
check_status "inspect does not find the parked run's ID" 1 inspect "$first"
timeout 60 sh -c ': >"$1"' _ "$hooks/container-created.go"

# recorded before its command runs: listed while the command waits on stdin
listed() { [ -n "$("$NOOK" ps -q --no-trunc)" ]; }
wait_until "the running container is listed" 60 listed
now=$("$NOOK" ps -q --no-trunc)
check_match "ps shows one container, a new one" '^[0-9a-f]{64}$' "$now"
[ "$now" != "$first" ]
check_eq "(not the parked run's ID)" 0 "$?"
nrun inspect --format '{{.Id}}' "$now"
check_eq "inspect finds it by its ID" "0:$now" "$RC:$OUT"
echo go >&9
exec 9>&-
rc=0
wait "$runpid" || rc=$?
check_eq "the run completes" 0 "$rc"
check_eq "its command ran" ran "$(cat "$T_SCRATCH/run.out")"
done_testing
