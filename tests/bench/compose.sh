#!/usr/bin/env bash
# tests/bench/compose.sh BUILD_DIR: `nook compose` against podman-compose (a benchmark,
# not a test: it fails only when it cannot run at all), on the issue's three-service
# project (busybox only, loopback only):
#
#   web     busybox httpd with a published port and a bind volume
#   api     a healthcheck (CMD true, every second)
#   worker  depends_on api: condition: service_healthy
#
#   up      `up -d` from nothing until the web answers on the host's loopback
#   up_si   the same with api's healthcheck given Docker's start_period and start_interval
#           (BENCH_START_INTERVAL, default 100ms; start_period 30s). nook runs a first
#           probe as the container starts (podman's; Docker's comes one interval, 1 s,
#           later), so both go at once; podman-compose 1.0.3 passes no start_interval to
#           podman and waits for no health (its up is the same project)
#   ps, logs, exec (`exec -T api true`), down (their PID 1, sleep, ignores SIGTERM: the
#           grace period matters)
#   idle    PSS of every process the project leaves running that is not a service's
#           own command, two seconds after the last command (nook: supervisors,
#           nook-init, network helpers; podman: conmon, catatonit (podman-init in the
#           container), slirp4netns, rootlessport, aardvark-dns), measured as root.  BENCH_INIT=1 gives the services `init: true`
#           (the issue measured podman's idle memory so, with catatonit; nook runs its init
#           as PID 1 whatever init says, podman only then; podman's down is then quick too)
#
# BENCH_ROUNDS rounds (default 3), medians in ms, ratios against the issue's targets (up,
# ps, logs, down >= 20x faster than podman-compose, exec >= 10x; idle PSS <= 1/2). As root it
# runs as BENCH_USER (default nook-sub); podman-compose (Debian's, ci/bench-deps.sh) drives
# podman with runc, overlay, cgroupfs and a private --root/--runroot. nook's part is
# skipped, with a message, while `nook compose up` is not implemented.
set -euo pipefail
O=${1:-build}
rounds=${BENCH_ROUNDS:-3}

if [ -n "${BENCH_INNER:-}" ]; then
  # shellcheck source=tests/bench/common.sh
  . "$(dirname "$0")/common.sh"
  nook=$O/nook
  work=$(mktemp -d "${TMPDIR:-/tmp}/nook-benchc.XXXXXX")
  export NOOK_ROOT=$work/store
  bench_podman_init "$work/podman-root"
  # podman-compose calls `podman`: a wrapper with the benchmark's private store
  printf '#!/bin/sh\nexec %s "$@"\n' "${P[*]@Q}" >"$work/podman"
  chmod +x "$work/podman"
  PC=(podman-compose --podman-path "$work/podman")
  cleanup() {
    (cd "$work/proj" 2>/dev/null && "$nook" compose down -v -t 0 >/dev/null 2>&1) || true
    if command -v podman >/dev/null; then
      "$work/podman" rm -f -t 0 -a >/dev/null 2>&1 || true
      "$work/podman" network prune -f >/dev/null 2>&1 || true
    fi
    bench_remove "$prun" "$work"
  }
  trap cleanup EXIT
  r=$work/rootfs
  bench_rootfs "$r" "$work/rootfs.tar" true sh sleep echo cat wget httpd
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$work/proj/www"
  echo "hello from web" >"$work/proj/www/index.html"
  init_line=
  [ -z "${BENCH_INIT:-}" ] || init_line=$'    init: true\n'
  si=${BENCH_START_INTERVAL:-100ms}
  project() {
    # project NAME [HEALTHCHECK LINES]
    cat <<EOF
name: $1
services:
  web:
    image: benchbox
    command: ["busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]
$init_line    ports: ["127.0.0.1:$port:8080"]
    volumes: ["./www:/www:ro"]
  api:
    image: benchbox
    command: ["sh", "-c", "echo api ready; exec sleep 100000"]
$init_line    healthcheck:
      test: ["CMD", "true"]
      interval: 1s
$2
  worker:
    image: benchbox
    command: ["sh", "-c", "echo worker ready; exec sleep 100000"]
$init_line    depends_on:
      api:
        condition: service_healthy
EOF
  }
  project bench "" >"$work/proj/compose.yaml"
  cp -r "$work/proj" "$work/proj-si"
  project benchsi "      start_period: 30s
      start_interval: $si" >"$work/proj-si/compose.yaml"
  cd "$work/proj"
  tools=()
  "$nook" import "$work/rootfs.tar" benchbox >/dev/null
  probe=$("$nook" compose up --help 2>&1 || true)
  if [[ $probe == *"not implemented"* ]]; then
    echo "bench: nook compose up is not implemented yet: nook's part of the compose benchmark is skipped"
  else
    tools+=(nook)
  fi
  if command -v podman-compose >/dev/null && "$work/podman" import "$work/rootfs.tar" benchbox >/dev/null 2>&1; then
    tools+=(podman)
  else
    echo "bench: podman-compose or podman is not usable here (ci/bench-deps.sh installs them)"
  fi
  [ ${#tools[@]} -gt 0 ] || exit 0
  answers() { timeout 2 wget -q -O- "http://127.0.0.1:$port/" 2>/dev/null | grep -q 'hello from web'; }
  up_nook() { "$nook" compose up -d; }
  up_podman() { "${PC[@]}" up -d; }
  up_si_nook() { (cd "$work/proj-si" && "$nook" compose up -d); }
  up_si_podman() { (cd "$work/proj-si" && "${PC[@]}" up -d); }
  # (untimed: the project with start_interval goes at once)
  down_si_nook() { (cd "$work/proj-si" && "$nook" compose down -t 0); }
  down_si_podman() { (cd "$work/proj-si" && "${PC[@]}" down -t 0); }
  ps_nook() { "$nook" compose ps; }
  ps_podman() { "${PC[@]}" ps; }
  logs_nook() { "$nook" compose logs; }
  logs_podman() { "${PC[@]}" logs; }
  exec_nook() { "$nook" compose exec -T api true; }
  exec_podman() { "${PC[@]}" exec -T api true; }
  down_nook() { "$nook" compose down; }
  down_podman() { "${PC[@]}" down; }
  # time_of FILE CMD...: CMD's wall time in us appended to FILE
  time_of() {
    local f=$1 t0 t1
    shift
    t0=${EPOCHREALTIME/./}
    "$@" >"$work/last.log" 2>&1 || echo "bench: '$*' failed: $(tail -n 3 "$work/last.log")"
    t1=${EPOCHREALTIME/./}
    echo $((t1 - t0)) >>"$f"
  }
  up_until_answers() {
    "up_$1" || return 1
    for _ in $(seq 600); do answers && return 0; sleep 0.01; done
    echo "bench: $1: the web did not answer within 6 s of up" >&2
    return 1
  }
  up_si_until_answers() {
    "up_si_$1" || return 1
    for _ in $(seq 600); do answers && return 0; sleep 0.01; done
    echo "bench: $1: the web did not answer within 6 s of up" >&2
    return 1
  }
  helpers() {
    # the processes of this user a project leaves running that are not its services' commands
    local names
    if [ "$1" = nook ]; then
      names='^(nook|nook-init|nook-.*|slirp4netns|pasta|pasta.avx2|fuse-overlayfs)$'
    else
      names='^(conmon|catatonit|podman-init|slirp4netns|rootlessport|rootlessport-c|aardvark-dns|netavark|pasta|fuse-overlayfs)$'
    fi
    # (not those that ran before the benchmark began, nor zombies)
    ps -u "$(id -u)" -o pid=,stat=,comm= |
      awk -v re="$names" -v before=" $baseline " '$3 ~ re && $2 !~ /^Z/ && index(before, " " $1 " ") == 0 { print $1 }' | xargs
  }
  baseline=$(ps -u "$(id -u)" -o pid= | xargs)
  stats() { sort -n "$1" | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f\n", m / 1000 }'; }
  for t in "${tools[@]}"; do for m in up up_si ps logs exec down; do : >"$work/$m.$t"; done; done
  for ((i = 0; i < rounds; i++)); do
    for t in "${tools[@]}"; do
      time_of "$work/up_si.$t" up_si_until_answers "$t"
      "down_si_$t" >/dev/null 2>&1 || echo "bench: $t: down of the start_interval project failed"
      time_of "$work/up.$t" up_until_answers "$t"
      for m in ps logs exec; do time_of "$work/$m.$t" "${m}_$t"; done
      if [ "$i" -eq $((rounds - 1)) ]; then
        # idle memory, measured by the root driver from the pids written here, once
        # the project has been left alone for two seconds (idle: as it sits between
        # two commands; nook's helpers give back what start-up left them after one
        # quiet second, podman's conmon and helpers keep theirs)
        sleep 2
        echo "$(helpers "$t")" >"${TMPDIR:-/tmp}/pids.$t"
        for _ in $(seq 300); do [ -e "${TMPDIR:-/tmp}/measured.$t" ] && break; sleep 0.1; done
      fi
      time_of "$work/down.$t" "down_$t"
    done
  done
  printf '%-8s %10s %10s %10s %10s %10s %10s\n' tool up_ms up_si_ms ps_ms logs_ms exec_ms down_ms
  declare -A med
  for t in "${tools[@]}"; do
    row=()
    for m in up up_si ps logs exec down; do
      med[$m.$t]=$(stats "$work/$m.$t")
      row+=("${med[$m.$t]}")
    done
    printf '%-8s %10s %10s %10s %10s %10s %10s\n' "$t" "${row[@]}"
  done
  if [ -n "${med[up.nook]:-}" ] && [ -n "${med[up.podman]:-}" ]; then
    echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    for m in up up_si ps logs exec down; do
      target=20
      [ "$m" = exec ] && target=10
      awk -v n="${med[$m.nook]}" -v p="${med[$m.podman]}" -v m="$m" -v t="$target" \
        'BEGIN { r = p / n; printf "%-5s podman-compose/nook = %.1fx (target >= %dx) %s\n", m, r, t, (r >= t ? "meets the target" : "MISSES the target") }'
    done
  fi
  exit 0
fi

here=$(cd "$(dirname "$0")" && pwd)
O=$(cd "$O" && pwd)
# kB of PSS and RSS of a set of pids
mem() {
  local p pss=0 rss=0 a b
  for p in "$@"; do
    a=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
    b=$(awk '/^Rss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
    pss=$((pss + ${a:-0})) rss=$((rss + ${b:-0}))
  done
  echo "$pss $rss"
}
if [ "$(id -u)" -eq 0 ]; then
  user=${BENCH_USER:-nook-sub}
  # shellcheck source=tests/bench/common.sh
  . "$here/common.sh"
  bench_stage "$here/compose.sh"
  for f in "$O"/nook-*; do [ -x "$f" ] && cp "$f" "$BENCH_STAGE/bin/"; done
  tmp=$BENCH_STAGE
  utmp=$(bench_user_tmp "$user")
  echo "bench: compose, as the unprivileged user $user ($rounds rounds)"
  bench_as "$user" BENCH_INNER=1 BENCH_ROUNDS="$rounds" BENCH_INIT="${BENCH_INIT:-}" bash "$tmp/compose.sh" "$tmp/bin" &
  inner=$!
  declare -A idle
  while kill -0 "$inner" 2>/dev/null; do
    for t in nook podman; do
      if [ -e "$utmp/pids.$t" ] && [ ! -e "$utmp/measured.$t" ]; then
        read -r -a pids <"$utmp/pids.$t" || pids=()
        read -r pss rss < <(mem "${pids[@]}")
        idle[$t]=$pss
        printf 'idle: %s: %d helper processes: PSS %d kB, RSS %d kB (%s)\n' "$t" "${#pids[@]}" \
          "$pss" "$rss" "$(for p in "${pids[@]}"; do cat "/proc/$p/comm" 2>/dev/null; done | sort | uniq -c | awk '{ printf "%s%s x%s", (NR > 1 ? ", " : ""), $2, $1 }')"
        : >"$utmp/measured.$t"
      fi
    done
    sleep 0.2
  done
  wait "$inner" || true
  if [ -n "${idle[nook]:-}" ] && [ -n "${idle[podman]:-}" ]; then
    awk -v n="${idle[nook]}" -v p="${idle[podman]}" 'BEGIN { printf "idle: nook/podman PSS = %.2f (target <= 0.5) %s\n", n / p, (n * 2 <= p ? "meets the target" : "MISSES the target") }'
  fi
else
  echo "bench: run as root for the idle memory (the inits' smaps are not the user's)"
  T=$(mktemp -d)
  BENCH_INNER=1 BENCH_ROUNDS="$rounds" TMPDIR=$T bash "$0" "$O" &
  inner=$!
  # without root nothing measures: let the inner part go on at once
  while kill -0 "$inner" 2>/dev/null; do
    for t in nook podman; do [ -e "$T/pids.$t" ] && : >"$T/measured.$t"; done
    sleep 0.2
  done
  wait "$inner" || true
  rm -rf "$T"
fi
