# tests/bench/common.sh: what the benchmarks share (sourced by bench.sh, lifecycle.sh,
# build.sh, compose.sh, registry.sh, archive.sh).
# shellcheck shell=bash
#
# Root's side (a benchmark runs as an unprivileged user, as nook is used):
#   bench_stage FILE...     a world-readable copy of $O/nook in $BENCH_STAGE/bin, FILEs
#                           and this file beside it (the script runs from there as the
#                           user); removed on exit
#   bench_user_tmp USER     prints USER's own TMPDIR in the stage (made if missing)
#   bench_user_kind USER    prints "with a subordinate id range" or "single id"
#   bench_as USER CMD...    CMD as USER with a clean environment (HOME, USER, PATH, LANG,
#                           TMPDIR: bench_user_tmp); CMD may start with NAME=VALUE words
# The user's side:
#   bench_podman_init ROOT  P: podman with a private store ROOT, a short runroot and a
#                           runtime dir of its own in $prun (runc, overlay, cgroupfs: on the
#                           machines nook is tested on crun refuses this cgroup layout and
#                           Debian's default vfs driver would make the comparison unfair;
#                           the command-line form of containers.conf/storage.conf, so no
#                           user config is written)
#   bench_remove DIR...     podman's rootless pause process ended, DIRs removed (in a user
#                           namespace mapping the subordinate range when they hold its files)
#   bench_rootfs DIR TAR APPLET...  a busybox rootfs (the host's busybox, APPLETs linked),
#                           and TAR of it, owned by root as in an image (podman without a
#                           subordinate range maps only root)
#   bench_time FILE CMD...  CMD's wall time in microseconds appended to FILE (its output
#                           dropped); CMD's status
BENCH_COMMON=${BASH_SOURCE[0]}

bench_time() {
  local file=$1 t0 t1 rc=0
  shift
  t0=${EPOCHREALTIME/./}
  "$@" >/dev/null 2>&1 || rc=$?
  t1=${EPOCHREALTIME/./}
  echo $((t1 - t0)) >>"$file"
  return "$rc"
}

bench_stage() {
  BENCH_STAGE=$(mktemp -d /tmp/nook-bench.XXXXXX)
  # shellcheck disable=SC2064 # the stage's name now
  trap "rm -rf '$BENCH_STAGE'" EXIT
  chmod 0755 "$BENCH_STAGE"
  mkdir "$BENCH_STAGE/bin"
  cp "$O/nook" "$BENCH_STAGE/bin/nook"
  cp "$@" "$BENCH_COMMON" "$BENCH_STAGE/"
  chmod -R a+rX "$BENCH_STAGE"
}

bench_user_tmp() {
  local t=$BENCH_STAGE/tmp-$1
  if [ ! -d "$t" ]; then
    mkdir "$t"
    chown "$1" "$t"
  fi
  echo "$t"
}

bench_user_kind() {
  if grep -q "^$1:" /etc/subuid; then echo "with a subordinate id range"; else echo "single id"; fi
}

bench_as() {
  local u=$1 t
  shift
  t=$(bench_user_tmp "$u")
  runuser -u "$u" -- env -i HOME="$(getent passwd "$u" | cut -d: -f6)" USER="$u" LOGNAME="$u" \
    LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin TMPDIR="$t" "$@"
}

bench_podman_init() {
  prun=$(mktemp -d /tmp/nbp.XXXXXX)
  mkdir -m 0700 "$prun/xdg"
  # shellcheck disable=SC2034 # the caller's
  P=(env XDG_RUNTIME_DIR="$prun/xdg" podman --root "$1" --runroot "$prun/run" --storage-driver overlay
    --runtime runc --cgroup-manager cgroupfs --events-backend file)
}

bench_remove() {
  local pidf=${prun:-/nonexistent}/xdg/libpod/tmp/pause.pid range start count d pause dirs=()
  if [ -s "$pidf" ]; then
    pause=$(cat "$pidf")
    kill "$pause" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pause" 2>/dev/null || break; sleep 0.01; done
  fi
  for d in "$@"; do [ -z "$d" ] || dirs+=("$d"); done
  set -- "${dirs[@]}"
  [ $# -gt 0 ] || return 0
  # (overlayfs leaves its work/work directories mode 000 in nook's pool)
  chmod -R u+rwx "$@" 2>/dev/null || true
  rm -rf "$@" 2>/dev/null && return 0
  range=$(awk -F: -v n="$(id -un)" -v i="$(id -u)" '($1 == n || $1 == i) { print $2, $3; exit }' /etc/subuid)
  if [ -n "$range" ]; then
    read -r start count <<<"$range"
    unshare --map-root-user --map-users="$start,1,$count" --map-groups="$start,1,$count" \
      rm -rf "$@" 2>/dev/null || true
  fi
  for d in "$@"; do [ ! -e "$d" ] || echo "bench: could not remove $d entirely"; done
}

bench_rootfs() {
  local r=$1 tar=$2 l
  shift 2
  mkdir -p "$r/bin" "$r/proc" "$r/dev" "$r/tmp" "$r/etc" "$r/sys"
  cp /bin/busybox "$r/bin/busybox"
  for l in "$@"; do ln -s busybox "$r/bin/$l"; done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$r/etc/passwd"
  echo 'root:x:0:' >"$r/etc/group"
  tar -C "$r" --numeric-owner --owner=0 --group=0 -cf "$tar" .
}
