#!/usr/bin/env bash
# t-env.sh: environment, working directory, user, hostname, entrypoint and default command.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

nrun run --rm busybox sh -c 'echo "$PATH"'
check_match "the image's PATH is set" '(^|:)/bin(:|$)' "$OUT"
export NOOK_TEST_LEAK=leaked
nrun run --rm busybox env
check_no_match "nook's own environment does not leak in" 'NOOK_TEST_LEAK' "$OUT"
nrun run --rm busybox sh -c 'echo "$HOME"'
check_eq "HOME is /root for root" /root "$OUT"

nrun run --rm -e FOO=bar busybox sh -c 'echo "$FOO"'
check_eq "-e FOO=bar" bar "$OUT"
nrun run --rm --env FOO=bar=baz busybox sh -c 'echo "$FOO"'
check_eq "--env FOO=bar=baz keeps the second =" bar=baz "$OUT"
export NOOK_TEST_FROM_HOST=hostval
nrun run --rm -e NOOK_TEST_FROM_HOST busybox sh -c 'echo "$NOOK_TEST_FROM_HOST"'
check_eq "-e NAME takes the value from nook's environment" hostval "$OUT"
unset NOOK_TEST_UNSET_ZZ9
nrun run --rm -e NOOK_TEST_UNSET_ZZ9 busybox env
check_no_match "-e NAME of an unset variable sets nothing" 'NOOK_TEST_UNSET_ZZ9' "$OUT"
nrun run --rm -e PATH=/bin busybox sh -c 'echo "$PATH"'
check_eq "-e overrides the image's Env" /bin "$OUT"

envf=$T_SCRATCH/env.list
cat >"$envf" <<'EOT'
# a comment
A=1

B=two words
NOOK_TEST_FROM_HOST
C="quoted"
EOT
nrun run --rm --env-file "$envf" busybox sh -c 'echo "$A|$B|$NOOK_TEST_FROM_HOST|$C"'
check_eq "--env-file: values, comments, NAME alone, quotes kept" '1|two words|hostval|"quoted"' "$OUT"
nrun run --rm --env-file "$T_SCRATCH/missing.list" busybox true
check_eq "--env-file of a missing file exits 125" 125 "$RC"

nrun run --rm -w /tmp busybox pwd
check_eq "-w /tmp" /tmp "$OUT"
nrun run --rm --workdir /new/dir busybox pwd
check_eq "--workdir /new/dir is created" /new/dir "$OUT"
nrun run --rm busybox pwd
check_eq "default working directory is /" / "$OUT"

if [ "$NOOK_TEST_USER_KIND" = single ]; then
  # Only one id is mapped: nook either maps that one id to 1000 (root is then unmapped)
  # or refuses with a reason; it must never run the command as another uid silently.
  nrun run --rm -u 1000 busybox id -u
  if [ "$RC" = 0 ]; then
    check_eq "single-id map: -u 1000 runs as 1000" 1000 "$OUT"
  else
    check_eq "single-id map: -u 1000 is refused with 125" 125 "$RC"
    check_match "single-id map: the refusal says why" '(subuid|subordinate|single|not mapped)' "$ERR"
  fi
else
  nrun run --rm -u 1000 busybox id -u
  check_eq "-u 1000" 1000 "$OUT"
  nrun run --rm -u user busybox id -u
  check_eq "-u user (from the image's /etc/passwd)" 1000 "$OUT"
  nrun run --rm -u nobody busybox id -u
  check_eq "-u nobody" 65534 "$OUT"
  nrun run --rm --user 1000:1000 busybox sh -c 'echo "$(id -u) $(id -g)"'
  check_eq "--user 1000:1000" "1000 1000" "$OUT"
  nrun run --rm -u 1234:4321 busybox sh -c 'echo "$(id -u) $(id -g)"'
  check_eq "-u 1234:4321 (not in /etc/passwd)" "1234 4321" "$OUT"
  nrun run --rm -u no-such-user-zz9 busybox true
  check_eq "-u of an unknown name exits 125" 125 "$RC"
fi
nrun run --rm -u 0 busybox id -u
check_eq "-u 0" 0 "$OUT"

nrun run --rm --hostname foo busybox hostname
check_eq "--hostname foo" foo "$OUT"
nrun run --rm --hostname foo busybox cat /etc/hostname
check_eq "--hostname foo writes /etc/hostname" foo "$OUT"

nrun run --rm --entrypoint /bin/echo busybox hi
check_eq "--entrypoint /bin/echo busybox hi" hi "$OUT"

printf 'echo hi\n' >"$T_SCRATCH/stdin"
NRUN_STDIN=$T_SCRATCH/stdin nrun run --rm -i busybox
check_eq "default command is sh (reads stdin with -i)" hi "$OUT"

done_testing
