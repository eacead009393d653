#!/usr/bin/env bash
# tests/bench/lifecycle.sh BUILD_DIR: detached containers, nook against podman (a benchmark,
# not a test: it fails only when it cannot run at all).
#
#   cycle  `run -d --network none IMAGE sleep 1000` + `exec ID true` + `rm -f ID`
#          (podman: `rm -f -t 0`), BENCH_CYCLES times (default 10), alternating the tools
#   exec   `exec ID true` into one running container, BENCH_EXECS times (default 20)
#   idle   memory of one idle detached container: nook's supervisor + init against
#          podman's conmon (+ catatonit with --init): PSS and RSS from smaps_rollup
#
# As root it runs as BENCH_USER (default nook-sub); podman as in bench.sh (runc, overlay,
# cgroupfs, private --root/--runroot). Prints medians (ms), ratios and the targets
# (cycle >= 10x, exec >= 15x faster than podman; idle <= 1.5 MiB PSS).
set -euo pipefail
O=${1:-build}
cycles=${BENCH_CYCLES:-10}
execs=${BENCH_EXECS:-20}

if [ -n "${BENCH_INNER:-}" ]; then
  # shellcheck source=tests/bench/common.sh
  . "$(dirname "$0")/common.sh"
  nook=$O/nook
  work=$(mktemp -d "${TMPDIR:-/tmp}/nook-benchl.XXXXXX")
  export NOOK_ROOT=$work/store
  bench_podman_init "$work/podman/root"
  cleanup() {
    # shellcheck disable=SC2046 # one ID a word
    "$nook" rm -f $("$nook" ps -aq 2>/dev/null) >/dev/null 2>&1 || true
    if command -v podman >/dev/null; then "${P[@]}" rm -f -t 0 -a >/dev/null 2>&1 || true; fi
    bench_remove "$prun" "$work"
  }
  trap cleanup EXIT
  r=$work/rootfs
  bench_rootfs "$r" "$work/rootfs.tar" true sh sleep
  "$nook" import "$work/rootfs.tar" benchbox >/dev/null
  tools=(nook)
  if command -v podman >/dev/null && "${P[@]}" import "$work/rootfs.tar" benchbox >/dev/null 2>&1 &&
    id=$("${P[@]}" run -d --network none benchbox sleep 1000 2>/dev/null) &&
    "${P[@]}" rm -f -t 0 "$id" >/dev/null 2>&1; then
    tools+=(podman)
  else
    echo "bench: podman is not usable here: nook alone"
  fi
  cycle_nook() {
    local id
    id=$("$nook" run -d --network none benchbox sleep 1000)
    "$nook" exec "$id" true
    "$nook" rm -f "$id" >/dev/null
  }
  cycle_podman() {
    local id
    id=$("${P[@]}" run -d --network none benchbox sleep 1000)
    "${P[@]}" exec "$id" true
    "${P[@]}" rm -f -t 0 "$id" >/dev/null
  }
  stats() { sort -n "$1" | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f\n", m / 1000 }'; }
  for t in "${tools[@]}"; do "cycle_$t" >/dev/null 2>&1 || true; : >"$work/cycle.$t"; : >"$work/exec.$t"; done
  for ((i = 0; i < cycles; i++)); do
    for t in "${tools[@]}"; do
      t0=${EPOCHREALTIME/./}
      "cycle_$t" >/dev/null 2>&1 || echo "bench: a $t cycle failed"
      t1=${EPOCHREALTIME/./}
      echo $((t1 - t0)) >>"$work/cycle.$t"
    done
  done
  declare -A ids
  ids[nook]=$("$nook" run -d --network none benchbox sleep 1000)
  exec_nook() { "$nook" exec "${ids[nook]}" true; }
  if [ "${#tools[@]}" -gt 1 ]; then
    ids[podman]=$("${P[@]}" run -d --network none benchbox sleep 1000)
    exec_podman() { "${P[@]}" exec "${ids[podman]}" true; }
  fi
  for ((i = 0; i < execs; i++)); do
    for t in "${tools[@]}"; do
      t0=${EPOCHREALTIME/./}
      "exec_$t" >/dev/null 2>&1 || echo "bench: a $t exec failed"
      t1=${EPOCHREALTIME/./}
      echo $((t1 - t0)) >>"$work/exec.$t"
    done
  done
  declare -A mc me
  printf '%-8s %16s %14s\n' tool "cycle_median_ms" "exec_median_ms"
  for t in "${tools[@]}"; do
    mc[$t]=$(stats "$work/cycle.$t")
    me[$t]=$(stats "$work/exec.$t")
    printf '%-8s %16s %14s\n' "$t" "${mc[$t]}" "${me[$t]}"
  done
  if [ -n "${mc[podman]:-}" ]; then
    awk -v n="${mc[nook]}" -v p="${mc[podman]}" 'BEGIN { r = p / n; printf "cycle: podman/nook = %.1fx (target >= 10x) %s\n", r, (r >= 10 ? "meets the target" : "MISSES the target") }'
    awk -v n="${me[nook]}" -v p="${me[podman]}" 'BEGIN { r = p / n; printf "exec:  podman/nook = %.1fx (target >= 15x) %s\n", r, (r >= 15 ? "meets the target" : "MISSES the target") }'
  fi
  # idle memory: the init is not dumpable (its smaps are root's to read): as root, the
  # driver measures the pids written to $TMPDIR/pids (then creates $TMPDIR/measured)
  st=$NOOK_ROOT/containers/${ids[nook]}/state.json
  sup=$(sed -n 's/.*"SupervisorPid":\([0-9]*\).*/\1/p' "$st")
  init=$(sed -n 's/.*"Pid":\([0-9]*\).*/\1/p' "$st")
  cpid='' ccat='' cinit=
  if [ -n "${ids[podman]:-}" ]; then
    cpid=$(pgrep -u "$(id -u)" -x conmon | head -n 1)
    if "${P[@]}" run -d --init --network none benchbox sleep 1000 >/dev/null 2>&1; then
      cinit=$(pgrep -n -u "$(id -u)" -x conmon)
      ccat=$(pgrep -n -u "$(id -u)" -x catatonit)
    fi
  fi
  echo "$sup $init ${cpid:-0} ${cinit:-0} ${ccat:-0}" >"${TMPDIR:-/tmp}/pids"
  for _ in $(seq 300); do [ -e "${TMPDIR:-/tmp}/measured" ] && break; sleep 0.1; done
  exit 0
fi

here=$(cd "$(dirname "$0")" && pwd)
O=$(cd "$O" && pwd)
if [ "$(id -u)" -eq 0 ]; then
  user=${BENCH_USER:-nook-sub}
  # shellcheck source=tests/bench/common.sh
  . "$here/common.sh"
  bench_stage "$here/lifecycle.sh"
  utmp=$(bench_user_tmp "$user")
  echo "bench: lifecycle, as the unprivileged user $user"
  bench_as "$user" BENCH_INNER=1 BENCH_CYCLES="$cycles" BENCH_EXECS="$execs" \
    bash "$BENCH_STAGE/lifecycle.sh" "$BENCH_STAGE/bin" &
  inner=$!
  for _ in $(seq 1200); do [ -s "$utmp/pids" ] || ! kill -0 "$inner" 2>/dev/null && break; sleep 0.1; done
  if [ -s "$utmp/pids" ]; then
    # kB of PSS and RSS of a set of pids
    mem() {
      local p pss=0 rss=0 a b
      for p in "$@"; do
        [ "$p" != 0 ] || continue
        a=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
        b=$(awk '/^Rss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
        pss=$((pss + a)) rss=$((rss + b))
      done
      echo "$pss $rss"
    }
    read -r sup init cpid cinit ccat <"$utmp/pids"
    read -r pss rss < <(mem "$sup" "$init")
    printf 'idle: nook supervisor + init: PSS %d kB, RSS %d kB (target: PSS <= 1536 kB) %s\n' \
      "$pss" "$rss" "$([ "$pss" -le 1536 ] && echo "meets the target" || echo "MISSES the target")"
    read -r pss rss < <(mem "$sup")
    printf '      (supervisor alone: PSS %d kB, RSS %d kB)\n' "$pss" "$rss"
    if [ "$cpid" != 0 ]; then
      read -r pss rss < <(mem "$cpid")
      printf 'idle: podman conmon: PSS %d kB, RSS %d kB\n' "$pss" "$rss"
    fi
    if [ "$cinit" != 0 ]; then
      read -r pss rss < <(mem "$cinit" "$ccat")
      printf 'idle: podman --init: conmon + catatonit: PSS %d kB, RSS %d kB\n' "$pss" "$rss"
    fi
    : >"$utmp/measured"
  fi
  wait "$inner" || true
else
  BENCH_INNER=1 BENCH_CYCLES="$cycles" BENCH_EXECS="$execs" TMPDIR=$(mktemp -d) bash "$0" "$O" &
  echo "bench: idle memory is measured when run as root (the init's smaps are not the user's)"
  wait
fi
