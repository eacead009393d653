# tests/integration/debianlib.sh: sourced (after lib.sh) by the tests that need a Debian base
# of this host's release (t-build-cred-apt.sh, t-credemu-apt.sh).
# shellcheck shell=bash
#
#   debian_base    skips the file without mmdebstrap, on a host that is not Debian, or for
#                  the user without a range without fakechroot; then debian:$SUITE (SUITE:
#                  the host's release) is in the store, or the file ends (a failing test).
#
# The base is made once per test run: the first file to need it makes it (`nook bootstrap
# debian:SUITE`, 20-60 s, a test "the Debian base is made") and saves it into
# $NOOK_TEST_SHARED; the later files of either user load that archive (a test "the Debian base
# is loaded"). Both kinds of user make the same image (t-debian.sh checks it, and checks the
# bootstrap itself for each kind), so the archive is the base either user would have made.

debian_base() {
  local archive=
  command -v mmdebstrap >/dev/null || skip_all "mmdebstrap is not installed (ci/deps.sh installs it)"
  SUITE=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
  [ -n "$SUITE" ] || skip_all "no VERSION_CODENAME in /etc/os-release: not a Debian host"
  if [ "$NOOK_TEST_USER_KIND" = single ] && ! command -v fakechroot >/dev/null; then
    skip_all "fakechroot is not installed (ci/deps.sh installs it)"
  fi
  [ -n "${NOOK_TEST_SHARED:-}" ] && [ -d "$NOOK_TEST_SHARED" ] &&
    archive=$NOOK_TEST_SHARED/debian-$SUITE.tar
  if [ -n "$archive" ] && [ -s "$archive" ]; then
    NOOK_RUN_TIMEOUT=200 nrun load -i "$archive"
    check_eq "the Debian base is loaded from this run's archive ($NOOK_TEST_USER_KIND user)" 0 "$RC"
    [ "$RC" = 0 ] || done_testing
    return 0
  fi
  NOOK_RUN_TIMEOUT=200 nrun bootstrap "debian:$SUITE"
  if [ "$RC" != 0 ] && grep -q "cannot fetch the Release" <<<"$ERR"; then
    skip_all "Debian's mirror is not reachable: $(grep -m1 'cannot fetch' <<<"$ERR")"
  fi
  check_eq "the Debian base is made ($NOOK_TEST_USER_KIND user)" 0 "$RC"
  [ "$RC" = 0 ] || done_testing
  [ -n "$archive" ] || return 0
  # Written beside, then renamed: no file ever sees half an archive. Two users making it
  # at once: the second rename fails (the sticky directory), and the first archive stays.
  if ! "$NOOK" save -o "$archive.$$" "debian:$SUITE" >"$T_SCRATCH/debian-save.log" 2>&1; then
    diag "debian:$SUITE not saved for the next files: $(cat "$T_SCRATCH/debian-save.log")"
  elif chmod 0644 "$archive.$$" && mv -T "$archive.$$" "$archive" 2>/dev/null; then
    diag "debian:$SUITE saved for the next files of this run"
  else
    diag "debian:$SUITE: another file saved it first"
  fi
  rm -f "$archive.$$"
}
