#!/usr/bin/env bash
# t-pull-rmi-race.sh: a pull that found its image whole in the store, whose blobs an rmi
# removes before it records the tag (the add fails with EAGAIN, the pull tries again),
# fetches them again and ends. (It used to keep the first attempt's "all here" verdict:
# it fetched nothing, failed the same way and tried again for ever; t-registry-loops hung
# in CI on a `pull` of its loop 8 after a prune.) A hook of the test build stops the pull
# there, not timing.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# shellcheck source=tests/integration/reglib.sh
. "$(dirname "$0")/reglib.sh"
reg_setup race
S=$T_SCRATCH
need_hooked

mkdir -p "$S/img"
head -c 200000 /dev/urandom >"$S/img/data"
tar -C "$S/img" -czf "$S/img.tar.gz" .
check_status "import an image" 0 import "$S/img.tar.gz" race-a:1
check_status "push it" 0 push race-a:1 "$R/lab/a:1"
check_status "pull it: the store has all of it" 0 pull -q "$R/lab/a:1"

hooks=$S/hooks
mkdir -p "$hooks"
mkfifo "$hooks/pull-before-add.reached" "$hooks/pull-before-add.go"
# (bounded by timeout: the pull that never ends is the failure this file catches)
{
  NOOK_TEST_HOOK_DIR=$hooks timeout 120 "$NOOK_HOOKED" pull -q "$R/lab/a:1" \
    >"$S/pull.out" 2>"$S/pull.err" </dev/null
  echo "$?" >"$S/pull.rc"
} &
bg=$!
timeout 60 cat "$hooks/pull-before-add.reached" >/dev/null
check_eq "the pull stops before it adds the image (test hook)" 0 "$?"
check_status "rmi of one tag meanwhile" 0 rmi "$R/lab/a:1"
check_status "rmi of the other: the image's blobs are gone" 0 rmi race-a:1
# the next attempt passes the point freely: the hook is off once its .reached is gone
rm -f "$hooks/pull-before-add.reached"
timeout 30 sh -c ': >"$1"' sh "$hooks/pull-before-add.go"
check_eq "the pull goes on (test hook)" 0 "$?"
wait_until "the pull ends (not within 150 s: it tried again for ever)" 150 test -s "$S/pull.rc"
wait "$bg"
rc=$(cat "$S/pull.rc" 2>/dev/null)
if [ "$rc" = 0 ]; then ok "the pull succeeds"; else fail "the pull succeeds" "status: $rc" "$(tail -c 2000 "$S/pull.err")"; fi
nrun images -q "$R/lab/a:1"
check_match "the image is in the store again" "^[0-9a-f]{12}$" "$OUT"
check_store_clean "after the race (every blob of the image there)"
done_testing
