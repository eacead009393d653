#!/usr/bin/env bash
# ci/prepare.sh: prepare this machine for nook's tests (the `prepare` target of `make test`).
# Idempotent and quick when already done. Prints one line per thing it checked or did.
#  - the Debian packages (ci/deps.sh)
#  - test user nook-sub: has a subordinate id range (>= 65536) in /etc/subuid and /etc/subgid
#  - test user nook-nosub: has none (Debian 12's useradd adds one: it is removed here)
#  - /dev/fuse and /dev/net/tun mode 0666 (stock Debian's; some machines ship 0600)
#  - unprivileged user namespaces are enabled (says so loudly if not)
#  - a cgroup freezer delegated to each test user (pause; cmd/freezer.h): a v1 freezer
#    subtree /sys/fs/cgroup/freezer/nook-USER and/or a v2 cgroup nook-test/USER (the
#    integration runner puts the user's tests in it); the outcome goes to
#    /run/nook-test-freezer ("v1 v2", or "impossible: why"), which `make test` passes to
#    the tests as NOOK_TEST_FREEZER (loud when impossible)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

"$here/deps.sh"

if [ "$(id -u)" -eq 0 ]; then
  as_root() { "$@"; }
elif command -v sudo >/dev/null 2>&1; then
  as_root() { sudo "$@"; }
else
  echo "prepare: not root and no sudo: run 'ci/prepare.sh' as root once" >&2
  exit 1
fi

SUB_USER=nook-sub
NOSUB_USER=nook-nosub
MIN_RANGE=65536

ensure_user() {
  local u=$1
  if getent passwd "$u" >/dev/null; then
    echo "prepare: user $u exists"
  else
    as_root useradd -m -s /bin/bash "$u"
    echo "prepare: created user $u"
  fi
  local home
  home=$(getent passwd "$u" | cut -d: -f6)
  if [ ! -d "$home" ]; then
    as_root mkdir -p "$home"
    as_root chown "$u:$(id -gn "$u")" "$home"
    as_root chmod 0750 "$home"
    echo "prepare: created home $home for $u"
  fi
}

# Largest size of the entries for user $1 (by name or uid) in file $2; 0 if none.
range_size() {
  local u=$1 f=$2 uid
  uid=$(id -u "$u")
  [ -r "$f" ] || { echo 0; return; }
  awk -F: -v n="$u" -v i="$uid" 'BEGIN { m = 0 }
    ($1 == n || $1 == i) && $3 + 0 > m { m = $3 + 0 } END { print m }' "$f"
}

# First start id >= 100000 after every range already in $1.
next_free_start() {
  local f=$1
  if [ -r "$f" ]; then
    awk -F: 'BEGIN { m = 100000 } NF >= 3 && $2 + $3 > m { m = $2 + $3 } END { print m }' "$f"
  else
    echo 100000
  fi
}

ensure_range() {
  local u=$1 kind=$2 f=/etc/sub$2 size start
  size=$(range_size "$u" "$f")
  if [ "$size" -ge "$MIN_RANGE" ]; then
    echo "prepare: $u has a subordinate ${kind} range of $size in $f"
    return
  fi
  [ -e "$f" ] || as_root touch "$f"
  start=$(next_free_start "$f")
  as_root usermod "--add-sub${kind}s" "$start-$((start + MIN_RANGE - 1))" "$u"
  echo "prepare: added subordinate ${kind} range $start-$((start + MIN_RANGE - 1)) for $u in $f"
}

remove_range() {
  local u=$1 f=/etc/sub$2 uid
  uid=$(id -u "$u")
  if [ -r "$f" ] && grep -qE "^($u|$uid):" "$f"; then
    as_root sed -i -E "/^($u|$uid):/d" "$f"
    echo "prepare: removed $u's entries from $f"
  else
    echo "prepare: $u has no entry in $f (as intended)"
  fi
}

ensure_user "$SUB_USER"
ensure_user "$NOSUB_USER"
ensure_range "$SUB_USER" uid
ensure_range "$SUB_USER" gid
remove_range "$NOSUB_USER" uid
remove_range "$NOSUB_USER" gid

# Device nodes: fuse-overlayfs needs /dev/fuse, slirp4netns /dev/net/tun (inside the userns).
ensure_dev() {
  local path=$1 major=$2 minor=$3 mode
  if [ ! -e "$path" ]; then
    as_root mkdir -p "$(dirname "$path")"
    if as_root mknod -m 0666 "$path" c "$major" "$minor"; then
      echo "prepare: created $path (c $major $minor) mode 0666"
    else
      echo "prepare: WARNING: could not create $path (c $major $minor)" >&2
    fi
    return
  fi
  mode=$(stat -c %a "$path")
  if [ "$mode" = 666 ]; then
    echo "prepare: $path is mode 0666"
  elif as_root chmod 0666 "$path"; then
    echo "prepare: $path mode $mode -> 0666"
  else
    echo "prepare: WARNING: could not chmod $path (mode $mode)" >&2
  fi
}
ensure_dev /dev/fuse 10 229
ensure_dev /dev/net/tun 10 200

# User namespaces: the whole of nook depends on them.
loud() {
  echo "prepare: ************************************************************" >&2
  echo "prepare: $*" >&2
  echo "prepare: ************************************************************" >&2
}
userns_ok=1
if [ -r /proc/sys/kernel/unprivileged_userns_clone ] &&
  [ "$(cat /proc/sys/kernel/unprivileged_userns_clone)" = 0 ]; then
  loud "kernel.unprivileged_userns_clone = 0: unprivileged user namespaces are OFF (sysctl -w kernel.unprivileged_userns_clone=1)"
  userns_ok=0
fi
maxns=$(cat /proc/sys/user/max_user_namespaces 2>/dev/null || echo missing)
if [ "$maxns" = 0 ] || [ "$maxns" = missing ]; then
  loud "user.max_user_namespaces = $maxns: user namespaces are OFF (sysctl -w user.max_user_namespaces=15000)"
  userns_ok=0
fi
if [ -r /proc/sys/kernel/apparmor_restrict_unprivileged_userns ] &&
  [ "$(cat /proc/sys/kernel/apparmor_restrict_unprivileged_userns)" = 1 ]; then
  loud "kernel.apparmor_restrict_unprivileged_userns = 1: AppArmor restricts unprivileged user namespaces"
  userns_ok=0
fi
if [ "$userns_ok" = 1 ]; then
  if as_root runuser -u "$SUB_USER" -- unshare -U true 2>/dev/null; then
    echo "prepare: unprivileged user namespaces work (max_user_namespaces $maxns; unshare -U as $SUB_USER)"
  else
    loud "unshare -U as $SUB_USER failed: unprivileged user namespaces do not work here"
  fi
fi

# The cgroup freezer (pause): delegate a subtree to each test user (and to the users of
# NOOK_TEST_USERS). v1: a directory of the freezer hierarchy chowned to the user; v2: a
# cgroup under nook-test/ whose directory and cgroup.procs/threads/subtree_control the user
# owns (the integration runner, as root, moves each test there).
delegate_freezer() {
  local users=("$SUB_USER" "$NOSUB_USER") done_v1=0 done_v2=0 why=() u v1=/sys/fs/cgroup/freezer v2
  read -r -a extra <<<"${NOOK_TEST_USERS:-}"
  for u in "${extra[@]}"; do
    [[ " ${users[*]} " == *" $u "* ]] || ! getent passwd "$u" >/dev/null || users+=("$u")
  done
  v2=$(awk '{ for (i = 1; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2" && $4 == "/") print $5; break } }' /proc/self/mountinfo | head -1)
  if grep -qw freezer /proc/self/mountinfo 2>/dev/null && [ -e "$v1/tasks" ]; then
    done_v1=1
    for u in "${users[@]}"; do
      if as_root mkdir -p "$v1/nook-$u" && as_root chown -R "$u:$(id -gn "$u")" "$v1/nook-$u"; then
        echo "prepare: v1 freezer $v1/nook-$u delegated to $u"
      else
        done_v1=0
        why+=("could not delegate $v1/nook-$u")
      fi
    done
  else
    why+=("no cgroup v1 freezer hierarchy at $v1")
  fi
  if [ -n "$v2" ] && as_root mkdir -p "$v2/nook-test" 2>/dev/null && [ -e "$v2/nook-test/cgroup.freeze" ]; then
    done_v2=1
    for u in "${users[@]}"; do
      if as_root mkdir -p "$v2/nook-test/$u" &&
        as_root chown "$u:$(id -gn "$u")" "$v2/nook-test/$u" "$v2/nook-test/$u/cgroup.procs" \
          "$v2/nook-test/$u/cgroup.threads" "$v2/nook-test/$u/cgroup.subtree_control"; then
        echo "prepare: v2 cgroup $v2/nook-test/$u delegated to $u"
      else
        done_v2=0
        why+=("could not delegate $v2/nook-test/$u")
      fi
    done
  else
    why+=("no cgroup v2 with a freezer (cgroup.freeze) where root can make nook-test/${v2:+ (under $v2)}")
  fi
  local out=""
  [ "$done_v1" = 1 ] && out="v1"
  [ "$done_v2" = 1 ] && out="${out:+$out }v2"
  if [ -z "$out" ]; then
    out="impossible: ${why[*]}"
    loud "no cgroup freezer could be delegated to the test users: $out"
  fi
  echo "$out" | as_root tee /run/nook-test-freezer >/dev/null
  echo "prepare: freezer delegation: $out (/run/nook-test-freezer)"
}
delegate_freezer
