#!/usr/bin/env bash
# ci/bench-deps.sh: the other tools `make bench` compares nook with (Debian 12 packages),
# installed only when missing; as root (or through sudo).  Not part of ci/deps.sh: the
# tests do not need them, and charliecloud-builders depends on docker.io, containerd and
# buildah (installed, never started here).
#   wrk, curl             bench_ports.sh (published ports: requests/s, a 100 MiB download)
#   podman, runc          bench.sh, lifecycle.sh, registry.sh, archive.sh, build.sh
#   charliecloud-builders ch-image (build.sh); charliecloud-runtime: its ch-run
#   podman-compose        compose.sh (1.0.3 in Debian 12)
set -euo pipefail
pkgs=(podman runc wrk curl charliecloud-builders charliecloud-runtime git podman-compose)
missing=()
for p in "${pkgs[@]}"; do
  st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$st" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "bench-deps: missing ${missing[*]}; not root and no sudo" >&2
  exit 1
fi
echo "bench-deps: installing ${missing[*]} (for the comparisons of make bench)"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  "${missing[@]}" </dev/null >/dev/null
