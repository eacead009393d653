#!/usr/bin/env bash
# t-image-input.sh: files nook reads from an image on the host side (/etc/passwd,
# /etc/group) are opened without blocking, inside the image, and must be regular files:
# a FIFO must not hang `nook run` (it did, before the container existed, whatever -u said).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# A bounded run: a hang is status 124 here, never a stuck test file.
export NOOK_RUN_TIMEOUT=30

# mk_image NAME SETUP: import a rootfs of the host's static busybox after running the
# shell code SETUP in it (cwd = the rootfs).
mk_image() {
  local name=$1 setup=$2 dir=$T_SCRATCH/rootfs-$1
  mkdir -p "$dir/bin" "$dir/etc" "$dir/tmp"
  cp /bin/busybox "$dir/bin/busybox"
  for c in sh true id cat echo; do ln -s busybox "$dir/bin/$c"; done
  (cd "$dir" && eval "$setup")
  tar -C "$dir" -cf "$T_SCRATCH/$name.tar" . || return 1
  "$NOOK" import "$T_SCRATCH/$name.tar" "$name" >/dev/null
}

pw='root:x:0:0:root:/root:/bin/sh
me:x:4242:4243:me:/home/me:/bin/sh'
gr='root:x:0:
me:x:4243:'
mk_image fifopw "mkfifo etc/passwd && printf '%s\n' '$gr' > etc/group" ||
  { fail "import an image whose /etc/passwd is a FIFO"; done_testing; }
mk_image fifogr "mkfifo etc/group && printf '%s\n' '$pw' > etc/passwd" ||
  { fail "import an image whose /etc/group is a FIFO"; done_testing; }
# An absolute symlink resolves inside the image, never to the host's file.
mk_image linkpw "printf '%s\n' '$pw' > etc/mypw && ln -s ../../../../../../../etc/mypw etc/passwd" ||
  { fail "import an image whose /etc/passwd is a symlink"; done_testing; }
mk_image dirpw "mkdir etc/passwd" || { fail "import an image whose /etc/passwd is a directory"; done_testing; }

# Without -u and without a USER: as a missing /etc/passwd (Docker runs such images), warned.
# (The command must not read /etc/passwd itself: `id` would block on the FIFO, as in Docker.)
nrun run --rm fifopw sh -c 'echo "$HOME"'
check_eq "FIFO /etc/passwd, no -u: the run does not hang and succeeds" 0 "$RC"
check_eq "FIFO /etc/passwd, no -u: runs as root (HOME=/root)" /root "$OUT"
check_match "FIFO /etc/passwd, no -u: a warning names the image and the file" \
  'fifopw: /etc/passwd: not a regular file \(fifo\)' "$ERR"
nrun run --rm fifogr true
check_eq "FIFO /etc/group, no -u: the run succeeds" 0 "$RC"

# With -u: an error naming the image and the file, exit 125, at once.
nrun run --rm -u 0 fifopw true
check_eq "FIFO /etc/passwd, -u 0: exit 125 (not a hang: 124)" 125 "$RC"
check_match "FIFO /etc/passwd, -u 0: the error names image and path" \
  'fifopw: /etc/passwd: not a regular file \(fifo\)' "$ERR"
nrun run --rm -u root fifopw true
check_eq "FIFO /etc/passwd, -u root: exit 125" 125 "$RC"
nrun run --rm -u me fifogr true
check_eq "FIFO /etc/group, -u me: exit 125" 125 "$RC"
check_match "FIFO /etc/group, -u me: the error names image and path" \
  'fifogr: /etc/group: not a regular file \(fifo\)' "$ERR"
nrun run --rm -u 4242:me fifogr true
check_eq "FIFO /etc/group, -u 4242:me: exit 125" 125 "$RC"

nrun run --rm -u me dirpw true
check_eq "a directory /etc/passwd with -u: exit 125" 125 "$RC"
check_match "a directory /etc/passwd: named as such" 'dirpw: /etc/passwd: not a regular file \(directory\)' "$ERR"

nrun run --rm -u me linkpw id -u
check_eq "a symlinked /etc/passwd resolves inside the image" 4242 "$OUT"

# The regular case is unchanged.
setup_image
nrun run --rm -u nobody busybox id -u
check_eq "-u NAME from a regular /etc/passwd" 65534 "$OUT"

done_testing
