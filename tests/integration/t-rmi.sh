#!/usr/bin/env bash
# t-rmi.sh: `nook rmi` as Docker's: one tag of several is untagged, an ID with several
# tags needs -f, an image a container uses keeps its layers; and a run holds its image
# from the moment it resolves it, so an rmi racing a starting run refuses instead of
# pulling the layers from under it.
#
# The race is not left to luck: NOOK_HOOKED (set by tests/run-integration.sh) is nook
# built with the synchronisation points of util/test_hook.h; the run is stopped right
# after it resolved its image, two rmis are started (they wait for its hold), the run
# is let go to the point right after it recorded its container, where the rmis must
# have refused, then let go again.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image
export NOOK_RUN_TIMEOUT=60

id=$("$NOOK" images -q --no-trunc busybox)
hex=${id#sha256:}
short=${hex:0:12}

hooks=$T_SCRATCH/hooks
mkdir -p "$hooks"
mkfifo "$hooks/image-resolved.reached" "$hooks/image-resolved.go"

# The release binary has no hook: with the variable set it does not stop.
NOOK_TEST_HOOK_DIR=$hooks timeout 30 "$NOOK" run --rm busybox true </dev/null >/dev/null 2>&1
check_eq "build/nook has no test hook (a hooked one would wait here)" 0 "$?"

need_hooked

# ---- an rmi while a run has resolved the image but not yet recorded its container ----
# The run holds images.lock (shared) from its lookup until its record is written: the
# rmi started then waits, and afterwards finds the running container in the records.
mkfifo "$hooks/container-recorded.reached" "$hooks/container-recorded.go"
NOOK_TEST_HOOK_DIR=$hooks timeout -k 5 90 "$NOOK_HOOKED" run --rm busybox sh -c 'echo ran' \
  </dev/null >"$T_SCRATCH/run.out" 2>"$T_SCRATCH/run.err" &
runpid=$!
if timeout 60 cat "$hooks/image-resolved.reached" >/dev/null; then
  ok "the run stopped right after resolving busybox"
else
  fail "the run stopped right after resolving busybox" "$(cat "$T_SCRATCH/run.err")"
fi
timeout 60 "$NOOK" rmi busybox >"$T_SCRATCH/rmi1.out" 2>"$T_SCRATCH/rmi1.err" &
rmi1=$!
timeout 60 "$NOOK" rmi -f "$id" >"$T_SCRATCH/rmi2.out" 2>"$T_SCRATCH/rmi2.err" &
rmi2=$!
# Whatever they have done so far, they cannot have decided: the image is held.
if kill -0 "$rmi1" 2>/dev/null && kill -0 "$rmi2" 2>/dev/null; then
  ok "the rmis wait while the run holds the image"
else
  fail "the rmis wait while the run holds the image" "$(cat "$T_SCRATCH/rmi1.err" "$T_SCRATCH/rmi2.err")"
fi
timeout 60 sh -c ': >"$1"' _ "$hooks/image-resolved.go"
if timeout 60 cat "$hooks/container-recorded.reached" >/dev/null; then
  ok "the run went on to record its container"
else
  fail "the run went on to record its container" "$(cat "$T_SCRATCH/run.err")"
fi
rc=0
wait "$rmi1" || rc=$?
check_eq "rmi of the image a starting run holds fails (1)" 1 "$rc"
check_match "with Docker's message for a tag" \
  "conflict: unable to remove repository reference \"busybox\" \\(must force\\) - container [0-9a-f]{12} is using its referenced image $short" "$(cat "$T_SCRATCH/rmi1.err")"
rc=0
wait "$rmi2" || rc=$?
check_eq "rmi -f of its ID fails too (1)" 1 "$rc"
check_match "with Docker's message for a running container" \
  "conflict: unable to delete $short \\(cannot be forced\\) - image is being used by running container [0-9a-f]{12}" "$(cat "$T_SCRATCH/rmi2.err")"
timeout 60 sh -c ': >"$1"' _ "$hooks/container-recorded.go"
rc=0
wait "$runpid" || rc=$?
check_eq "the held run then completes" 0 "$rc"
check_eq "its command ran" ran "$(cat "$T_SCRATCH/run.out")"
check_no_match "no layer went from under it" 'No such file|mount overlay' "$(cat "$T_SCRATCH/run.err")"
check_status "busybox is still there" 0 run --rm busybox true

# ---- tags (Docker's rules), with a stopped container using the image ----
"$NOOK" images -q busybox | grep -q . || "$NOOK" bootstrap busybox >/dev/null
check_status "a stopped container of busybox" 0 run --name c1 busybox true
"$NOOK" bootstrap busybox bb:v1 >/dev/null
nrun rmi bb:v1
check_eq "rmi of one tag of several works although a container uses the image" 0 "$RC"
check_eq "it untags that tag only" "Untagged: bb:v1" "$OUT"
check_status "the image still runs under its other tag" 0 run --rm busybox true

"$NOOK" bootstrap busybox bb:v1 >/dev/null
nrun rmi "$id"
check_eq "rmi ID of an image with two tags fails without -f (1)" 1 "$RC"
check_match "with Docker's message" \
  "conflict: unable to delete $short \\(must be forced\\) - image is referenced in multiple repositories" "$ERR"
nrun rmi busybox
check_eq "rmi of one of the two tags" "Untagged: busybox:latest" "$OUT"
nrun rmi bb:v1
check_eq "rmi of the last tag of an image a container uses fails (1)" 1 "$RC"
check_match "with Docker's message" \
  "conflict: unable to remove repository reference \"bb:v1\" \\(must force\\) - container [0-9a-f]{12} is using its referenced image $short" "$ERR"
nrun rmi "$id"
check_eq "rmi ID of an image a stopped container uses fails without -f (1)" 1 "$RC"
check_match "with Docker's message" \
  "conflict: unable to delete $short \\(must be forced\\) - image is being used by stopped container [0-9a-f]{12}" "$ERR"
nrun rmi -f "$id"
check_eq "rmi -f ID removes its tags" "0|Untagged: bb:v1" "$RC|$OUT"
nrun images -q
check_eq "the image stays, untagged, while a container uses it" "$short" "$OUT"
check_status "the container is removed" 0 rm c1
nrun rmi "$id"
check_eq "then rmi ID deletes it" 0 "$RC"
check_match "Deleted: its ID" "(^|$NL)Deleted: $id($NL|$)" "$OUT"
nrun images -q
check_eq "no image left" "" "$OUT"

# rmi -f ID of an image with several tags and no container: every tag, then the image.
"$NOOK" bootstrap busybox >/dev/null
"$NOOK" bootstrap busybox bb:v2 >/dev/null
nrun rmi -f "$id"
check_eq "rmi -f ID with two tags works" 0 "$RC"
check_match "it untags both" "Untagged: busybox:latest${NL}Untagged: bb:v2|Untagged: bb:v2${NL}Untagged: busybox:latest" "$OUT"
check_match "and deletes the image" "Deleted: $id" "$OUT"
rm -f "$NOOK_ROOT/.nook-test-busybox"

done_testing
