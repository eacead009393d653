#!/usr/bin/env bash
# t-build-cred-apt.sh: `apt-get update && apt-get install -y` in a RUN step of a Debian
# base (`nook bootstrap debian:SUITE`, made once per test run: debianlib.sh), for both kinds of user:
# the user without a range gets the credential emulation (apt drops to _apt, dpkg chowns
# and adds groups), and the layer records the same owners as for a user with a range.
# Needs the host's Debian mirror (skipped without it, as t-credemu-apt.sh).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# shellcheck source=tests/integration/debianlib.sh
. "$(dirname "$0")/debianlib.sh"
debian_base

c=$T_SCRATCH/apt
mkdir -p "$c"
# apt's and dpkg's logs and lists hold the time: removed, so that what stays is a
# function of the packages alone
cat >"$c/Dockerfile" <<EOF2
FROM debian:$SUITE
RUN apt-get update && apt-get install -y --no-install-recommends cron \\
 && rm -rf /var/lib/apt/lists/* /var/log/* /var/cache/apt/*.bin /var/cache/debconf/*-old
EOF2
NOOK_RUN_TIMEOUT=170 nrun build --progress=plain -t aptimg "$c"
if grep -qE "Could not resolve|Temporary failure|Failed to fetch" <<<"$ERR"; then
  skip_all "the Debian mirror cannot be reached from a build step: $(grep -m1 -E 'Could not|Failed' <<<"$ERR")"
fi
check_eq "apt-get update && apt-get install -y cron in a RUN step" 0 "$RC"
check_no_match "apt did not fall back to running unsandboxed" "unsandboxed" "$ERR"

"$NOOK" save -o "$T_SCRATCH/img.tar" aptimg
owners=$(python3 - "$T_SCRATCH/img.tar" <<'PY'
import io, json, sys, tarfile
a = tarfile.open(sys.argv[1])
manifest = json.load(a.extractfile("manifest.json"))[0]
seen, xattrs = {}, 0
for layer in manifest["Layers"][1:]:
    for m in tarfile.open(fileobj=io.BytesIO(a.extractfile(layer).read())):
        seen[m.name] = "%d:%d:%o" % (m.uid, m.gid, m.mode)
        xattrs += sum(1 for k in m.pax_headers if "xattr" in k and "security.capability" not in k)
print(seen.get("usr/bin/crontab"), seen.get("var/spool/cron/crontabs"), "xattrs=%d" % xattrs)
PY
)
nrun run --rm aptimg getent group crontab
gid=$(cut -d: -f3 <<<"$OUT")
check_match "the group crontab was added" '^[0-9]+$' "$gid"
check_eq "the layer records dpkg's owners: crontab root:crontab setgid, the spool 1730, no xattr" \
  "0:$gid:2755 0:$gid:1730 xattrs=0" "$owners"
nrun images --no-trunc -q aptimg
diag "image ID ($NOOK_TEST_USER_KIND user): $OUT"

done_testing
