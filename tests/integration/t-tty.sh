#!/usr/bin/env bash
# t-tty.sh: -t allocates a pseudo-terminal; -i passes stdin; without -i stdin is not read.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image
command -v script >/dev/null || skip_all "script (util-linux) is not installed"

# script gives nook a terminal as its stdin/stdout; its size is set to 33x111 first, and
# nook must give the container's terminal the same size. (Stray echoes such as ^@ from
# script's end of input may precede the output.)
out=$(script -qec "stty rows 33 cols 111; $NOOK run --rm -it busybox sh -c 'tty; stty size'" \
  /dev/null </dev/null 2>&1 | tr -d '\r')
check_match "-it: the command has a /dev/pts/N terminal" '/dev/pts/[0-9]+('$'\n''|$)' "$out"
check_match "-it: the container's terminal has the caller's size (33 111)" '(^|[^0-9])33 111('$'\n''|$)' "$out"
rc=0
script -qec "$NOOK run --rm -it busybox sh -c 'exit 5'" /dev/null </dev/null >/dev/null 2>&1 || rc=$?
check_eq "-it: the exit status comes through" 5 "$rc"
out=$(script -qec "$NOOK run --rm -t busybox sh -c 'test -t 1 && echo tty1'" /dev/null </dev/null 2>&1 | tr -d '\r')
check_match "-t: stdout is a terminal" 'tty1' "$out"

nrun run --rm busybox sh -c 'test -t 0 || test -t 1 || echo notty'
check_eq "without -t: no terminal" notty "$OUT"

printf 'abc\n' >"$T_SCRATCH/in"
NRUN_STDIN=$T_SCRATCH/in nrun run --rm -i busybox cat
check_eq "-i without -t passes stdin through" abc "$OUT"
out=$(printf 'abc\n' | "$NOOK" run --rm -i busybox cat 2>&1)
check_eq "-i: a pipe as stdin" abc "$out"
head -c 300000 /dev/zero | tr '\0' 'a' >"$T_SCRATCH/big"
NRUN_STDIN=$T_SCRATCH/big nrun run --rm -i busybox wc -c
check_eq "-i: 300000 bytes of stdin arrive whole" 300000 "$(tr -d ' ' <<<"$OUT")"
out=$(printf 'abc\n' | "$NOOK" run --rm busybox cat 2>&1)
check_eq "without -i, stdin is not read" "" "$out"

done_testing
