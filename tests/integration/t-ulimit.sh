#!/usr/bin/env bash
# t-ulimit.sh: --ulimit sets resource limits inside (Docker's NAME=SOFT[:HARD]).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

nrun run --rm --ulimit nofile=512:512 busybox sh -c 'ulimit -n'
check_eq "--ulimit nofile=512:512: ulimit -n is 512" 512 "$OUT"
nrun run --rm --ulimit nofile=256:512 busybox sh -c 'echo "$(ulimit -Sn) $(ulimit -Hn)"'
check_eq "--ulimit nofile=256:512: soft 256, hard 512" "256 512" "$OUT"
nrun run --rm --ulimit nofile=300 busybox sh -c 'echo "$(ulimit -Sn) $(ulimit -Hn)"'
check_eq "--ulimit nofile=300: soft and hard 300" "300 300" "$OUT"
nrun run --rm --ulimit nproc=100:200 busybox sh -c 'ulimit -u'
check_eq "--ulimit nproc=100:200: ulimit -u is 100" 100 "$OUT"

nrun run --rm --ulimit nofile=64:64 busybox sh -c 'ulimit -n'
check_eq "a low --ulimit nofile=64 works (nook's own fds are dealt with first)" 64 "$OUT"

nrun run --rm --ulimit nofile=abc busybox true
check_eq "--ulimit nofile=abc exits 125" 125 "$RC"
nrun run --rm --ulimit bogus=1 busybox true
check_eq "--ulimit bogus=1 exits 125" 125 "$RC"
nrun run --rm --ulimit nofile=512:256 busybox true
check_eq "--ulimit with soft above hard exits 125" 125 "$RC"

done_testing
