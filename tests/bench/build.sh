#!/usr/bin/env bash
# tests/bench/build.sh BUILD_DIR: image builds, nook against `podman build` and charliecloud's
# `ch-image build` (issue 17, Benchmark).  A benchmark, not a test: it fails only when it
# cannot run at all.
#
# The Dockerfile has 6 steps on the same busybox base (a rootfs of the host's busybox,
# imported into each tool): ENV, WORKDIR, COPY of a small directory (20 files), RUN
# writing a file, RUN writing 1,000 small files, CMD.  Two figures per tool, the tools
# alternating build by build:
#   cold    every step runs: nook and podman `build --no-cache`, ch-image `build --rebuild`
#           (its cache on, every step a miss: like the others it still stores the result)
#   cached  a rebuild with nothing changed (every step from the cache)
# nook is skipped with a message while its binary has no `build` command.
#
# podman runs with `--runtime runc --storage-driver overlay --cgroup-manager cgroupfs` and a
# private --root/--runroot, as in bench.sh; ch-image with its own storage directory and a
# git identity in the environment (its cache commits to git); no user config is written.
# As root: installs what is missing (ci/bench-deps.sh; NOOK_BENCH_NO_INSTALL=1 skips that),
# then runs as each of BENCH_USERS (default: BENCH_USER, default nook-sub).  Knobs:
# BENCH_ROUNDS (default 5).  Prints medians in ms, the ratios and the issue's targets
# (cold <= 0.25x podman and faster than ch-image; cached >= 20x faster than podman).
set -euo pipefail
O=$(cd "${1:-build}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
rounds=${BENCH_ROUNDS:-5}

if [ "$(id -u)" = 0 ]; then
  if [ -z "${NOOK_BENCH_NO_INSTALL:-}" ] && [ -x "$HERE/../../ci/bench-deps.sh" ]; then
    "$HERE/../../ci/bench-deps.sh" || echo "build bench: could not install every tool; going on"
  fi
  # shellcheck source=tests/bench/common.sh
  . "$HERE/common.sh"
  bench_stage "$HERE/build.sh"
  for u in ${BENCH_USERS:-${BENCH_USER:-nook-sub}}; do
    if ! id "$u" >/dev/null 2>&1; then
      echo "build bench: no user $u (ci/prepare.sh makes nook-sub and nook-nosub)"
      continue
    fi
    echo "build bench: running as the unprivileged user $u ($(bench_user_kind "$u"))"
    bench_as "$u" BENCH_ROUNDS="$rounds" bash "$BENCH_STAGE/build.sh" "$BENCH_STAGE/bin" ||
      echo "build bench: could not run as $u"
  done
  exit 0
fi

# shellcheck source=tests/bench/common.sh
. "$HERE/common.sh"
nook=$O/nook
work=$(mktemp -d "${TMPDIR:-/tmp}/nook-bbench-w.XXXXXX")
export NOOK_ROOT=$work/nook
bench_podman_init "$work/podman"
CH=(env CH_IMAGE_STORAGE="$work/ch" GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@localhost
  GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@localhost ch-image)
cleanup() { bench_remove "$work" "$prun"; }
trap cleanup EXIT

# The base: the host's busybox, owned by root as in an image.
r=$work/rootfs
bench_rootfs "$r" "$work/rootfs.tar" sh true echo mkdir cat

# The context: a small directory and the 6-step Dockerfile.
ctx=$work/ctx
mkdir -p "$ctx/src"
for i in $(seq 20); do echo "file $i" >"$ctx/src/f$i.txt"; done
cat >"$ctx/Dockerfile" <<'EOF'
FROM benchbox
ENV APP_ENV=bench
WORKDIR /app
COPY src /app/src
RUN echo built >/app/built.txt
RUN mkdir -p /app/many && cd /app/many && i=0 && while [ $i -lt 1000 ]; do echo $i >f$i; i=$((i + 1)); done
CMD ["/bin/sh"]
EOF

build_nook() { "$nook" build "$@" -q -t benchbuild -f "$ctx/Dockerfile" "$ctx"; }
build_podman() { "${P[@]}" build "$@" -q -t benchbuild -f "$ctx/Dockerfile" "$ctx"; }
build_chimage() { "${CH[@]}" build "$@" -t benchbuild -f "$ctx/Dockerfile" "$ctx"; }
cold_nook() { build_nook --no-cache; }
cold_podman() { build_podman --no-cache; }
cold_chimage() { build_chimage --rebuild; }
cached_nook() { build_nook; }
cached_podman() { build_podman; }
cached_chimage() { build_chimage; }

tools=()
if "$nook" build --help >/dev/null 2>&1; then
  if "$nook" import "$work/rootfs.tar" benchbox >"$work/nook.log" 2>&1 && cold_nook >>"$work/nook.log" 2>&1; then
    tools+=(nook)
  else
    echo "build bench: nook build fails here: $(tail -n 3 "$work/nook.log")"
  fi
else
  echo "build bench: this nook has no 'build' command yet: nook skipped"
fi
if ! command -v podman >/dev/null; then
  echo "build bench: podman is not installed (ci/bench-deps.sh): no podman figures"
elif "${P[@]}" import "$work/rootfs.tar" benchbox >"$work/podman.log" 2>&1 &&
  cold_podman >>"$work/podman.log" 2>&1; then
  tools+=(podman)
else
  echo "build bench: podman build fails here: $(tail -n 3 "$work/podman.log")"
fi
if ! command -v ch-image >/dev/null || ! command -v ch-run >/dev/null; then
  echo "build bench: ch-image/ch-run are not installed (ci/bench-deps.sh): no ch-image figures"
elif "${CH[@]}" import "$work/rootfs.tar" benchbox >"$work/ch.log" 2>&1 &&
  cold_chimage >>"$work/ch.log" 2>&1; then
  tools+=(chimage)
else
  echo "build bench: ch-image build fails here: $(tail -n 3 "$work/ch.log")"
fi
[ ${#tools[@]} -gt 0 ] || { echo "build bench: no tool can build here"; exit 1; }

# Each timed build starts from a quiet machine: podman leaves helpers behind its CLI and
# every tool leaves dirty pages; wait for this user's processes to settle and flush (untimed).
live() { ps -u "$(id -u)" -o stat= | grep -vc '^Z' || true; }
baseline=$(live)
settle() {
  for _ in $(seq 200); do
    [ "$(live)" -le "$baseline" ] && break
    sleep 0.005
  done
  sync
}
echo "build bench: $rounds rounds, cold then cached, rotating: ${tools[*]}"
failed=0
for t in "${tools[@]}"; do : >"$work/cold.$t"; : >"$work/cached.$t"; cached_"$t" >/dev/null 2>&1 || true; done
n=${#tools[@]}
for ((i = 0; i < rounds; i++)); do
  for kind in cold cached; do
    for ((j = 0; j < n; j++)); do
      t=${tools[$(((i + j) % n))]}
      settle
      bench_time "$work/$kind.$t" "${kind}_$t" || failed=$((failed + 1))
    done
  done
done
[ "$failed" = 0 ] || echo "build bench: $failed build(s) failed (timed anyway)"

median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
declare -A cold cached
printf '%-8s %12s %12s %6s\n' tool cold_ms cached_ms runs
for t in "${tools[@]}"; do
  cold[$t]=$(median "$work/cold.$t")
  cached[$t]=$(median "$work/cached.$t")
  printf '%-8s %12.1f %12.1f %6d\n' "$t" "$(awk -v x="${cold[$t]}" 'BEGIN { print x / 1000 }')" \
    "$(awk -v x="${cached[$t]}" 'BEGIN { print x / 1000 }')" "$(wc -l <"$work/cold.$t")"
done
ratio() { # ratio LABEL A B TARGET-TEXT TEST(awk, r = A / B)
  awk -v a="$2" -v b="$3" -v label="$1" -v target="$4" "BEGIN { r = a / b; ok = ($5);
    printf \"%s = %.2fx (target: %s) %s\n\", label, r, target, ok ? \"meets the target\" : \"MISSES the target\" }"
}
if [ -n "${cold[nook]:-}" ] && [ -n "${cold[podman]:-}" ]; then
  ratio "cold nook/podman" "${cold[nook]}" "${cold[podman]}" "<= 0.25x" "r <= 0.25"
  ratio "cached podman/nook" "${cached[podman]}" "${cached[nook]}" ">= 20x faster than podman" "r >= 20"
fi
if [ -n "${cold[nook]:-}" ] && [ -n "${cold[chimage]:-}" ]; then
  ratio "cold nook/ch-image" "${cold[nook]}" "${cold[chimage]}" "< 1x, faster than ch-image" "r < 1"
fi
if [ -n "${cold[podman]:-}" ] && [ -n "${cold[chimage]:-}" ]; then
  awk -v p="${cold[podman]}" -v c="${cold[chimage]}" -v pc="${cached[podman]}" -v cc="${cached[chimage]}" \
    'BEGIN { printf "(for reference) podman/ch-image: cold %.2fx, cached %.2fx\n", p / c, pc / cc }'
fi
if [[ " ${tools[*]} " != *" nook "* ]]; then
  echo "build bench: no nook figures yet; targets for nook: cold <= 0.25x podman's and below ch-image's, cached >= 20x faster than podman"
fi
exit 0
