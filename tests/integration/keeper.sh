# tests/integration/keeper.sh: the nook-userns process that keeps a user's user namespace
# (sandbox/userns_keep.c; its pid is in nook's runtime directory, file userns.pid), so that
# a test file or the demo ends the keeper it caused, and no other. Sourced by lib.sh and
# ci/demo.sh.
# shellcheck shell=bash
#
#   keeper_identity PID          prints PID:STARTTIME when PID is a live nook-userns of this
#                                user (a pid plus its start time names one process for good)
#   keeper_list                  the identities of this user's keepers now, one a line
#   keeper_pid NOOK              the keeper nook's pid file names (verified), or nothing
#   keeper_end_new NOOK BEFORE   SIGTERM the keeper nook's pid file names when it is not
#                                among the identities BEFORE (from keeper_list), then any
#                                other keeper of this user not among them, and the pool
#                                servers in their user namespaces (nook-netpool, which end
#                                with their keeper anyway); waits (10 s at most) until they
#                                are gone

keeper_identity() {
  local p=$1 st argv0
  local -a f
  [[ $p =~ ^[0-9]+$ ]] || return 1
  [ "$(stat -c %u "/proc/$p" 2>/dev/null)" = "$(id -u)" ] || return 1
  argv0=$(tr '\0' '\n' 2>/dev/null <"/proc/$p/cmdline" | head -n 1)
  [ "$argv0" = nook-userns ] || return 1 # (a zombie's cmdline is empty)
  st=$(cat "/proc/$p/stat" 2>/dev/null) || return 1
  read -r -a f <<<"${st##*) }" # f[0] is field 3 (state), f[19] field 22 (starttime)
  [ "${f[0]}" != Z ] && [ -n "${f[19]:-}" ] || return 1
  echo "$p:${f[19]}"
}

keeper_list() {
  local p
  for p in $(pgrep -u "$(id -u)" -f '^nook-userns( |$)' 2>/dev/null); do
    keeper_identity "$p" || true
  done
  return 0
}

# The pids nook's pid files name: in the runtime directory `nook info --format json`
# reports (when it does), the keeper pid it reports, then every place nook may keep it.
_keeper_pid_candidates() {
  local nook=$1 info d
  info=$(timeout 30 "$nook" info --format json 2>/dev/null) || true
  {
    grep -oE '"[A-Za-z]*[Rr]untime[A-Za-z]*" *: *"/[^"]*"' <<<"$info" | sed -E 's/.*: *"//; s/"$//'
    [ -z "${XDG_RUNTIME_DIR:-}" ] || echo "$XDG_RUNTIME_DIR/nook"
    echo "/tmp/nook-$(id -u)"
    echo "${XDG_STATE_HOME:-${HOME:-/nonexistent}/.local/state}/nook/run"
  } | while IFS= read -r d; do
    if [ -f "$d/userns.pid" ]; then head -c 64 "$d/userns.pid" 2>/dev/null; echo; fi
  done
  grep -oE 'nook-userns \(pid [0-9]+\)' <<<"$info" | grep -oE '[0-9]+'
  return 0
}

keeper_pid() {
  local p
  for p in $(_keeper_pid_candidates "$1" | sort -u); do
    keeper_identity "$p" >/dev/null && echo "$p" && return 0
  done
  return 0
}

# _pool_servers_of PID: the nook-netpool servers in the user namespace of process PID
_pool_servers_of() {
  local ns q
  ns=$(readlink "/proc/$1/ns/user" 2>/dev/null) || return 0
  for q in $(pgrep -u "$(id -u)" -x nook-netpool 2>/dev/null); do
    [ "$(readlink "/proc/$q/ns/user" 2>/dev/null)" = "$ns" ] && echo "$q"
  done
  return 0
}

keeper_end_new() {
  local nook=$1 before p id n q
  local -a ended=() pools=()
  before=" $(tr '\n' ' ' <<<"$2") "
  # The keeper nook's pid file names, when this test started it.
  for p in $(_keeper_pid_candidates "$nook" | sort -u); do
    id=$(keeper_identity "$p") || continue
    case "$before${ended[*]} " in *" $id "*) continue ;; esac
    for q in $(_pool_servers_of "$p"); do pools+=("$q"); done
    kill -TERM "$p" 2>/dev/null && ended+=("$id")
  done
  # A new keeper no pid file names (nook kept it somewhere this file does not know): said,
  # and ended too.
  for p in $(pgrep -u "$(id -u)" -f '^nook-userns( |$)' 2>/dev/null); do
    id=$(keeper_identity "$p") || continue
    case "$before${ended[*]} " in *" $id "*) continue ;; esac
    echo "# keeper.sh: a new nook-userns keeper no pid file names (pid $p): ended"
    for q in $(_pool_servers_of "$p"); do pools+=("$q"); done
    kill -TERM "$p" 2>/dev/null && ended+=("$id")
  done
  for q in "${pools[@]}"; do kill -TERM "$q" 2>/dev/null || true; done
  for id in "${ended[@]}"; do
    n=200
    while [ "$(keeper_identity "${id%%:*}")" = "$id" ] && [ "$n" -gt 0 ]; do
      sleep 0.05
      n=$((n - 1))
    done
  done
  for q in "${pools[@]}"; do
    n=200
    while [ "$(tr '\0' '\n' 2>/dev/null <"/proc/$q/cmdline" | head -n 1)" = nook-netpool ] && [ "$n" -gt 0 ]; do
      sleep 0.05
      n=$((n - 1))
    done
  done
  return 0
}
