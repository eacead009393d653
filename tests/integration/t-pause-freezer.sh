#!/usr/bin/env bash
# t-pause-freezer.sh: pause uses the cgroup freezer delegated to this user (ci/prepare.sh
# delegates a v1 freezer subtree and/or a v2 cgroup). Checked from the host, for each
# freezer found (the one `nook info` names, and v1 through NOOK_CGROUP when v2 is the
# default): the container's cgroup (state.json's "Cgroup") holds the init and every
# process of the container, an exec'd one too; paused, it is FROZEN (v1 freezer.state, v2 cgroup.events
# "frozen 1") and no process is 'T (stopped)' (not the SIGSTOP fallback); ps says
# (Paused), exec is refused; unpause thaws it; stop of a paused container ends it by its
# signal; the cgroup is removed when the container is (by rm when its supervisor was killed).
# No freezer at all is a LOUD failure, unless NOOK_TEST_FREEZER (`make test` sets it from
# ci/prepare.sh's /run/nook-test-freezer) says "impossible: ..." and `nook info` reports
# the SIGSTOP fallback: then only that is checked, and said.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

logged() { "$NOOK" logs "$1" 2>/dev/null | grep -q "$2"; }
field() { sed -n "s/.*\"$2\":\"\{0,1\}\([^\",}]*\).*/\1/p" "$NOOK_ROOT/containers/$1/state.json"; }
# the init and its descendants
tree() {
  local q=$1 p
  while [ -n "$q" ]; do
    set -- $q
    p=$1
    shift
    q="$*"
    echo "$p"
    for c in $(cat "/proc/$p/task/$p/children" 2>/dev/null); do q="$q $c"; done
  done
}
frozen() {
  case $2 in
    1) [ "$(cat "$1/freezer.state")" = FROZEN ] ;;
    2) grep -qx 'frozen 1' "$1/cgroup.events" ;;
  esac
}
thawed() {
  case $2 in
    1) [ "$(cat "$1/freezer.state")" = THAWED ] ;;
    2) grep -qx 'frozen 0' "$1/cgroup.events" ;;
  esac
}
gone() { [ ! -e "$1" ]; }
# the host pid of the process whose command line is "sleep $1" (an exec's)
by_cmd() {
  local f
  for f in /proc/[0-9]*/cmdline; do
    [ "$(tr '\0' ' ' 2>/dev/null <"$f")" = "sleep $1 " ] && { f=${f%/cmdline}; echo "${f#/proc/}"; return 0; }
  done
  return 1
}
has_cmd() { by_cmd "$1" >/dev/null; }

# one_freezer LABEL VERSION: the checks above, with the freezer nook finds in this environment
one_freezer() {
  local l=$1 v=$2 name=pf$2 id cg init pids s ex bad=
  id=$("$NOOK" run -d --name "$name" busybox sh -c 'sleep 1000 & echo ready; while :; do sleep 0.05; done')
  wait_until "$l: the container runs" 30 logged "$name" ready || return
  cg=$(field "$id" Cgroup)
  init=$(field "$id" Pid)
  nrun exec -d "$name" sleep "2000$v$$"
  check_eq "$l: exec -d sleep" 0 "$RC"
  wait_until "$l: the exec'd sleep runs" 30 has_cmd "2000$v$$"
  ex=$(by_cmd "2000$v$$")
  check_match "$l: state.json names the container's cgroup" "/nook-$id\$" "$cg"
  nrun pause "$name"
  check_eq "$l: pause" "0 $name" "$RC $OUT"
  check "$l: the container's cgroup is FROZEN (v$v)" frozen "$cg" "$v"
  pids="$(tree "$init") $ex"
  check_match "$l: the container has its processes (init, sh, sleeps)" '[0-9]+.*[0-9]+.*[0-9]+' "$(echo $pids)"
  for p in $pids; do
    grep -qx "$p" "$cg/cgroup.procs" || bad="$bad $p(not in the cgroup)"
    s=$(cat "/proc/$p/stat") && s=${s##*) } && s=${s%% *}
    [ "$s" != T ] || bad="$bad $p(T: stopped)"
  done
  check_eq "$l: every process of the container (the exec'd one too) is in its cgroup, none 'T (stopped)'" "" "$bad"
  diag "$l: states while frozen: $(for p in $pids; do grep State "/proc/$p/status" | tr -d '\t'; done | sort | uniq -c | tr '\n' ' ')"
  nrun ps
  check_match "$l: ps shows (Paused)" "Up .* \\(Paused\\) .* $name" "$OUT"
  check_status "$l: exec into a paused container exits 1" 1 exec "$name" true
  nrun unpause "$name"
  check_eq "$l: unpause" "0 $name" "$RC $OUT"
  check "$l: the cgroup is thawed" thawed "$cg" "$v"
  nrun exec "$name" echo ok
  check_eq "$l: exec works again" ok "$OUT"
  nrun pause "$name"
  nrun stop -t 30 "$name"
  check_eq "$l: stop of a paused container" "0 $name" "$RC $OUT"
  check_eq "$l: ... ends it by its stop signal (143)" 143 "$(field "$id" ExitCode)"
  nrun rm "$name"
  check_eq "$l: rm" 0 "$RC"
  check "$l: the container's cgroup is removed (within 30 s)" poll 30 gone "$cg"
}

# born_in_cgroup BASE: a v2 freezer's container init is cloned into its cgroup (clone3's
# CLONE_INTO_CGROUP): held at the test hook child-cloned, its first step, it is there
# already (it used to move itself there after, through cgroup.procs, whose writer waits
# for an RCU grace period on every start; a pause meanwhile missed it).
born_in_cgroup() {
  local hooks=$T_SCRATCH/hooks-cg rpid id procs rc=0
  mkdir -p "$hooks"
  mkfifo "$hooks/child-cloned.reached" "$hooks/child-cloned.go"
  NOOK_TEST_HOOK_DIR=$hooks timeout -k 5 90 "$NOOK_HOOKED" run -d --name pcg busybox sleep 1000 \
    </dev/null >"$T_SCRATCH/pcg.out" 2>&1 &
  rpid=$!
  if timeout 60 cat "$hooks/child-cloned.reached" >/dev/null; then
    id=$("$NOOK" ps -a -q --no-trunc -f name=pcg | head -1)
    procs=$(cat "$1/nook-$id/cgroup.procs" 2>&1)
    check_match "v2: the init held at its first step is in the container's cgroup already" \
      '^[0-9]+$' "$procs"
    open_gate "$hooks/child-cloned.go" >/dev/null
    wait "$rpid" || rc=$?
    check_eq "v2: ... and the run goes on" 0 "$rc"
  else
    fail "v2: the run stopped at the test hook child-cloned" "$(cat "$T_SCRATCH/pcg.out")"
    kill -KILL "$rpid" 2>/dev/null
  fi
  "$NOOK" rm -f pcg >/dev/null 2>&1
}

nrun info --format '{{.Pause}}'
check_eq "info --format {{.Pause}}" 0 "$RC"
info=$OUT
v1dir=/sys/fs/cgroup/freezer/nook-$USER
if [[ $info =~ ^the\ cgroup\ freezer\ \(v([12])\),\ delegated\ at\ ([^:]*): ]]; then
  ver=${BASH_REMATCH[1]}
  base=${BASH_REMATCH[2]}
  diag "info: $info"
  one_freezer "default (v$ver at $base)" "$ver"
  if [ "$ver" = 2 ]; then
    need_hooked
    born_in_cgroup "$base"
  fi
  if [ "$ver" = 2 ] && [ -w "$v1dir" ] && [ -w "$v1dir/cgroup.procs" ]; then
    export NOOK_CGROUP=$v1dir
    nrun info --format '{{.Pause}}'
    check_match "NOOK_CGROUP=$v1dir: info names the v1 freezer" "^the cgroup freezer \\(v1\\), delegated at $v1dir:" "$OUT"
    one_freezer "v1 at $v1dir" 1
    unset NOOK_CGROUP
  fi
  # a supervisor killed leaves the container's cgroup: rm removes it
  id=$("$NOOK" run -d --name pk busybox sleep 1000)
  cg=$(field "$id" Cgroup)
  check "killed supervisor: the container has its cgroup" test -d "$cg"
  kill -KILL "$(field "$id" SupervisorPid)"
  exited() { "$NOOK" ps -a --format '{{.Status}}' --filter name=pk | grep -q Exited; }
  wait_until "killed supervisor: the container reads as exited" 30 exited
  nrun rm pk
  check_eq "killed supervisor: rm" 0 "$RC"
  check "killed supervisor: rm removed the cgroup left behind (within 30 s)" poll 30 gone "$cg"
elif [[ ${NOOK_TEST_FREEZER:-} == impossible:* ]]; then
  check_match "no freezer: info reports the SIGSTOP fallback" '^SIGSTOP/SIGCONT of every process' "$info"
  diag "********************************************************************************" \
    "NO CGROUP FREEZER WAS TESTED: ci/prepare.sh could not delegate one on this machine" \
    "(NOOK_TEST_FREEZER=$NOOK_TEST_FREEZER); only the fallback's report was checked." \
    "********************************************************************************"
else
  fail "NO DELEGATED CGROUP FREEZER FOUND, and NOOK_TEST_FREEZER does not say delegation was impossible: run ci/prepare.sh as root (it delegates one to the test users) or set NOOK_TEST_FREEZER='impossible: why'" \
    "info: $info" "NOOK_TEST_FREEZER=${NOOK_TEST_FREEZER:-(unset)}"
fi
done_testing
