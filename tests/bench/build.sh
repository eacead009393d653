#!/usr/bin/env bash
# tests/bench/build.sh BUILD_DIR: `nook build` against `podman build` (a benchmark, not a
# test: it fails only when it cannot run at all).
#
# A 6-step Dockerfile (ENV, WORKDIR, COPY of a small directory, RUN writing a file, RUN
# writing 1,000 small files, CMD) on the same busybox base (nook's bootstrap, loaded into
# podman): cold (--no-cache) and fully cached, BENCH_RUNS times each (default 10),
# medians in ms. Podman as in bench.sh (runc, overlay, cgroupfs, private --root/--runroot).
# Targets (issue 17): cold <= 0.25x podman's time; cached >= 20x faster than podman.
# As root it runs as BENCH_USER (default nook-sub).
set -euo pipefail
O=${1:-build}
runs=${BENCH_RUNS:-10}

if [ -z "${BENCH_INNER:-}" ]; then
  here=$(cd "$(dirname "$0")" && pwd)
  O=$(cd "$O" && pwd)
  if [ "$(id -u)" -ne 0 ]; then
    BENCH_INNER=1 exec bash "$here/build.sh" "$O"
  fi
  user=${BENCH_USER:-nook-sub}
  tmp=$(mktemp -d /tmp/nook-benchb.XXXXXX)
  trap 'rm -rf "$tmp"' EXIT
  chmod 0755 "$tmp"
  mkdir "$tmp/bin" "$tmp/tmp"
  cp "$O/nook" "$tmp/bin/nook"
  cp "$here/build.sh" "$tmp/build.sh"
  chmod -R a+rX "$tmp"
  chown "$user" "$tmp/tmp"
  home=$(getent passwd "$user" | cut -d: -f6)
  echo "bench: build, as the unprivileged user $user"
  runuser -u "$user" -- env -i HOME="$home" USER="$user" LOGNAME="$user" LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin TMPDIR="$tmp/tmp" \
    BENCH_INNER=1 BENCH_RUNS="$runs" bash "$tmp/build.sh" "$tmp/bin"
  exit
fi

nook=$O/nook
work=$(mktemp -d "${TMPDIR:-/tmp}/nook-benchb.XXXXXX")
prun=$(mktemp -d /tmp/nbb.XXXXXX)
export NOOK_ROOT=$work/store
mkdir -m 0700 "$prun/xdg"
P=(env XDG_RUNTIME_DIR="$prun/xdg" podman --root "$work/podman/root" --runroot "$prun/run"
  --storage-driver overlay --runtime runc --cgroup-manager cgroupfs --events-backend file)
cleanup() {
  if command -v podman >/dev/null; then "${P[@]}" system reset -f >/dev/null 2>&1 || true; fi
  local pidf=$prun/xdg/libpod/tmp/pause.pid
  if [ -s "$pidf" ]; then kill "$(cat "$pidf")" 2>/dev/null || true; fi
  rm -rf "$prun" 2>/dev/null || true
  "$nook" builder prune -f >/dev/null 2>&1 || true
  # shellcheck disable=SC2046 # one ID a word
  "$nook" rmi -f $("$nook" images -q 2>/dev/null) >/dev/null 2>&1 || true
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT

ctx=$work/ctx
mkdir -p "$ctx/files"
for i in $(seq 1 20); do echo "$i" >"$ctx/files/f$i"; done
cat >"$ctx/Dockerfile" <<'EOF'
FROM docker.io/library/busybox
ENV APP=bench
WORKDIR /app
COPY files /app/files
RUN echo hello > /app/hello.txt
RUN mkdir /app/many && cd /app/many && i=0; while [ $i -lt 1000 ]; do echo $i > f$i; i=$((i+1)); done
CMD ["cat", "/app/hello.txt"]
EOF
"$nook" bootstrap busybox >/dev/null
tools=(nook)
if command -v podman >/dev/null && "$nook" save -o "$work/bb.tar" busybox &&
  "${P[@]}" load -i "$work/bb.tar" >/dev/null 2>&1; then
  tools+=(podman)
else
  echo "bench: podman is not usable here: nook alone"
fi

# median_ms CMD...: run CMD $runs times, print the median wall time in ms
median_ms() {
  local t0 t1 i
  local -a ts=()
  for i in $(seq "$runs"); do
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s%N)
    ts+=("$(((t1 - t0) / 1000))")
  done
  printf '%s\n' "${ts[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "%.1f", a[int((NR + 1) / 2)] / 1000 }'
}

declare -A cold cached
for t in "${tools[@]}"; do
  if [ "$t" = nook ]; then B=("$nook" build -q); else B=("${P[@]}" build -q); fi
  "${B[@]}" "$ctx" >/dev/null 2>&1
  cold[$t]=$(median_ms "${B[@]}" --no-cache "$ctx")
  cached[$t]=$(median_ms "${B[@]}" "$ctx")
  printf 'build %-7s cold %8s ms   cached %8s ms\n' "$t" "${cold[$t]}" "${cached[$t]}"
done
if [ -n "${cold[podman]:-}" ]; then
  awk -v nc="${cold[nook]}" -v pc="${cold[podman]}" -v nk="${cached[nook]}" -v pk="${cached[podman]}" 'BEGIN {
    printf "cold: nook/podman = %.2fx (target <= 0.25x)\n", nc / pc
    printf "cached: podman/nook = %.0fx faster (target >= 20x)\n", pk / nk }'
fi
