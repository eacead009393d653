#!/usr/bin/env bash
# tests/run-integration.sh BUILD_DIR: run tests/integration/t-*.sh against BUILD_DIR/nook.
#
# Integration tests never run as root. As root, nook, the probe and the tests are copied
# to a fresh world-readable directory and every test file runs once as each test user
# ci/prepare.sh creates, the users at the same time: nook-sub (a subordinate id range) and
# nook-nosub (none, so nook uses the single-id map). As a normal user, they run once as that user.
#
# Each test file prints TAP ("ok N - desc" / "not ok N - desc"); its lines are shown
# prefixed with the user. A file that exits 77 is skipped, which is a failure when
# NOOK_TEST_MUST_WORK=1; a file that crashes, times out or stops short of its plan
# counts as a failure. Closing line: "integration: N passed, N failed".
#
# Knobs: NOOK_TESTS="t-exit t-env" runs only those files; NOOK_TEST_TIMEOUT (seconds per
# file, default 240; a file may ask for more with a header line "# nook-test-timeout: N");
# NOOK_TEST_BUDGET (seconds for everything, default 1200: files not
# started by then count as failures, so a hanging nook cannot push CI past its limit);
# NOOK_TEST_USERS="nook-sub" (as root) picks the users; they run at the same time (each
# user's files one after the other), NOOK_TEST_SERIAL=1 runs one user after the other.
# Files naming NOOK_TEST_SHARED read what the first user left: the first user runs them
# first, the others last, once the first user's run of each has ended.
set -uo pipefail
O=${1:-build}
cd "$(dirname "$0")/.." || exit 125
repo=$(pwd)
timeout_s=${NOOK_TEST_TIMEOUT:-240}
budget_s=${NOOK_TEST_BUDGET:-1200}
started=$SECONDS
must_work=${NOOK_TEST_MUST_WORK:-}
pass=0 fail=0 skip=0 last_rc=0
failures=() durations=()

finish() {
  if [ ${#durations[@]} -gt 0 ]; then
    echo "# the slowest files (seconds):"
    printf '%s\n' "${durations[@]}" | sort -rn | head -n 12 | sed 's/^/#   /'
  fi
  if [ ${#failures[@]} -gt 0 ]; then
    echo "# failures:"
    printf '#   %s\n' "${failures[@]}"
  fi
  [ "$skip" = 0 ] || echo "# $skip test file(s) skipped"
  echo "integration: $pass passed, $fail failed"
  [ "$fail" = 0 ]
  exit
}

nook_src=$O/nook
probe_src=$O/probe
# The test build with synchronisation points (util/test_hook.h), for the tests that
# need one: NOOK_HOOKED names it (empty when it was not built).
hooked_src=$O/nook-testhooks
for f in "$nook_src" "$probe_src"; do
  if [ ! -x "$f" ]; then
    echo "not ok - $f is missing (build it first: make all)"
    fail=$((fail + 1)); failures+=("$f missing")
    finish
  fi
done

files=()
for t in tests/integration/t-*.sh; do
  [ -f "$t" ] || continue
  name=$(basename "$t" .sh)
  if [ -n "${NOOK_TESTS:-}" ]; then
    case " $NOOK_TESTS " in *" $name "* | *" $name.sh "*) ;; *) continue ;; esac
  fi
  files+=("$name.sh")
done
if [ ${#files[@]} -eq 0 ]; then
  echo "not ok - no integration test files found"
  fail=$((fail + 1)); failures+=("no test files")
  finish
fi

# file_timeout FILE: NOOK_TEST_TIMEOUT, or more when FILE's header asks for it (a slow
# test: "# nook-test-timeout: N" in its first 5 lines).
file_timeout() {
  local n
  n=$(head -n 5 "tests/integration/$1" | sed -n 's/^# nook-test-timeout: *\([0-9][0-9]*\)$/\1/p')
  if [ -n "$n" ] && [ "$n" -gt "$timeout_s" ]; then echo "$n"; else echo "$timeout_s"; fi
}

# run_file LABEL FILE CMD...: run one test file, stream its TAP prefixed with LABEL, count.
run_file() {
  local label=$1 file=$2 line rc=1 n_ok=0 n_notok=0 plan=
  shift 2
  if [ $((SECONDS - started)) -ge "$budget_s" ]; then
    fail=$((fail + 1)); failures+=("[$label] $file: not run, the ${budget_s}s budget is spent")
    echo "[$label] not ok - $file not run: the ${budget_s}s time budget (NOOK_TEST_BUDGET) is spent"
    return
  fi
  echo "[$label] # $file"
  local t0=$SECONDS
  while IFS= read -r line; do
    case "$line" in
      __rc=*) rc=${line#__rc=}; continue ;;
      "ok "* | "ok")
        n_ok=$((n_ok + 1)) ;;
      "not ok"*)
        n_notok=$((n_notok + 1)); failures+=("[$label] $file: $line") ;;
      1..*)
        plan=${line#1..}; plan=${plan%% *} ;;
    esac
    printf '[%s] %s\n' "$label" "$line"
  done < <("$@" 2>&1 </dev/null; echo "__rc=$?")
  pass=$((pass + n_ok))
  fail=$((fail + n_notok))
  last_rc=$rc
  durations+=("$((SECONDS - t0)) [$label] $file")
  echo "[$label] # $file took $((SECONDS - t0)) s"
  if [ "$rc" = 77 ]; then
    skip=$((skip + 1))
    if [ -n "$must_work" ]; then
      fail=$((fail + 1)); failures+=("[$label] $file: skipped, and NOOK_TEST_MUST_WORK=1")
      echo "[$label] not ok - $file skipped (NOOK_TEST_MUST_WORK=1 makes a skip a failure)"
    else
      echo "[$label] # $file skipped"
    fi
  elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    fail=$((fail + 1)); failures+=("[$label] $file: timed out after $(file_timeout "$file")s")
    echo "[$label] not ok - $file timed out after $(file_timeout "$file")s"
  elif [ "$rc" != 0 ] && [ "$n_notok" = 0 ]; then
    fail=$((fail + 1)); failures+=("[$label] $file: exited $rc with no failing test")
    echo "[$label] not ok - $file exited $rc"
  elif [ "$rc" = 0 ] && [ -z "$plan" ]; then
    fail=$((fail + 1)); failures+=("[$label] $file: ended without a plan (did not reach done_testing)")
    echo "[$label] not ok - $file ended without reaching done_testing"
  elif [ "$rc" = 0 ] && [ "$((n_ok + n_notok))" -lt "$plan" ]; then
    fail=$((fail + 1)); failures+=("[$label] $file: ran $((n_ok + n_notok)) of $plan tests")
    echo "[$label] not ok - $file ran $((n_ok + n_notok)) of $plan planned tests"
  fi
}

# Subordinate uid range of user $1 ("start count"), empty if none.
subuid_range() {
  local u=$1 uid
  uid=$(id -u "$u")
  awk -F: -v n="$u" -v i="$uid" '($1 == n || $1 == i) && $3 >= 65536 { print $2, $3; exit }' \
    /etc/subuid 2>/dev/null
}

sys_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
pass_env=()
for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS NOOK_ASAN NOOK_TEST_VERBOSE NOOK_TEST_FREEZER; do
  [ -n "${!v:-}" ] && pass_env+=("$v=${!v}")
done

if [ "$(id -u)" -eq 0 ]; then
  tmp=$(mktemp -d /tmp/nook-it.XXXXXX) || exit 125
  trap 'rm -rf "$tmp"' EXIT
  chmod 0755 "$tmp"
  mkdir -p "$tmp/bin"
  cp "$nook_src" "$probe_src" "$tmp/bin/"
  [ -x "$hooked_src" ] && cp "$hooked_src" "$tmp/bin/"
  cp -r tests/integration "$tmp/integration"
  chmod -R a+rX "$tmp"
  # Where a test file leaves a record for the same file run as the next user (t-debian:
  # the image ID each kind of user built); sticky, so none removes another's.
  mkdir -m 1777 "$tmp/shared"
  read -r -a users <<<"${NOOK_TEST_USERS:-nook-sub nook-nosub}"
  # Files that read what an earlier user of this run left in $tmp/shared (grep: they name
  # NOOK_TEST_SHARED): the first user runs them first, every other user runs them last,
  # each only once the first user's run of it has ended (its mark in $tmp/marks).
  shared_files=() own_files=()
  for f in "${files[@]}"; do
    if grep -q NOOK_TEST_SHARED "tests/integration/$f"; then shared_files+=("$f"); else own_files+=("$f"); fi
  done
  mkdir -m 0700 "$tmp/marks" "$tmp/results"
  # run_user U FIRST: every file as user U, one after the other, then U's counts in
  # $tmp/results/U (this runs in a subshell: the counts are summed at the end).
  run_user() {
    local u=$1 first=$2 home kind cg2 in_cg=() f work left queue
    pass=0 fail=0 skip=0 failures=() durations=()
    if ! getent passwd "$u" >/dev/null; then
      echo "[$u] not ok - user $u does not exist (run ci/prepare.sh)"
      fail=$((fail + 1)); failures+=("[$u] user missing: run ci/prepare.sh")
      if [ "$first" = 1 ]; then for f in "${shared_files[@]}"; do : >"$tmp/marks/$f"; done; fi
      save_results "$u"
      return
    fi
    home=$(getent passwd "$u" | cut -d: -f6)
    if [ -n "$(subuid_range "$u")" ]; then kind=range; else kind=single; fi
    # The user's v2 cgroup that ci/prepare.sh delegated (pause's freezer): each test in it.
    cg2=$(awk '{ for (i = 1; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2" && $4 == "/") print $5; break } }' /proc/self/mountinfo | head -1)
    if [ -n "$cg2" ] && [ "$(stat -c %U "$cg2/nook-test/$u/cgroup.procs" 2>/dev/null)" = "$u" ]; then
      in_cg=(sh -c 'echo 0 >"$0/cgroup.procs" && exec "$@"' "$cg2/nook-test/$u")
    fi
    if [ "$first" = 1 ]; then queue=("${shared_files[@]}" "${own_files[@]}")
    else queue=("${own_files[@]}" "${shared_files[@]}"); fi
    for f in "${queue[@]}"; do
      if [ "$first" != 1 ] && [[ " ${shared_files[*]} " == *" $f "* ]]; then
        # Polled (1 s) until the first user's run of it has ended, or the budget is spent
        # (run_file then says it was not run).
        until [ -e "$tmp/marks/$f" ] || [ $((SECONDS - started)) -ge "$budget_s" ]; do sleep 1; done
      fi
      # A fresh store and TMPDIR per user and file, owned by the user.
      work=$tmp/$u-${f%.sh}
      mkdir -p "$work/root" "$work/tmp"
      chown -R "$u:$(id -gn "$u")" "$work"
      chmod 0700 "$work"
      run_file "$u" "$f" timeout -k 10 "$(file_timeout "$f")" "${in_cg[@]}" \
        runuser -u "$u" -- env -i HOME="$home" USER="$u" LOGNAME="$u" PATH="$sys_path" \
        LANG=C.UTF-8 TMPDIR="$work/tmp" NOOK="$tmp/bin/nook" PROBE="$tmp/bin/probe" \
        NOOK_HOOKED="$([ -x "$tmp/bin/nook-testhooks" ] && echo "$tmp/bin/nook-testhooks")" \
        NOOK_ROOT="$work/root" NOOK_TEST_USER_KIND="$kind" NOOK_TEST_MUST_WORK="$must_work" \
        NOOK_TEST_SHARED="$tmp/shared" "${pass_env[@]}" bash "$tmp/integration/$f"
      [ "$first" = 1 ] && : >"$tmp/marks/$f"
      # A file that timed out left what it was waiting on: its user's processes would
      # fail the next files' "nothing is left" checks. End them (said), so that one
      # failure is counted once.
      if [ "$last_rc" = 124 ] || [ "$last_rc" = 137 ]; then
        left=$(ps -u "$u" -o pid=,stat=,comm= 2>/dev/null | awk '$2 !~ /^Z/ { printf "%s(%s) ", $1, $3 }')
        if [ -n "$left" ]; then
          echo "# [$u] processes left by the timed-out $f, ended: $left"
          pkill -KILL -u "$u" 2>/dev/null || true
        fi
      fi
      rm -rf "$work"
    done
    # Each test file ends the nook-userns keeper it caused (lib.sh, keeper.sh); a safety net
    # for this test user's keepers that outlived their test anyway (a crashed file), said.
    if left=$(pgrep -u "$u" -f '^nook-userns( |$)' 2>/dev/null); then
      echo "# [$u] nook-userns keeper(s) outlived their test file: ${left//$'\n'/ }, ended"
      pkill -u "$u" -f '^nook-userns( |$)' 2>/dev/null || true
    fi
    # (their pool servers end with them; one that outlived its keeper anyway, said)
    if left=$(poll_gone "$u"); then
      echo "# [$u] nook-netpool server(s) outlived their keeper: ${left//$'\n'/ }, ended"
      pkill -u "$u" -x nook-netpool 2>/dev/null || true
    fi
    save_results "$u"
  }
  # poll_gone U: the pool servers of U still there 5 s after their keepers ended (printed;
  # status 0), or status 1 when there are none
  poll_gone() {
    local n=100
    while pgrep -u "$1" -x nook-netpool >/dev/null 2>&1 && [ "$n" -gt 0 ]; do
      sleep 0.05
      n=$((n - 1))
    done
    pgrep -u "$1" -x nook-netpool 2>/dev/null
  }
  # save_results U / load_results U: one user's counts, failures and times, through a file.
  save_results() {
    { echo "$pass $fail $skip"
      printf 'F%s\n' "${failures[@]}"
      printf 'D%s\n' "${durations[@]}"; } >"$tmp/results/$1"
  }
  load_results() {
    local line p f s
    { read -r p f s
      pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
      while IFS= read -r line; do
        case "$line" in
          F?*) failures+=("${line#F}") ;;
          D?*) durations+=("${line#D}") ;;
        esac
      done; } <"$1"
  }
  # The users run at the same time (each one's files one after the other: a user's files
  # share its keeper and its processes), unless NOOK_TEST_SERIAL=1. Each line of output is
  # whole and prefixed with its user.
  pids=() i=0
  for u in "${users[@]}"; do
    first=0; [ "$i" = 0 ] && first=1
    if [ "${NOOK_TEST_SERIAL:-}" = 1 ]; then
      (run_user "$u" "$first")
    else
      (run_user "$u" "$first") &
      pids+=($!)
    fi
    i=$((i + 1))
  done
  for p in "${pids[@]}"; do wait "$p"; done
  for u in "${users[@]}"; do
    if [ -f "$tmp/results/$u" ]; then
      load_results "$tmp/results/$u"
    else
      fail=$((fail + 1)); failures+=("[$u] the run of this user's files ended without its counts")
      echo "[$u] not ok - the run of this user's files ended without its counts"
    fi
  done
else
  me=$(id -un)
  range=$(subuid_range "$me")
  if [ -n "$range" ]; then kind=range; else kind=single; fi
  nook_abs=$(cd "$(dirname "$nook_src")" && pwd)/nook
  probe_abs=$(cd "$(dirname "$probe_src")" && pwd)/probe
  hooked_abs=
  [ -x "$hooked_src" ] && hooked_abs=$(cd "$(dirname "$hooked_src")" && pwd)/nook-testhooks
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/nook-it.XXXXXX") || exit 125
  # The store may hold files owned by subordinate ids: remove those inside a user
  # namespace that maps them.
  cleanup() {
    rm -rf "$tmp" 2>/dev/null && return
    if [ -n "$range" ]; then
      read -r start count <<<"$range"
      unshare --map-root-user --map-users="$start,1,$count" --map-groups="$start,1,$count" \
        rm -rf "$tmp" 2>/dev/null
    fi
    [ -e "$tmp" ] && echo "# could not remove $tmp entirely"
  }
  trap cleanup EXIT
  mkdir -p "$tmp/shared"
  for f in "${files[@]}"; do
    work=$tmp/${f%.sh}
    mkdir -p "$work/root" "$work/tmp"
    run_file "$me" "$f" timeout -k 10 "$(file_timeout "$f")" \
      env TMPDIR="$work/tmp" NOOK="$nook_abs" PROBE="$probe_abs" NOOK_ROOT="$work/root" \
      NOOK_HOOKED="$hooked_abs" \
      NOOK_TEST_USER_KIND="$kind" NOOK_TEST_MUST_WORK="$must_work" NOOK_TEST_SHARED="$tmp/shared" \
      bash "$repo/tests/integration/$f"
  done
fi
finish
