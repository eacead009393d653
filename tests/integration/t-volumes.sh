#!/usr/bin/env bash
# t-volumes.sh: bind mounts (rw, ro, files), --read-only, --tmpfs, bad volume specs.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

dir=$T_SCRATCH/vol
mkdir -p "$dir"
echo fromhost >"$dir/h"

nrun run --rm -v "$dir":/data busybox sh -c 'cat /data/h; echo hi > /data/f'
check_eq "-v: a host file is visible inside" fromhost "$OUT"
check_eq "-v: a write inside is visible on the host" hi "$(cat "$dir/f" 2>/dev/null)"
check_eq "-v: the file written inside is owned by the user on the host" "$(id -u)" \
  "$(stat -c %u "$dir/f" 2>/dev/null)"

nrun run --rm --volume "$dir":/data:ro busybox sh -c 'echo x > /data/g'
check_eq ":ro: a write fails" 1 "$([ "$RC" != 0 ] && echo 1 || echo 0)"
check_match ":ro: the error says Read-only" 'Read-only' "$ERR"
check_eq ":ro: nothing reached the host" no "$([ -e "$dir/g" ] && echo yes || echo no)"
nrun run --rm -v "$dir":/data:ro busybox cat /data/h
check_eq ":ro: reading works" fromhost "$OUT"

nrun run --rm -v "$dir/h":/etc/hfile:ro busybox cat /etc/hfile
check_eq "-v of a single file" fromhost "$OUT"

nrun run --rm --read-only busybox touch /x
check_eq "--read-only: writing to / fails" 1 "$([ "$RC" != 0 ] && echo 1 || echo 0)"
nrun run --rm --read-only --tmpfs /tmp busybox sh -c 'echo ok > /tmp/a && cat /tmp/a'
check_eq "--read-only --tmpfs /tmp: /tmp is writable" ok "$OUT"

nrun run --rm -v ./relative-dir:/data busybox true
check_eq "-v with a relative host path exits 125" 125 "$RC"
check_match "-v with a relative host path names it" 'relative-dir' "$ERR"
nrun run --rm -v "$T_SCRATCH/missing-zz9":/data busybox true
check_eq "-v with a missing host path exits 125" 125 "$RC"
check_match "-v with a missing host path names it" 'missing-zz9' "$ERR"
nrun run --rm -v "$dir":relative busybox true
check_eq "-v with a relative container path exits 125" 125 "$RC"
nrun run --rm --network none -v "$T_SCRATCH:/proc" busybox true
check_eq "-v over /proc exits 125 (runc's rule)" 125 "$RC"
check_match "... and says why" "nothing may be mounted over /proc" "$ERR"

nrun run --rm --tmpfs /scratch busybox sh -c "grep ' /scratch ' /proc/mounts"
check_match "--tmpfs /scratch is a tmpfs" '^tmpfs /scratch tmpfs ' "$OUT"
nrun run --rm --tmpfs /scratch busybox sh -c 'echo y > /scratch/y && cat /scratch/y'
check_eq "--tmpfs /scratch is writable" y "$OUT"

done_testing
