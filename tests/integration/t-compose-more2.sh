#!/usr/bin/env bash
# t-compose-more2.sh: keys once dropped without a word: domainname and group_add passed
# to the run (nook run --domainname, --group-add); sysctls: t-sysctl.sh.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

nrun run --rm --domainname example.org busybox cat /proc/sys/kernel/domainname
check_eq "run --domainname" "example.org" "$OUT"
nrun run --rm --domainname 'bad domain' busybox true
check_eq "run --domainname with a space: exit 125" 125 "$RC"
check_match "... naming it" "invalid domainname 'bad domain'" "$ERR"
nrun run --rm --group-add nosuchgroup busybox true
check_eq "run --group-add of an unknown group: 125" 125 "$RC"
check_match "... naming it" 'unable to find group nosuchgroup' "$ERR"

G=$T_SCRATCH/groups
mkdir -p "$G"
cd "$G" || exit 1
cat >compose.yaml <<'YAML'
name: ga
services:
  s:
    image: busybox
    command: sh -c 'cat /proc/sys/kernel/domainname; id -G'
    domainname: corp.example
    group_add: [tty, "1234"]
YAML
if [ "$NOOK_TEST_USER_KIND" = range ]; then
  nrun run --rm --group-add tty --group-add 1234 busybox id -G
  check_match "run --group-add by name (tty is 5)" '(^| )5( |$)' "$OUT"
  check_match "... and by gid" '(^| )1234( |$)' "$OUT"
  nrun compose run --rm -T s
  check_eq "compose: domainname passed" "corp.example" "$(printf '%s\n' "$OUT" | head -n1)"
  check_match "compose: group_add passed (tty is 5)" '(^| )5( |$)' "$(printf '%s\n' "$OUT" | tail -n1)"
  check_match "... and 1234" '(^| )1234( |$)' "$(printf '%s\n' "$OUT" | tail -n1)"
else
  nrun run --rm --group-add 1234 busybox id -G
  check_eq "run --group-add without a range: 125" 125 "$RC"
  check_match "... saying why" 'no subordinate id range' "$ERR"
  nrun run --rm --group-add root busybox true
  check_eq "run --group-add root without a range: its own group, fine" 0 "$RC"
  nrun compose up -d
  check_eq "compose up with group_add without a range: 1" 1 "$RC"
  check_match "... saying why" 'group_add: this user has no subordinate id range' "$ERR"
fi
nrun compose down

done_testing
