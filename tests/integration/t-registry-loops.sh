#!/usr/bin/env bash
# t-registry-loops.sh: 8 concurrent loops of pull, tag, rmi, run and prune on one store,
# the pulls from a loopback docker-registry (t-store-crash.sh has loads in its loops, not
# pulls): no command crashes or sees corruption, `nook system check` finds nothing wrong
# afterwards, and the store keeps working.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# shellcheck source=tests/integration/reglib.sh
. "$(dirname "$0")/reglib.sh"
reg_setup loops
S=$T_SCRATCH

# two images: busybox, and one of two more layers (a few MB, so pulls take a while)
mkdir -p "$S/big/a" "$S/big/b"
head -c 3000000 /dev/urandom >"$S/big/a/data"
head -c 2000000 /dev/urandom >"$S/big/b/data"
tar -C "$S/big/a" -czf "$S/a.tar.gz" .
check_status "import a second image" 0 import "$S/a.tar.gz" loops-a:1
check_status "push busybox" 0 push busybox "$R/lab/bb:1"
check_status "push the second image" 0 push loops-a:1 "$R/lab/a:1"
check_status "remove the second image from the store" 0 rmi loops-a:1

loop() {
  local n=$1 k
  for k in 1 2 3 4 5; do
    case $n in
      1 | 2) "$NOOK" pull -q "$R/lab/a:1" && "$NOOK" rmi "$R/lab/a:1" ;;
      3) "$NOOK" pull -q "$R/lab/bb:1" && "$NOOK" tag "$R/lab/bb:1" "t3:$k" && "$NOOK" rmi "t3:$k" ;;
      4) "$NOOK" tag busybox "t4:$k" && "$NOOK" rmi "t4:$k" ;;
      5 | 6) "$NOOK" run --rm --pull never busybox true ;;
      7) "$NOOK" run --rm --pull missing "$R/lab/bb:1" true ;;
      8) "$NOOK" image prune -f && "$NOOK" pull -q "$R/lab/a:1" ;;
    esac
    echo "rc=$?"
  done
}
run_loops 8
check_match "loop 5 (run) always succeeded" "^(rc=0$NL){4}rc=0$" "$(cat "$S/loop5.log")"
check_store_clean "after the loops"
check_status "pull afterwards" 0 pull -q "$R/lab/a:1"
check_status "busybox runs afterwards" 0 run --rm --pull never busybox true
check_status "the pulled image of the registry runs afterwards" 0 run --rm "$R/lab/bb:1" true
done_testing
