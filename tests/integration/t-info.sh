#!/usr/bin/env bash
# t-info.sh: nook info (id mapping, storage driver, helpers found), --help, version.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

nrun info
check_eq "nook info exits 0" 0 "$RC"
case $NOOK_TEST_USER_KIND in
  range) check_match "nook info: ID mapping: range" '(^|'$'\n'')ID mapping: range' "$OUT" ;;
  single)
    check_match "nook info: ID mapping: single" '(^|'$'\n'')ID mapping: single' "$OUT"
    check_match "nook info: single mapping comes with a reason (/etc/subuid)" \
      'ID mapping: single[^'$'\n'']*(subuid|subordinate)' "$OUT"
    ;;
  *) fail "NOOK_TEST_USER_KIND is range or single (got '$NOOK_TEST_USER_KIND')" ;;
esac
check_match "nook info: a Storage driver line" 'Storage driver: (overlay|fuse-overlayfs|copy-up)' "$OUT"
for helper in newuidmap newgidmap slirp4netns fuse-overlayfs; do
  path=$(command -v "$helper" || echo "/usr/bin/$helper")
  check_match "nook info: $helper found ($path)" "$path" "$OUT"
done

nrun --help
check_eq "nook --help exits 0" 0 "$RC"
check_match "nook --help lists run" '(^|'$'\n'') +run ' "$OUT"
nrun run --help
check_eq "nook run --help exits 0" 0 "$RC"
check_match "nook run --help describes --rm" '--rm' "$OUT"
check_match "nook run --help describes --volume" '--volume' "$OUT"
nrun version
check_eq "nook version exits 0" 0 "$RC"
check_match "nook version prints a version" '^nook version [0-9]+\.[0-9]+' "$OUT"
nrun no-such-command-zz9
check_eq "an unknown command fails" 1 "$([ "$RC" != 0 ] && echo 1 || echo 0)"
check_match "an unknown command is named on stderr" 'no-such-command-zz9' "$ERR"

done_testing
