#!/usr/bin/env bash
# tests/bench/bench.sh BUILD_DIR: `make bench`. A benchmark, not a test: it never fails on
# timing, only when it cannot run at all.
#
# Times `nook run --rm --network none IMAGE /bin/true` against bubblewrap on a busybox rootfs
# and `podman run --rm --network none` on the same rootfs imported as an image (when podman is
# installed), run by run in a new random order each round, each run from a quiet machine,
# then nook and bwrap again bound to one CPU, as an unprivileged user: as root, once as each of BENCH_USERS (default "nook-sub nook-nosub",
# after ci/prepare.sh: a user with a subordinate id range, whose runs join the kept user
# namespace, and one without, whose runs map their single id), ending with one summary line
# per user; otherwise as the calling user. Prints each tool's median and p90 in ms, the
# ratios nook/bwrap and podman/nook, and the targets. Then runs every
# BUILD_DIR/tests/bench/bench_* program (argv[1]: the repository's tests/data/conformance).
#
# podman is run with `--runtime runc --storage-driver overlay --cgroup-manager cgroupfs`
# and a private --root/--runroot (on the machines nook is tested on crun refuses this cgroup layout
# and Debian's default vfs driver would make the comparison unfair); these flags are the
# command-line form of containers.conf/storage.conf, so no user config is written.
# Knobs: BENCH_ROUNDS (default 30), BENCH_SEED (the order's, default 1), BENCH_USERS or
# BENCH_USER (as root), NOOK_BENCH_NO_INSTALL=1 (as root, do not install podman).
set -euo pipefail
O=${1:-build}
rounds=${BENCH_ROUNDS:-30}

# ---- as the unprivileged user: the container start benchmark ------------------------------
if [ -n "${BENCH_INNER:-}" ]; then
  # shellcheck source=tests/bench/common.sh
  . "$(dirname "$0")/common.sh"
  nook=$O/nook
  work=$(mktemp -d "${TMPDIR:-/tmp}/nook-bench-w.XXXXXX")
  # podman gets a runtime dir of its own; nook keeps the user's (its kept user namespace
  # lives there, as it would for the user).
  export NOOK_ROOT=$work/store
  bench_podman_init "$work/podman/root"
  cleanup() { bench_remove "$work" "$prun"; }
  trap cleanup EXIT

  # A minimal busybox rootfs, the same for all three tools.
  r=$work/rootfs
  bench_rootfs "$r" "$work/rootfs.tar" true sh

  image=
  if "$nook" import "$work/rootfs.tar" benchbox >"$work/import.log" 2>&1; then
    image=benchbox
  elif "$nook" bootstrap busybox >"$work/import.log" 2>&1; then
    image=busybox
    echo "bench: nook import failed ($(tail -n 1 "$work/import.log")); using nook bootstrap busybox (same busybox binary)"
  else
    echo "bench: nook could make no image: $(tail -n 3 "$work/import.log")"
  fi

  tools=()
  run_nook() { NOOK_TRACE=${BENCH_TRACE:-} "$nook" run --rm --network none "$image" /bin/true 2>>"${BENCH_TRACE_FILE:-/dev/null}"; }
  run_bwrap() { bwrap --unshare-all --bind "$r" / --proc /proc --dev /dev --die-with-parent /bin/true; }
  run_podman() { "${P[@]}" run --rm --network none benchbox /bin/true; }
  # The default networks: nook's (bridge: its libslirp helper) and podman's (slirp4netns).
  run_nooknet() { "$nook" run --rm "$image" /bin/true; }
  run_podmannet() { "${P[@]}" run --rm benchbox /bin/true; }
  if [ -n "$image" ] && run_nook >"$work/nook.log" 2>&1; then
    tools+=(nook)
  else
    echo "bench: nook run does not work here yet: $(tail -n 3 "$work/nook.log" 2>/dev/null)"
  fi
  if ! command -v bwrap >/dev/null; then
    echo "bench: bwrap is not installed (apt-get install bubblewrap)"
  elif run_bwrap >"$work/bwrap.log" 2>&1; then
    tools+=(bwrap)
  else
    echo "bench: bwrap fails here: $(tail -n 3 "$work/bwrap.log")"
  fi
  if ! command -v podman >/dev/null; then
    echo "bench: podman is not installed: no podman comparison"
  elif "${P[@]}" import "$work/rootfs.tar" benchbox >"$work/podman.log" 2>&1 &&
    run_podman >>"$work/podman.log" 2>&1; then
    tools+=(podman)
  else
    echo "bench: podman fails here: $(tail -n 3 "$work/podman.log")"
  fi
  if [ -n "${tools[*]}" ] && [[ " ${tools[*]} " == *" nook "* ]]; then
    if run_nooknet >"$work/nooknet.log" 2>&1; then tools+=(nooknet); else
      echo "bench: nook's default network fails here: $(tail -n 3 "$work/nooknet.log")"; fi
  fi
  if [[ " ${tools[*]} " == *" podman "* ]]; then
    if run_podmannet >"$work/podmannet.log" 2>&1; then tools+=(podmannet); else
      echo "bench: podman's default network fails here: $(tail -n 3 "$work/podmannet.log")"; fi
  fi
  [ ${#tools[@]} -gt 0 ] || { echo "bench: no tool can run a container here"; exit 1; }

  # Warm up, then time the tools run by run.
  for t in "${tools[@]}"; do "run_$t" >/dev/null 2>&1 || true; done
  echo "bench: $rounds rounds of '/bin/true' in a fresh container, in a new random order each round: ${tools[*]}"
  for t in "${tools[@]}"; do : >"$work/times.$t"; done
  failed_runs=0
  # Each timed run starts from a quiet machine. podman leaves helpers running after
  # its CLI returns (conmon, `podman container cleanup`) and its database writes leave
  # the filesystem journal busy: wait for this user's processes to be back to what
  # they were and flush the disk. The kernel also goes on working for a run that has
  # returned (a network namespace is torn down by a kworker, ~1 ms after podman's
  # slirp4netns run here): wait until no other task is runnable in 5 looks 2 ms apart
  # (at most 0.2 s, so that a machine never quiet costs little; how many runs started on
  # a busy machine is printed). All of it untimed, so that no tool is charged for
  # another's leftovers.
  # (zombies do not count: nook, like bwrap, may return before its container's init is
  # reaped, and this machine's PID 1 may take seconds to reap orphans)
  live() { ps -u "$(id -u)" -o stat= | grep -vc '^Z' || true; }
  baseline=$(live)
  # (a FIFO opened read-write never has data: `read -t` on it is a sleep without a fork;
  # opened for each look, so that no run inherits it)
  mkfifo "$work/idle"
  busy_starts=0
  # the kernel's run queues: at most this shell running, 5 looks 2 ms apart (also used
  # by bench_ports.sh between its rounds)
  quiet() {
    local r x n=0
    for ((x = 0; x < 100; x++)); do
      read -r _ _ _ r _ </proc/loadavg
      if [ "${r%/*}" -le 1 ]; then
        n=$((n + 1))
        [ "$n" -ge 5 ] && return 0
      else
        n=0
      fi
      read -r -t 0.002 _ <>"$work/idle" || true
    done
    busy_starts=$((busy_starts + 1))
  }
  settle() {
    local n
    for _ in $(seq 200); do
      n=$(live)
      [ "$n" -le "$baseline" ] && break
      sleep 0.005
    done
    sync
    quiet
  }
  # The order is shuffled each round (fixed seed: BENCH_SEED): with a rotation each tool
  # always came right after the same other one, and the one after podman's default
  # network was measured 0.3-0.6 ms slower here (the kernel's teardown of its namespace
  # still running), whichever it was.
  RANDOM=${BENCH_SEED:-1}
  # shuffle WORD...: the words in a random order, in the array `order` (Fisher-Yates;
  # also used by bench_ports.sh)
  shuffle() {
    local j k t
    order=("$@")
    for ((j = ${#order[@]} - 1; j > 0; j--)); do
      k=$((RANDOM % (j + 1)))
      t=${order[j]}
      order[j]=${order[k]}
      order[k]=$t
    done
  }
  # time_rounds PREFIX TOOL...: $rounds rounds of the tools in a new order each, each run from
  # a quiet machine, its wall time (us) appended to $work/PREFIX.TOOL; failures counted
  # in failed_runs
  time_rounds() {
    local prefix=$1 i t
    shift
    for ((i = 0; i < rounds; i++)); do
      shuffle "$@"
      for t in "${order[@]}"; do
        settle
        bench_time "$work/$prefix.$t" "run_$t" || failed_runs=$((failed_runs + 1))
      done
    done
  }
  time_rounds times "${tools[@]}"
  [ "$failed_runs" = 0 ] || echo "bench: $failed_runs run(s) exited non-zero (timed anyway)"
  [ "$busy_starts" = 0 ] || echo "bench: $busy_starts run(s) started on a machine that did not become quiet within 0.2 s"

  # stats FILE: "median p90" in microseconds
  stats() {
    sort -n "$1" | awk '{ v[NR] = $1 } END {
      m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      i = int(NR * 0.9 + 0.999999); if (i < 1) i = 1
      printf "%d %d\n", m, v[i] }'
  }
  declare -A med
  printf '%-8s %10s %10s %6s\n' tool median_ms p90_ms runs
  for t in "${tools[@]}"; do
    read -r m p < <(stats "$work/times.$t")
    med[$t]=$m
    printf '%-8s %10.2f %10.2f %6d\n' "$t" "$(awk -v x="$m" 'BEGIN { print x / 1000 }')" \
      "$(awk -v x="$p" 'BEGIN { print x / 1000 }')" "$(wc -l <"$work/times.$t")"
  done
  if [ -n "${med[nook]:-}" ] && [ -n "${med[bwrap]:-}" ]; then
    awk -v n="${med[nook]}" -v b="${med[bwrap]}" 'BEGIN {
      r = n / b; printf "nook/bwrap   = %.2fx (target: <= 1.0x) %s\n", r, (r <= 1.0 ? "meets the target" : "MISSES the target") }' |
      tee -a "${BENCH_SUMMARY:-/dev/null}"
  fi
  if [ -n "${med[nook]:-}" ] && [ -n "${med[podman]:-}" ]; then
    awk -v n="${med[nook]}" -v p="${med[podman]}" 'BEGIN {
      r = p / n; printf "podman/nook  = %.1fx (target: >= 25x faster than podman) %s\n", r, (r >= 25 ? "meets the target" : "MISSES the target") }' |
      tee -a "${BENCH_SUMMARY:-/dev/null}"
  fi
  if [ -n "${med[nooknet]:-}" ] && [ -n "${med[nook]:-}" ]; then
    awk -v a="${med[nooknet]}" -v b="${med[nook]}" 'BEGIN {
      r = a / b; printf "nook default network / --network none = %.2fx (target: <= 1.3x) %s\n", r, (r <= 1.3 ? "meets the target" : "MISSES the target") }'
  fi
  if [ -n "${med[nooknet]:-}" ] && [ -n "${med[podmannet]:-}" ]; then
    awk -v n="${med[nooknet]}" -v p="${med[podmannet]}" 'BEGIN {
      r = p / n; printf "podman/nook, default networks = %.1fx (target: >= 10x faster than podman) %s\n", r, (r >= 10 ? "meets the target" : "MISSES the target") }'
  fi
  # The same start-up on a single CPU (the target holds "on any machine": a one-vCPU CI
  # runner, or a job bound with taskset), nook against bwrap, as above but pinned.
  if command -v taskset >/dev/null && [ -n "${med[nook]:-}" ] && [ -n "${med[bwrap]:-}" ]; then
    allowed=$(awk '/^Cpus_allowed_list:/ { print $2 }' /proc/self/status)
    cpu=$(awk -v l="$allowed" 'BEGIN { n = split(l, a, /[-,]/); print a[n] }')
    : >"$work/one.nook"
    : >"$work/one.bwrap"
    failed_runs=0
    # (this shell, and so every run it starts)
    if taskset -pc "$cpu" $$ >/dev/null; then
      time_rounds one nook bwrap
      taskset -pc "$allowed" $$ >/dev/null || echo "bench: could not give this shell its CPUs back ($allowed)"
    fi
    if [ ! -s "$work/one.nook" ]; then
      echo "bench: could not bind this shell to CPU $cpu: no one-CPU figures"
    elif [ "$failed_runs" != 0 ]; then
      echo "bench: $failed_runs run(s) on one CPU exited non-zero: no one-CPU ratio" |
        tee -a "${BENCH_SUMMARY:-/dev/null}"
    else
      read -r m1 _ < <(stats "$work/one.nook")
      read -r b1 _ < <(stats "$work/one.bwrap")
      awk -v n="$m1" -v b="$b1" -v c="$cpu" 'BEGIN {
        r = n / b; printf "on one CPU (%s): nook %.2f ms, bwrap %.2f ms: nook/bwrap = %.2fx (target: <= 1.0x) %s\n", c, n / 1000, b / 1000, r, (r <= 1.0 ? "meets the target" : "MISSES the target") }' |
        tee -a "${BENCH_SUMMARY:-/dev/null}"
    fi
  fi
  # Through a published port (when wrk is installed): small HTTP requests and a bulk
  # download from busybox httpd in nook (-p), in podman (-p) and on the host (no container).
  if command -v wrk >/dev/null && [[ " ${tools[*]} " == *" nooknet "* ]]; then
    # shellcheck source=tests/bench/bench_ports.sh
    . "$(dirname "$0")/bench_ports.sh"
  elif ! command -v wrk >/dev/null; then
    echo "bench: wrk is not installed (apt-get install wrk): no published-port benchmark"
  fi
  exit 0
fi

# ---- the driver -----------------------------------------------------------------------------
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
O=$(cd "$O" && pwd)
[ -x "$O/nook" ] || { echo "bench: $O/nook is missing (make all)"; exit 1; }

if [ "$(id -u)" -eq 0 ]; then
  "$repo/ci/prepare.sh" >/dev/null
  if [ -z "${NOOK_BENCH_NO_INSTALL:-}" ] && [ -x "$repo/ci/bench-deps.sh" ]; then
    # podman, runc, wrk, curl (Debian packages) for the comparisons, when missing
    "$repo/ci/bench-deps.sh" || echo "bench: could not install every tool; continuing without them"
  fi
  # shellcheck source=tests/bench/common.sh
  . "$here/common.sh"
  bench_stage "$0" "$here/bench_ports.sh"
  tmp=$BENCH_STAGE
  for user in ${BENCH_USERS:-${BENCH_USER:-nook-sub nook-nosub}}; do
    if ! id "$user" >/dev/null 2>&1; then
      echo "bench: no user $user (ci/prepare.sh makes nook-sub and nook-nosub)"
      continue
    fi
    kind=$(bench_user_kind "$user")
    : >"$tmp/summary-$user"
    chmod 0666 "$tmp/summary-$user"
    echo
    echo "bench: running as the unprivileged user $user ($kind)"
    bench_as "$user" BENCH_INNER=1 BENCH_ROUNDS="$rounds" BENCH_SUMMARY="$tmp/summary-$user" \
      BENCH_SEED="${BENCH_SEED:-1}" \
      bash "$tmp/bench.sh" "$tmp/bin" || echo "bench: the container benchmark could not run as $user"
    sed "s/^/  $user ($kind): /" "$tmp/summary-$user" >>"$tmp/summary"
  done
  echo
  echo "bench: start-up of 'run --rm --network none' against bubblewrap and podman:"
  cat "$tmp/summary" 2>/dev/null || echo "  (no result)"
else
  BENCH_INNER=1 BENCH_ROUNDS="$rounds" bash "$0" "$O" || echo "bench: the container benchmark could not run"
fi

# Other benchmarks (pure code, no containers): BUILD_DIR/tests/bench/bench_*.
conformance=$repo/tests/data/conformance
for b in "$O"/tests/bench/bench_*; do
  [ -x "$b" ] || continue
  case "$b" in *.o | *.d) continue ;; esac
  echo
  echo "bench: $(basename "$b") $conformance"
  "$b" "$conformance" || echo "bench: $(basename "$b") exited $?"
done

# Pull and push against podman on a loopback docker-registry (tests/bench/registry.sh).
echo
BENCH_ROUNDS=${BENCH_REGISTRY_ROUNDS:-5} "$repo/tests/bench/registry.sh" "$O" ||
  echo "bench: the registry benchmark could not run"

# save and load against podman (tests/bench/archive.sh).
echo
BENCH_ROUNDS=${BENCH_ARCHIVE_ROUNDS:-5} "$repo/tests/bench/archive.sh" "$O" ||
  echo "bench: the archive benchmark could not run"
exit 0
