#!/usr/bin/env bash
# t-rm-upper.sh: a foreground `run --rm` without a name keeps its writable layer on a
# tmpfs of its own (start-up: no inode of overlay's work directory on the store's disk):
# nothing it writes reaches the store's upper/ or work/, overlay's whiteouts and opaque
# directories work there, the writes are gone with it; NOOK_RM_UPPER=disk and runs that
# are kept (no --rm) write to the store's disk as before.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

# in_store NAME: the store's container directories hold a file NAME in upper/
in_store() { find "$NOOK_ROOT/containers" -path '*/upper/*' -name "$1" 2>/dev/null | grep -q .; }
listed() { "$NOOK" ps -q --no-trunc | grep -qE '^[0-9a-f]{64}$'; }

# A quick --rm run writes a file, then waits at a gate while the host looks at the store.
gate=$(make_gate rm-gate)
"$NOOK" run --rm -v "$gate:/gate" busybox sh -c 'echo x >/written-by-rm; sync; read x </gate' \
  >"$T_SCRATCH/run.out" 2>&1 &
rpid=$!
wait_until "ps lists the foreground --rm run" 30 listed
# (ps lists it once its child sets up; the write follows at once: the container's own
# view says when it is done)
id=$("$NOOK" ps -q --no-trunc | head -1)
wait_until "the run's file is written" 30 "$NOOK" exec "$id" test -e /written-by-rm
check_fail "a --rm run's write is not in the store's upper/ (a tmpfs holds it)" in_store written-by-rm
work=$(find "$NOOK_ROOT/containers/$id/work" -mindepth 1 2>/dev/null | head -3)
check_eq "... nor anything in its work/" "" "$work"
open_gate "$gate"
wait "$rpid"
check_eq "the run ends as its command" 0 "$?"

# With NOOK_RM_UPPER=disk the writes go to the store's disk as before.
gate2=$(make_gate rm-gate2)
NOOK_RM_UPPER=disk "$NOOK" run --rm -v "$gate2:/gate" busybox sh -c \
  'echo x >/written-on-disk; read x </gate' >"$T_SCRATCH/run2.out" 2>&1 &
rpid=$!
wait_until "ps lists the NOOK_RM_UPPER=disk run" 30 listed
wait_until "NOOK_RM_UPPER=disk: the write is in the store's upper/" 30 in_store written-on-disk
open_gate "$gate2"
wait "$rpid"
check_eq "... and the run ends as its command" 0 "$?"

# A kept container (no --rm) writes to the store's disk.
nrun run --name kept-upper busybox sh -c 'echo x >/written-kept'
check_eq "a run without --rm works" 0 "$RC"
check "... and its write is in the store's upper/" in_store written-kept
nrun rm kept-upper

# overlay on the tmpfs: whiteouts and opaque directories as on disk.
nrun run --rm busybox sh -c 'rm /bin/true && ls /bin/true 2>&1; cp /bin/busybox /busybox &&
  /busybox rm -rf /bin && /busybox mkdir /bin && /busybox ls -A /bin | /busybox wc -l; echo y >/bin/new; /busybox cat /bin/new'
check_eq "a deleted image file is gone, a re-made directory is empty (opaque)" \
  "ls: /bin/true: No such file or directory${NL}0${NL}y" "$OUT"
nrun run --rm busybox sh -c 'ls /written-by-rm 2>&1 || echo gone'
check_match "the last run's write is not seen by the next" 'gone$' "$OUT"
# Files written by a --rm run keep their owner and mode (a tmpfs of the run's root).
nrun run --rm busybox sh -c 'mkdir -p /srv/a && chmod 1777 /srv/a && touch /srv/a/f &&
  stat -c "%a %u" /srv/a /srv/a/f / /tmp'
check_eq "modes and owners on the tmpfs layer" "1777 0${NL}644 0${NL}755 0${NL}1777 0" "$OUT"

# With the writable layer on a tmpfs nothing is left in the directory: it is parked clean
# (no .pool/.d-ID for the next run to empty).
for _ in 1 2; do "$NOOK" run --rm busybox true >/dev/null 2>&1; done
dirty=$(find "$NOOK_ROOT/containers/.pool" -mindepth 1 -maxdepth 1 -name '.[dc]-*' 2>/dev/null | wc -l)
check_eq "runs that wrote nothing leave no pooled directory to empty" 0 "$dirty"

done_testing
