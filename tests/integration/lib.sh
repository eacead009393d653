# tests/integration/lib.sh: TAP helpers for nook's integration tests (sourced).
# shellcheck shell=bash
#
# Environment (set by tests/run-integration.sh): NOOK (the binary), PROBE (the static
# multi-call probe), NOOK_ROOT (a fresh store), NOOK_TEST_USER_KIND (range | single),
# NOOK_TEST_MUST_WORK (1 in CI: a skip is a failure), TMPDIR (scratch, removed after).
#
#   check DESC CMD...            ok when CMD exits 0
#   check_fail DESC CMD...       ok when CMD exits non-zero
#   check_eq DESC EXPECTED ACTUAL
#   check_match DESC REGEX ACTUAL  (bash =~, extended regex)
#   check_status DESC EXPECTED CMD...  ok when CMD exits with EXPECTED
#   nrun ARGS...                 runs "$NOOK" ARGS..., output in $OUT/$ERR, status in $RC
#   setup_image                  bootstraps the busybox image once per NOOK_ROOT
#   check_store_clean WHEN       `nook system check` finds no problem (a test "WHEN: ...")
#   run_loops N                  runs the file's `loop I` for I in 1..N at once (output in
#                                $T_SCRATCH/loopI.log), then checks none crashed and some ran
#   skip_all REASON              exit 77 (a failure under NOOK_TEST_MUST_WORK=1)
#   done_testing                 prints the plan, exits non-zero if anything failed
#
# Synchronisation (never `sleep` to order events; every wait has a deadline and says so):
#   poll SECONDS CMD...          runs CMD until it succeeds (0), or SECONDS pass (1)
#   wait_until DESC SECONDS CMD...  poll; when the deadline passes, a failing test DESC (1)
#   wait_for FILE [TENTHS]       poll until FILE is non-empty (default 10 s)
#   make_gate NAME               a fifo $T_SCRATCH/NAME a process can block on (`read <FIFO`)
#   open_gate FIFO               lets it go (fails after 30 s if nobody waits on it)
#
# On exit the nook-userns keeper this file caused is ended (keeper.sh); keepers that
# existed before it started are left alone. Do not replace the EXIT trap.
set -u
: "${NOOK:?NOOK must name the nook binary}"
: "${PROBE:=}"
: "${NOOK_TEST_USER_KIND:=unknown}"
export NOOK_ROOT

# shellcheck disable=SC2034 # used by the test files
NL=$'\n'
T_N=0
T_FAILED=0
T_SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/nook-t.XXXXXX")
OUT='' ERR='' RC=0
# shellcheck source=tests/integration/keeper.sh
. "$(dirname "${BASH_SOURCE[0]}")/keeper.sh"
T_KEEPERS_BEFORE=$(keeper_list)

_lib_cleanup() {
  keeper_end_new "$NOOK" "$T_KEEPERS_BEFORE"
  rm -rf "$T_SCRATCH" 2>/dev/null || true
}
trap _lib_cleanup EXIT

diag() {
  local a l
  for a in "$@"; do
    while IFS= read -r l; do printf '#   %s\n' "$l"; done <<<"$a"
  done
}

ok() {
  T_N=$((T_N + 1))
  echo "ok $T_N - $1"
}

fail() {
  T_N=$((T_N + 1))
  T_FAILED=$((T_FAILED + 1))
  echo "not ok $T_N - $1"
  shift
  [ $# -eq 0 ] || diag "$@"
}

# Shows the last nrun's command, status and output (for failure diagnostics); a long
# output by its start and its end (where a failure's cause is).
_clip() {
  if [ "${#1}" -le 3000 ]; then printf '%s' "$1"; else
    printf '%s\n[... %d characters ...]\n%s' "$(head -c 1000 <<<"$1")" $((${#1} - 2500)) "$(tail -c 1500 <<<"$1")"
  fi
}
_last_run() {
  printf 'command: %s\nstatus: %s\nstdout: %s\nstderr: %s' "${LAST_CMD:-}" "$RC" \
    "$(_clip "$OUT")" "$(_clip "$ERR")"
}

# nrun ARGS...: run nook with stdin from /dev/null unless NRUN_STDIN names a file; a run
# that hangs is killed after NOOK_RUN_TIMEOUT seconds (default 60; status 124).
nrun() {
  local o=$T_SCRATCH/out e=$T_SCRATCH/err
  LAST_CMD="nook $*"
  RC=0
  timeout -k 5 "${NOOK_RUN_TIMEOUT:-60}" "$NOOK" "$@" >"$o" 2>"$e" <"${NRUN_STDIN:-/dev/null}" || RC=$?
  OUT=$(cat "$o")
  ERR=$(cat "$e")
  return 0
}

check() {
  local desc=$1 rc=0 out
  shift
  out=$("$@" 2>&1) || rc=$?
  if [ "$rc" = 0 ]; then ok "$desc"; else fail "$desc" "command: $*" "status: $rc" "$out"; fi
}

check_fail() {
  local desc=$1 rc=0 out
  shift
  out=$("$@" 2>&1) || rc=$?
  if [ "$rc" != 0 ]; then ok "$desc"; else fail "$desc" "command (expected to fail): $*" "$out"; fi
}

check_eq() {
  local desc=$1 expected=$2 actual=$3
  if [ "$expected" = "$actual" ]; then
    ok "$desc"
  else
    fail "$desc" "expected: '$expected'" "actual:   '$actual'" "$(_last_run)"
  fi
}

check_match() {
  local desc=$1 re=$2 actual=$3
  if [[ $actual =~ $re ]]; then
    ok "$desc"
  else
    fail "$desc" "expected to match: $re" "actual: '$actual'" "$(_last_run)"
  fi
}

check_no_match() {
  local desc=$1 re=$2 actual=$3
  if [[ $actual =~ $re ]]; then
    fail "$desc" "expected NOT to match: $re" "actual: '$actual'" "$(_last_run)"
  else
    ok "$desc"
  fi
}

# check_status DESC EXPECTED NOOK-ARGS...: runs nook and compares its exit status.
check_status() {
  local desc=$1 expected=$2
  shift 2
  nrun "$@"
  check_eq "$desc" "$expected" "$RC"
}

skip_all() {
  echo "1..0 # SKIP $*"
  if [ "${NOOK_TEST_MUST_WORK:-}" = 1 ]; then
    echo "# NOOK_TEST_MUST_WORK=1: this skip is a failure"
  fi
  exit 77
}

# has_hooked: whether the hooked test build (util/test_hook.h; `make` builds
# build/nook-testhooks, the runner names it in NOOK_HOOKED) is there; when it is not, a
# failing check says so (the checks that need it cannot be made). need_hooked: the same,
# and the file ends there.
has_hooked() {
  [ -n "${NOOK_HOOKED:-}" ] && [ -x "$NOOK_HOOKED" ] && return 0
  fail "the hooked test build is available (make builds build/nook-testhooks)" "NOOK_HOOKED='${NOOK_HOOKED:-}'"
  return 1
}
need_hooked() {
  has_hooked || done_testing
}

setup_image() {
  local stamp=$NOOK_ROOT/.nook-test-busybox
  [ -e "$stamp" ] && return 0
  mkdir -p "$NOOK_ROOT"
  if ! "$NOOK" bootstrap busybox >"$T_SCRATCH/bootstrap.log" 2>&1; then
    fail "nook bootstrap busybox" "$(cat "$T_SCRATCH/bootstrap.log")"
    done_testing
  fi
  : >"$stamp"
}

# check_store_clean WHEN: `nook system check` exits 0 and finds no problem.
check_store_clean() {
  nrun system check
  check_eq "$1: system check finds no problem" "0 0 problems" \
    "$RC $(grep -o ' 0 problems' <<<"$OUT" | sed 's/^ //')"
}

# run_loops N: the file's function `loop I` for I in 1..N, all at once, each one's output
# (an "rc=STATUS" line per command, the file's choice) in $T_SCRATCH/loopI.log; then
# checks that no command crashed (a signal's status) or said the store was corrupt, and
# that some succeeded. The logs together are left in LOOPS_OUT.
loops_done() {
  local i
  for ((i = 1; i <= $1; i++)); do [ -e "$T_SCRATCH/loop$i.end" ] || return 1; done
}
run_loops() {
  local i loop_pids=()
  for ((i = 1; i <= $1; i++)); do
    { loop "$i" >"$T_SCRATCH/loop$i.log" 2>&1 </dev/null; : >"$T_SCRATCH/loop$i.end"; } &
    loop_pids+=($!)
  done
  # (a deadline: a hang shows what each loop did last and what the user's processes wait
  # on, instead of the file's timeout with nothing to read)
  if ! poll 150 loops_done "$1"; then
    fail "the $1 loops end (not within 150 s)" "$(tail -n 3 "$T_SCRATCH"/loop*.log)" \
      "$(ps -o pid,ppid,stat,wchan:24,etime,args -u "$(id -u)" 2>&1)"
    kill "${loop_pids[@]}" 2>/dev/null
  fi
  for i in "${loop_pids[@]}"; do wait "$i"; done
  LOOPS_OUT=$(cat "$T_SCRATCH"/loop*.log)
  check_no_match "no command of the loops crashed or saw corruption" \
    'rc=(1[3-9][0-9]|2[0-9][0-9])|corrupt|Segmentation|Aborted|invalid JSON|digest mismatch' \
    "$LOOPS_OUT"
  check_match "the loops ran" "rc=0" "$LOOPS_OUT"
}

# A probe available inside containers: -v "$PROBE":/probe:ro
probe_vol() {
  echo "$PROBE:/probe:ro"
}

# poll SECONDS CMD...: run CMD every 50 ms until it succeeds (0) or SECONDS have passed (1).
poll() {
  local end=$((SECONDS + $1))
  shift
  until "$@"; do
    [ "$SECONDS" -lt "$end" ] || return 1
    sleep 0.05
  done
}

# pid_ended PID: PID is gone or a zombie (this machine's PID 1 reaps orphans late).
pid_ended() {
  local st
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
  [ "$st" = Z ]
}

# wait_until DESC SECONDS CMD...: poll; when the deadline passes, a failing test DESC.
wait_until() {
  local desc=$1 secs=$2
  shift 2
  poll "$secs" "$@" && return 0
  fail "$desc (not within $secs s)" "waited for: $*"
  return 1
}

# wait_for FILE [TENTHS]: wait until FILE is non-empty (default 10 s).
wait_for() {
  poll $(((${2:-100} + 9) / 10)) test -s "$1"
}

# make_gate NAME: a fifo in the scratch dir; a process (in a container, through a volume,
# or on the host) that opens it for reading blocks until open_gate. Prints its path.
make_gate() {
  local g=$T_SCRATCH/$1
  mkfifo "$g" && echo "$g"
}

# open_gate FIFO: let the reader of FIFO go. Fails (after 30 s) when nothing reads it.
open_gate() {
  timeout 30 sh -c 'echo go >"$1"' open_gate "$1"
}

done_testing() {
  echo "1..$T_N"
  if [ "$T_FAILED" -gt 0 ]; then
    echo "# $T_FAILED of $T_N failed (user kind: $NOOK_TEST_USER_KIND)"
    exit 1
  fi
  exit 0
}
