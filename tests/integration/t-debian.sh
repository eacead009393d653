#!/usr/bin/env bash
# t-debian.sh: `nook bootstrap debian:SUITE` (SUITE = this host's release, so that the
# user without a range can build it too: fakechroot mode) builds a Debian base from the
# host's apt mirror, once per test user; apt-get runs in it; /etc/shadow is root:shadow
# (0:42) inside for the user with a range, and in the layer blob for both; the image
# has Hub's three suites, no apt lists, no host resolv.conf/hostname/proxy, nothing
# under ./dev, files dated at most the Release date, which is `created`.
#
# The same image ID for both kinds of user: each run records "EPOCH ID" in
# $NOOK_TEST_SHARED (a directory tests/run-integration.sh shares between the test
# users, who run this file one after the other with stores of their own); a later user
# compares its ID with every record of the same Release date (a mirror that changed
# in between is said, not compared).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

command -v mmdebstrap >/dev/null || skip_all "mmdebstrap is not installed (ci/deps.sh installs it)"
suite=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
[ -n "$suite" ] || skip_all "no VERSION_CODENAME in /etc/os-release: not a Debian host"
if [ "$NOOK_TEST_USER_KIND" = single ] && ! command -v fakechroot >/dev/null; then
  skip_all "fakechroot is not installed (ci/deps.sh installs it)"
fi

# bootstrap once (the slow part: ~20 s here in either mode).  No dpkg configuration of
# the host runs on it: a status logger in this user's ~/.dpkg.cfg (which the host's dpkg
# reads, as it reads /etc/dpkg/dpkg.cfg.d, whatever its --root) must not run.
mkdir -p "$TMPDIR/home"
printf 'status-logger=cat >/dev/null; echo ran >>%s/host-dpkg-logger\n' "$TMPDIR" \
  >"$TMPDIR/home/.dpkg.cfg"
start=$SECONDS
HOME=$TMPDIR/home NOOK_RUN_TIMEOUT=200 nrun bootstrap "debian:$suite"
took=$((SECONDS - start))
if [ "$RC" != 0 ] && grep -q "cannot fetch the Release" <<<"$ERR"; then
  skip_all "Debian's mirror is not reachable: $(grep -m1 'cannot fetch' <<<"$ERR")"
fi
check_eq "nook bootstrap debian:$suite succeeds ($NOOK_TEST_USER_KIND user)" 0 "$RC"
[ "$RC" = 0 ] || done_testing
diag "bootstrap took ${took}s ($NOOK_TEST_USER_KIND user)"
check_eq "the host's dpkg configuration does not run on the bootstrap (a status logger)" \
  "" "$(cat "$TMPDIR/host-dpkg-logger" 2>/dev/null)"
check_no_match "no host dpkg/apt hook ran (needrestart's)" 'needrestart' "$ERR"
id=$OUT
check_match "it prints the image ID" '^sha256:[0-9a-f]{64}$' "$id"
epoch=$(sed -n 's/^bootstrap: SOURCE_DATE_EPOCH=\([0-9]*\) .*/\1/p' <<<"$ERR")
check_match "it says the SOURCE_DATE_EPOCH it used" '^[0-9]+$' "$epoch"

nrun images --format json
check_match "tagged debian:$suite" "\"Repository\": *\"debian\".*\"Tag\": *\"$suite\"" \
  "$(tr -d '\n' <<<"$OUT")"

nrun run --rm "debian:$suite" apt-get --version
check_eq "apt-get --version runs in it" 0 "$RC"
check_match "apt-get says its version" '^apt [0-9.]+ \(' "$OUT"

nrun run --rm "debian:$suite" ls -ln /etc/shadow
if [ "$NOOK_TEST_USER_KIND" = range ]; then
  check_match "with a range, /etc/shadow is root:shadow (0:42) inside" \
    '^-rw-r----- +1 +0 +42 ' "$OUT"
else
  check_match "single id: /etc/shadow is root:shadow (0:42) as the emulation shows it" \
    '^-rw-r----- +1 +0 +42 ' "$OUT"
fi

nrun run --rm "debian:$suite" sh -c 'cat /etc/apt/sources.list.d/debian.sources
  echo "sources.list:$(test -e /etc/apt/sources.list && echo present)"
  echo "lists:$(ls /var/lib/apt/lists | grep -v -x -e lock -e partial)"
  echo "proxy:$(grep -ri proxy /etc/apt/apt.conf.d)"'
check_match "Hub's suites: $suite $suite-updates" "Suites: $suite $suite-updates" "$OUT"
check_match "Hub's suites: $suite-security" \
  "URIs: http://deb.debian.org/debian-security${NL}Suites: $suite-security" "$OUT"
check_match "no sources.list, no apt lists, no proxy" "sources.list:${NL}lists:${NL}proxy:$" "$OUT"

# The layer blob: the record of owners, nothing of the host's, nothing under ./dev.
blob=$(python3 - "$NOOK_ROOT" "$id" <<'EOF'
import json, os, sys
root, want = sys.argv[1], sys.argv[2]
blobs = os.path.join(root, "blobs", "sha256")
for m in json.load(open(os.path.join(root, "index.json")))["manifests"]:
    man = json.load(open(os.path.join(blobs, m["digest"].split(":")[1])))
    if man["config"]["digest"] == want:
        print(os.path.join(blobs, man["layers"][0]["digest"].split(":")[1]))
        break
EOF
)
listing=$(tar -tvzf "$blob" 2>&1)
check_match "the layer records /etc/shadow as 0/42" '-rw-r----- 0/42 .* \./etc/shadow' "$listing"
check_match "the layer keeps setuid root /usr/bin/passwd" '-rwsr-xr-x 0/0 .* \./usr/bin/passwd' "$listing"
check_match "the layer has ./dev/" ' \./dev/$' "$(grep ' \./dev/' <<<"$listing")"
check_eq "nothing under ./dev (nook mounts /dev)" "" "$(grep ' \./dev/.' <<<"$listing")"
check_eq "no host resolv.conf or hostname" "" \
  "$(grep -E ' \./etc/(resolv\.conf|hostname)$' <<<"$listing")"

# Reproducible: no file newer than the Release date, which is `created`.
dates=$(python3 - "$blob" "$NOOK_ROOT/blobs/sha256/${id#sha256:}" <<'EOF'
import json, sys, tarfile
newest = max(m.mtime for m in tarfile.open(sys.argv[1], "r:gz"))
print(newest, json.load(open(sys.argv[2]))["created"])
EOF
)
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
check_eq "files dated at most SOURCE_DATE_EPOCH; created is that date" "$epoch $created" "$dates"

# The same image ID for every kind of user (records of earlier users of this run).
if [ -n "${NOOK_TEST_SHARED:-}" ] && [ -d "$NOOK_TEST_SHARED" ]; then
  me=$(id -un)
  compared=0
  for rec in "$NOOK_TEST_SHARED"/debian-"$suite".*; do
    [ -f "$rec" ] && [ "$rec" != "$NOOK_TEST_SHARED/debian-$suite.$me" ] || continue
    read -r their_epoch their_id their_kind <"$rec"
    if [ "$their_epoch" != "$epoch" ]; then
      diag "not compared with ${rec##*.}: the mirror changed in between ($their_epoch, $epoch)"
      continue
    fi
    check_eq "the same image ID as ${rec##*.} ($their_kind user)" "$their_id" "$id"
    compared=$((compared + 1))
  done
  echo "$epoch $id $NOOK_TEST_USER_KIND" >"$NOOK_TEST_SHARED/debian-$suite.$me"
  [ "$compared" -gt 0 ] || diag "no earlier user's image to compare with: recorded for the next"
fi

done_testing
