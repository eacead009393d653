#!/usr/bin/env bash
# t-run-input.sh: what `nook run` reads from its caller: --env-file (pipes and FIFOs as
# Docker reads them, NUL bytes refused, invalid lines shown escaped) and -v specs
# (field by field: an empty field or conflicting options are errors, never skipped).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image
export NOOK_RUN_TIMEOUT=30

# --env-file <(...): the CI idiom. (nrun cannot pass a process substitution: run directly.)
out=$(timeout 30 "$NOOK" run --rm --env-file <(printf 'CI_A=1\nCI_B=two\n') busybox \
  sh -c 'echo "$CI_A|$CI_B"' 2>&1 </dev/null)
check_eq "--env-file <(...) (a pipe)" '1|two' "$out"

# A named FIFO whose writer comes after nook opened it.
fifo=$T_SCRATCH/env.fifo
mkfifo "$fifo"
(printf 'F=from-fifo\n' >"$fifo") &
writer=$!
nrun run --rm --env-file "$fifo" busybox sh -c 'echo "$F"'
check_eq "--env-file FIFO" from-fifo "$OUT"
wait "$writer"

nrun run --rm --env-file "$T_SCRATCH" busybox true
check_eq "--env-file of a directory exits 125" 125 "$RC"
check_match "--env-file of a directory says what it is" 'not a regular file or pipe \(directory\)' "$ERR"
nrun run --rm --env-file /dev/null busybox true
check_eq "--env-file of a device exits 125" 125 "$RC"

printf 'A=1\nB=2\0C=3\nD=4\n' >"$T_SCRATCH/nul.env"
nrun run --rm --env-file "$T_SCRATCH/nul.env" busybox sh -c 'echo "$A$B$D"'
check_eq "--env-file with a NUL byte exits 125 (was: the rest silently dropped)" 125 "$RC"
check_match "the NUL byte's file and line are named" 'nul\.env:2: a NUL byte' "$ERR"

printf 'A=1\nBAD\033]0;pwned\007 X=1\n' >"$T_SCRATCH/ctl.env"
nrun run --rm --env-file "$T_SCRATCH/ctl.env" busybox true
check_eq "--env-file with an invalid line exits 125" 125 "$RC"
check_match "the invalid line is shown escaped" 'ctl\.env:2: .*BAD\\x1b\]0;pwned\\x07 X=1' "$ERR"
if [[ $ERR == *$'\033'* || $ERR == *$'\007'* ]]; then
  fail "no terminal control character reaches stderr" "$(_last_run)"
else
  ok "no terminal control character reaches stderr"
fi

# -v: an empty field is an error (an unset variable must not bind another path).
dir=$T_SCRATCH/vol
mkdir -p "$dir"
for spec in ":$dir:/x" "$dir::/x" "$dir:/x:" "$dir:/x:ro,rw" "$dir:/x:rw,ro" "$dir:/x:ro,,z" \
  "$dir:/x:bogus"; do
  label=${spec//$dir/DIR}
  nrun run --rm -v "$spec" busybox true
  check_eq "-v '$label' exits 125" 125 "$RC"
  check_match "-v '$label': the message names the value" "invalid volume '$spec'" "$ERR"
done
check_match "-v with an unknown option names it" "unknown option 'bogus'" "$ERR"
nrun run --rm -v "$dir:/x:ro,rw" busybox true
check_match "-v ro,rw: conflicting options named" "conflicting options 'ro' and 'rw'" "$ERR"
nrun run --rm -v "$dir:/x:z,ro" busybox sh -c 'touch /x/f'
check_eq "-v z,ro is read-only" 1 "$RC"

done_testing
