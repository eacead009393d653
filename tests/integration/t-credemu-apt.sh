#!/usr/bin/env bash
# t-credemu-apt.sh: the real thing for the credential emulation (t-credemu.sh): in a
# Debian base, `apt-get update` (apt drops to _apt: setgroups, setegid, seteuid, and
# checks it cannot come back) and `apt-get install` of cron (dpkg chowns, a postinst
# adds the group crontab and makes /usr/bin/crontab setgid crontab) work for both kinds
# of user and show the same owners. Slow: the base is made once per test run (`nook
# bootstrap debian:SUITE`, ~20 s with a range, ~60 s without; debianlib.sh), and needs the
# host's Debian mirror; without it the file is skipped.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# shellcheck source=tests/integration/debianlib.sh
. "$(dirname "$0")/debianlib.sh"
debian_base

nrun run --rm "debian:$SUITE" stat -c '%n %u:%g %a' /etc/shadow /var/cache/apt/archives/partial
check_match "the base's owners are seen inside: /etc/shadow root:shadow" "/etc/shadow 0:42 640" "$OUT"
check_match "and apt's partial directory _apt:root" "/var/cache/apt/archives/partial 42:0 700" "$OUT"

NOOK_RUN_TIMEOUT=150 nrun run --rm "debian:$SUITE" sh -c 'apt-get update >/tmp/u 2>&1; echo "update=$?"; tail -n 3 /tmp/u
  apt-get install -y --no-install-recommends cron >/tmp/log 2>&1; echo "install=$?"
  tail -n 5 /tmp/log
  echo "crontab=$(stat -c "%u:%g %a" /usr/bin/crontab)"
  echo "spool=$(stat -c "%u:%g %a" /var/spool/cron/crontabs)"
  echo "group=$(getent group crontab | cut -d: -f3)"
  echo "lists=$(stat -c "%u:%g" /var/lib/apt/lists/partial)"'
if grep -qE "Could not resolve|Temporary failure|Failed to fetch" <<<"$OUT"; then
  skip_all "the Debian mirror cannot be reached from a container: $(grep -m1 -E 'Could not|Failed' <<<"$OUT")"
fi
check_match "apt-get update succeeds as root" "(^|$NL)update=0$NL" "$OUT"
check_no_match "apt did not fall back to running unsandboxed" "unsandboxed" "$OUT"
check_match "apt-get install -y cron succeeds" "${NL}install=0$NL" "$OUT"
gid=$(sed -n 's/^group=//p' <<<"$OUT")
check_match "the group crontab was added" '^[0-9]+$' "$gid"
check_match "/usr/bin/crontab is root:crontab, setgid (dpkg-statoverride)" "crontab=0:$gid 2755" "$OUT"
check_match "/var/spool/cron/crontabs is root:crontab, 1730" "spool=0:$gid 1730" "$OUT"
check_match "apt's lists/partial belongs to _apt" "lists=42:0" "$OUT"

done_testing
