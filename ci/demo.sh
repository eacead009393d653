#!/usr/bin/env bash
# ci/demo.sh BUILD_DIR: the README's first command shows nook working (`make demo`).
# Runs as the invoking user. As root it runs as the test user nook-sub (ci/prepare.sh makes
# it), since nook is meant for normal users. The nook-userns keeper the demo's runs start
# (when the user has a subordinate range) is ended with the demo; one that was already
# running is left alone.
set -euo pipefail
O=${1:-build}
nook=$(cd "$O" && pwd)/nook
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."

if [ "$(id -u)" -eq 0 ] && [ -z "${NOOK_DEMO_AS_ROOT:-}" ]; then
  echo "demo: running as root: preparing the unprivileged user nook-sub first (ci/prepare.sh)"
  ci/prepare.sh
  # The clone may live under /root, unreadable to nook-sub: copy what the demo needs.
  tmp=$(mktemp -d /tmp/nook-demo.XXXXXX)
  trap 'rm -rf "$tmp"' EXIT
  chmod 0755 "$tmp"
  mkdir "$tmp/bin" "$tmp/root"
  cp "$nook" "$tmp/bin/nook"
  cp ci/demo.sh "$tmp/demo.sh"
  cp tests/integration/keeper.sh "$tmp/keeper.sh"
  chmod -R a+rX "$tmp"
  chown nook-sub "$tmp/root"
  home=$(getent passwd nook-sub | cut -d: -f6)
  echo "demo: you are root; nook is for normal users, so the demo runs as nook-sub"
  runuser -u nook-sub -- env -i HOME="$home" USER=nook-sub PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 NOOK_ROOT="$tmp/root" bash "$tmp/demo.sh" "$tmp/bin"
  exit
fi

# shellcheck source=tests/integration/keeper.sh
if [ -f "$here/keeper.sh" ]; then . "$here/keeper.sh"; else . "$here/../tests/integration/keeper.sh"; fi
keepers_before=$(keeper_list)
trap 'keeper_end_new "$nook" "$keepers_before"' EXIT

show() {
  printf '\n$ %s\n' "$*"
  "$@"
}

PATH="$(dirname "$nook"):$PATH"
export PATH
show nook version
show nook bootstrap busybox
show nook run --rm busybox echo hello
printf '\n$ nook run --rm busybox sh -c '\''exit 3'\''; echo $?\n'
rc=0
nook run --rm busybox sh -c 'exit 3' || rc=$?
echo "$rc"
show nook info
