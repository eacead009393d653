#!/usr/bin/env bash
# ci/deps.sh: install the Debian 12 packages nook needs to build, run and be tested.
# Installs only what is missing (checked with dpkg-query, so a prepared machine does
# no apt work); through sudo when not root. Used by `make demo` and ci/prepare.sh.
set -euo pipefail

# nettle-dev: SHA-256 (the Makefile's PKGS). libyaml-dev: the Compose loader's YAML (libyaml).
# libdeflate-dev: gzip layers inflated at once (linked statically). libc6-dev and libclang-rt-14-dev are only
# Recommends of gcc and clang (libFuzzer for `make fuzz`); we install with
# --no-install-recommends, so they are named here.
build_pkgs=(gcc libc6-dev make pkg-config libseccomp-dev libcap-dev libarchive-dev
  libcurl4-openssl-dev libjansson-dev libssl-dev nettle-dev libcmocka-dev clang libclang-rt-14-dev
  libslirp-dev libyaml-dev libdeflate-dev)
# libslirp0: the default network's user-mode stack (loaded by nook's helper, net/slirp.c).
runtime_pkgs=(uidmap slirp4netns libslirp0 fuse-overlayfs fuse3 busybox-static mmdebstrap fakechroot
  fakeroot debian-archive-keyring)
# util-linux: runuser, unshare; bsdutils: script (util-linux's, split out on Debian 12);
# coreutils: timeout.
# docker-registry, apache2-utils (htpasswd -B), openssl (a test CA): the registry tests.
# curl: the published-port tests; wrk: the published-port benchmark.
# podman, skopeo: interop of image archives (tests/integration/t-interop.sh).
# git: build's ADD of a git repository runs it (tests/integration/t-build-git.sh).
test_pkgs=(bubblewrap procps python3 util-linux bsdutils coreutils iproute2 shellcheck clang-format
  docker-registry apache2-utils openssl curl wrk podman skopeo git)

missing=()
for p in "${build_pkgs[@]}" "${runtime_pkgs[@]}" "${test_pkgs[@]}"; do
  st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$st" = installed ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all $((${#build_pkgs[@]} + ${#runtime_pkgs[@]} + ${#test_pkgs[@]})) packages already installed"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "deps: missing packages: ${missing[*]}" >&2
  echo "deps: not root and no sudo: install them as root (apt-get install ${missing[*]})" >&2
  exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  "${missing[@]}" </dev/null
echo "deps: installed ${#missing[@]} package(s)"
