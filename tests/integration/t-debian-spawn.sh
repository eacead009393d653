#!/usr/bin/env bash
# t-debian-spawn.sh: how `nook bootstrap debian:SUITE` starts mmdebstrap, with a stand-in
# mmdebstrap first in PATH (no bootstrap is made: seconds, not a minute).
#  - mmdebstrap leads a session of its own: what it sends to its process group (the real
#    one sends SIGHUP to its group when its tarball fails) never reaches nook, which
#    reports the failure instead of dying of the signal (it died of SIGHUP, 129, once in CI).
#  - nook reads mmdebstrap's output to its end, not only to the tar's end-of-archive
#    blocks: tar pads past them, and a tail written after nook had closed the pipe failed
#    mmdebstrap (EPIPE, exit 25, once in CI). The stand-in writes a tar, then 2 MiB of
#    zeros, more than a pipe holds: with nook reading only to the marker, its write fails
#    every time.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

suite=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
[ -n "$suite" ] || skip_all "no VERSION_CODENAME in /etc/os-release: not a Debian host"
if [ "$NOOK_TEST_USER_KIND" = single ] && ! command -v fakechroot >/dev/null; then
  skip_all "fakechroot is not installed (ci/deps.sh installs it)"
fi

fake=$TMPDIR/fake-bin
mkdir -p "$fake"
cat >"$fake/mmdebstrap" <<'SH'
#!/bin/sh
echo "fake: session leader: $(ps -o sid= -p $$ | tr -d ' ')=$$" >&2
kill -HUP 0
exit 1
SH
chmod +x "$fake/mmdebstrap"

PATH=$fake:$PATH NOOK_RUN_TIMEOUT=120 nrun bootstrap "debian:$suite"
if grep -q "cannot fetch the Release" <<<"$ERR"; then
  skip_all "Debian's mirror is not reachable: $(grep -m1 'cannot fetch' <<<"$ERR")"
fi
fakeout=$(grep '^fake: ' <<<"$ERR")
check_match "the stand-in mmdebstrap ran" 'fake: session leader' "$fakeout"
check_eq "a SIGHUP mmdebstrap sends to its process group does not kill nook: exit 1" 1 "$RC"
check_match "nook says mmdebstrap was killed by the signal" \
  'mmdebstrap killed by signal 1' "$ERR"
sid=$(sed -n 's/^fake: session leader: //p' <<<"$fakeout")
check_match "mmdebstrap leads a session of its own" '^([0-9]+)=\1$' "$sid"

# A tar with the dates record nook expects (the Release date it fetched: the epoch), then
# a tail of zeros.
cat >"$fake/mmdebstrap" <<'SH'
#!/bin/sh
set -e
d=$(mktemp -d)
mkdir "$d/etc"
echo fake >"$d/etc/fake-release"
LC_ALL=C date -u -d "@$SOURCE_DATE_EPOCH" '+Date: %a, %d %b %Y %H:%M:%S UTC' \
  >"$d/.nook-bootstrap-release-dates"
tar -C "$d" -cf - .
head -c 2097152 /dev/zero
rm -rf "$d"
echo "fake: wrote it all" >&2
SH
PATH=$fake:$PATH NOOK_RUN_TIMEOUT=120 nrun bootstrap "debian:$suite" -t nook-test-fake-debian
check_eq "a tar followed by padding is imported: exit 0" 0 "$RC"
check_match "the stand-in's writes all succeeded (nook read to the end)" \
  'fake: wrote it all' "$ERR"
check_match "the layer has the tar's entries, the dates record left out" \
  'importing the layer \(3 entries\)' "$ERR"
nrun image inspect --format '{{len .RootFS.Layers}}' nook-test-fake-debian
check_eq "the image has its one layer" "0 1" "$RC $OUT"
nrun rmi nook-test-fake-debian
check_eq "the stand-in's image is removed" 0 "$RC"
done_testing
