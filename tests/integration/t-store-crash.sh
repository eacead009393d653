#!/usr/bin/env bash
# t-store-crash.sh: the store stays consistent when a load is killed (SIGKILL) at any point,
# and under 8 concurrent loops of tag, rmi, run, load, save and prune: `nook system check`
# finds no problem afterwards, and the store keeps working.
#
# The kill points are not left to luck: NOOK_HOOKED (nook built with util/test_hook.h's
# points) stops a load after staging the archive and after linking its blobs, where it is
# killed; then loads are killed at whatever point they reached.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image
S=$T_SCRATCH
export NOOK_RUN_TIMEOUT=60
id=$("$NOOK" images -q --no-trunc busybox)
"$NOOK" save -o "$S/bb.tar" busybox
# A second image, so that a load adds blobs the store does not have.
mkdir -p "$S/r/data"
head -c 3000000 /dev/urandom >"$S/r/data/blob"
tar -C "$S/r" -cf "$S/r.tar" .
"$NOOK" import "$S/r.tar" big:1 >/dev/null
"$NOOK" save -o "$S/big.tar" big:1
big=$("$NOOK" images -q --no-trunc big:1)
"$NOOK" rmi big:1 >/dev/null

need_hooked
hooks=$S/hooks
mkdir -p "$hooks"
for point in load-staged load-blobs-linked; do
  mkfifo "$hooks/$point.reached" "$hooks/$point.go"
  # Started directly (no timeout wrapper): $! is the load itself, which is killed below
  # whether or not it reached the point.
  NOOK_TEST_HOOK_DIR=$hooks "$NOOK_HOOKED" load -i "$S/big.tar" >"$S/load.out" 2>&1 </dev/null &
  pid=$!
  if timeout 60 cat "$hooks/$point.reached" >/dev/null; then
    ok "a load stopped at $point"
  else
    fail "a load stopped at $point" "$(cat "$S/load.out")"
  fi
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  rm -f "$hooks/$point.reached" "$hooks/$point.go"
  check_eq "killed at $point: the image was not added" "" "$("$NOOK" images -q big:1 2>/dev/null)"
  check_eq "killed at $point: busybox is intact" "$id" "$("$NOOK" images -q --no-trunc busybox)"
  check_store_clean "killed at $point"
done
check_status "a load after the killed ones" 0 load -i "$S/big.tar"
check_eq "adds the image" "$big" "$("$NOOK" images -q --no-trunc big:1)"
check_match "system check --repair removes the leftovers of the killed loads" \
  "repaired|0 unused" "$("$NOOK" system check --repair)"
"$NOOK" rmi big:1 >/dev/null

# Loads killed wherever they are: as soon as they have started staging, or at once.
for i in 1 2 3 4 5 6; do
  "$NOOK" load -i "$S/big.tar" >/dev/null 2>&1 </dev/null &
  pid=$!
  if [ $((i % 2)) = 0 ]; then
    poll 20 sh -c 'ls "$1"/tmp 2>/dev/null | grep -q "^load-" || ! kill -0 "$2" 2>/dev/null' _ "$NOOK_ROOT" "$pid"
  fi
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
done
check_store_clean "after 6 loads killed at any point"
check_status "the store still loads" 0 load -i "$S/big.tar"
check_status "and runs" 0 run --rm --pull never busybox true

# ---- 8 concurrent loops ----
loop() {
  local n=$1 k
  for k in 1 2 3 4 5 6; do
    case $n in
      1 | 2) "$NOOK" load -i "$S/bb.tar" ;;
      3 | 4) "$NOOK" tag busybox "t$n:$k" && "$NOOK" rmi "t$n:$k" ;;
      5 | 6) "$NOOK" run --rm --pull never busybox true ;;
      7) "$NOOK" rmi busybox big:1 ; "$NOOK" load -i "$S/big.tar" ;;
      8) "$NOOK" save -o "$S/s$k.tar" busybox ; "$NOOK" image prune -f ;;
    esac
    echo "rc=$?"
  done
}
run_loops 8
check_store_clean "after 8 concurrent loops"
"$NOOK" load -i "$S/bb.tar" >/dev/null
check_status "busybox runs afterwards" 0 run --rm --pull never busybox true
done_testing
