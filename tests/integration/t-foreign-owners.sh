#!/usr/bin/env bash
# t-foreign-owners.sh: a layer whose files belong to other ids (42, 1000), with device
# nodes, a FIFO, a setuid file and a hard link imports, unpacks and runs for both kinds
# of user; its blob (the record of owners, what save and push write) stays byte for
# byte what was imported; device nodes are not created (nobody here can) and /dev
# inside is nook's. With a range the owners show inside; with the single-id map every
# file is the container user's, and the unpacked files and directories carry the
# owners in user.containers.override_stat (symlinks and FIFOs cannot: the kernel
# refuses user.* xattrs on them), never as the only record.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || skip_all "python3 is needed to write the test layer"
[ -x /bin/busybox ] || skip_all "busybox-static is needed (/bin/busybox)"
export NOOK_RUN_TIMEOUT=60

tarball=$T_SCRATCH/foreign.tar
python3 - "$tarball" <<'EOF'
import io, sys, tarfile
out = tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT)
def add(name, kind=tarfile.REGTYPE, mode=0o644, uid=0, gid=0, data=b"", **kw):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.uid, ti.gid, ti.mtime = kind, mode, uid, gid, 1700000000
    ti.uname = ti.gname = ""
    for k, v in kw.items():
        setattr(ti, k, v)
    if kind == tarfile.REGTYPE:
        ti.size = len(data)
        out.addfile(ti, io.BytesIO(data))
    else:
        out.addfile(ti)
add("bin", tarfile.DIRTYPE, 0o755)
add("bin/busybox", mode=0o755, data=open("/bin/busybox", "rb").read())
for a in ("sh", "cat", "stat", "test", "ls", "id"):
    add("bin/" + a, tarfile.SYMTYPE, 0o777, linkname="busybox")
add("bin/su", mode=0o4755, data=b"#!/bin/sh\necho su\n")
add("bin/su2", tarfile.LNKTYPE, 0o4755, linkname="bin/su")
add("etc", tarfile.DIRTYPE, 0o755)
add("etc/shadow", mode=0o640, gid=42, data=b"root:*:1::::::\n")
add("home", tarfile.DIRTYPE, 0o755)
add("home/u", tarfile.DIRTYPE, 0o700, uid=1000, gid=1000)
add("home/u/f", mode=0o600, uid=1000, gid=1000, data=b"hello\n")
add("home/u/l", tarfile.SYMTYPE, 0o777, uid=1000, gid=1000, linkname="f")
add("dev", tarfile.DIRTYPE, 0o755)
add("dev/console", tarfile.CHRTYPE, 0o600, devmajor=5, devminor=1)
add("dev/sda", tarfile.BLKTYPE, 0o660, gid=6, devmajor=8, devminor=0)
add("run", tarfile.DIRTYPE, 0o755)
add("run/fifo", tarfile.FIFOTYPE, 0o620, uid=1000, gid=42)
add("var", tarfile.DIRTYPE, 0o755)
add("var/cache", tarfile.DIRTYPE, 0o700, uid=42)
add("var/cache/x", uid=42, data=b"x\n")
out.close()
EOF
[ -s "$tarball" ] || { fail "write the test layer with python3 tarfile"; done_testing; }

nrun import "$tarball" foreign:1
check_eq "a layer of other owners, devices, a FIFO and a setuid file imports" 0 "$RC"

# The layer blob of an image, from the store's index and manifest.
layer_blob() {
  python3 - "$NOOK_ROOT" "$1" <<'EOF'
import json, os, sys
root, ref = sys.argv[1], sys.argv[2]
blobs = os.path.join(root, "blobs", "sha256")
idx = json.load(open(os.path.join(root, "index.json")))
for m in idx["manifests"]:
    if m.get("annotations", {}).get("org.opencontainers.image.ref.name", "").endswith("/" + ref):
        man = json.load(open(os.path.join(blobs, m["digest"].split(":")[1])))
        print(os.path.join(blobs, man["layers"][0]["digest"].split(":")[1]))
        break
EOF
}
blob=$(layer_blob foreign:1)
check "the layer blob is byte for byte the imported tar (what save and push write)" \
  cmp "$blob" "$tarball"
listing=$(tar -tvf "$blob" 2>&1)
check_match "the blob records etc/shadow as 0/42" '-rw-r----- 0/42 .* etc/shadow' "$listing"
check_match "the blob records home/u/f as 1000/1000" '-rw------- 1000/1000 .* home/u/f' "$listing"
check_match "the blob keeps the FIFO (1000/42)" 'prw--w---- 1000/42 .* run/fifo' "$listing"
check_match "the blob keeps the char device" 'crw------- 0/0 +5,1 .* dev/console' "$listing"
check_match "the blob keeps the block device" 'brw-rw---- 0/6 +8,0 .* dev/sda' "$listing"
check_match "the blob keeps the setuid bit" '-rwsr-xr-x 0/0 .* bin/su' "$listing"

nrun run --rm foreign:1 sh -c 'cat /home/u/f; cat /var/cache/x; test -p /run/fifo && echo fifo;
  stat -c "%a %u:%g %h" /etc/shadow /home/u /home/u/f /run/fifo /bin/su /var/cache/x'
check_eq "the image runs" 0 "$RC"
stats=$(sed -n '4,$p' <<<"$OUT")
check_eq "its files are readable inside; the FIFO is a FIFO" "hello${NL}x${NL}fifo" \
  "$(sed -n '1,3p' <<<"$OUT")"
if [ "$NOOK_TEST_USER_KIND" = range ]; then
  check_eq "with a range, the image's owners show inside" \
    "640 0:42 1${NL}700 1000:1000 2${NL}600 1000:1000 1${NL}620 1000:42 1${NL}4755 0:0 2${NL}644 42:0 1" \
    "$stats"
else
  # every file is the container user's on disk; the credential emulation shows the owners
  # extraction recorded (user.containers.override_stat), but a FIFO carries no user xattr
  check_eq "single id: the image's owners show inside (emulated; not a FIFO's); modes stay" \
    "640 0:42 1${NL}700 1000:1000 2${NL}600 1000:1000 1${NL}620 0:0 1${NL}4755 0:0 2${NL}644 42:0 1" \
    "$stats"
fi
# The copy-up driver copies the layers into the container: the same modes and owners.
# (Hard links are copied as separate files: the link count is left out.)
nrun --storage-driver copy-up run --rm foreign:1 sh -c \
  'stat -c "%a %u:%g" /etc/shadow /home/u /home/u/f /run/fifo /bin/su /var/cache/x'
check_eq "copy-up: the copies keep modes (a FIFO's too) and the owners this user has" \
  "$(sed 's/ [0-9]*$//' <<<"$stats")" "$OUT"
nrun run --rm -u 1000 foreign:1 sh -c 'id -u; cat /home/u/f'
check_eq "-u 1000 reads its home, whatever the kind of user" "1000${NL}hello" "$OUT"

# Devices: not created in the unpacked layer, /dev inside is nook's.
nrun run --rm foreign:1 sh -c 'test -e /dev/sda && echo sda; stat -c "%F %t,%T" /dev/null'
check_eq "no device of the layer inside; /dev/null is nook's (char 1,3)" \
  "character special file 1,3" "$OUT"
layer=$(find "$NOOK_ROOT/layers" -mindepth 1 -maxdepth 1 -type d | head -n 1)
if [ "$NOOK_TEST_USER_KIND" = single ]; then
  check "the unpacked layer has its dev directory" test -d "$layer/dev"
  check_eq "no device node was created in the unpacked layer" "" \
    "$(find "$layer/dev" -mindepth 1 2>&1)"
  xattrs=$(python3 - "$layer" <<'EOF'
import os, sys
for p in ("etc/shadow", "home/u", "home/u/f", "var/cache", "bin/su", "run/fifo", "home/u/l"):
    try:
        v = os.getxattr(os.path.join(sys.argv[1], p), "user.containers.override_stat",
                        follow_symlinks=False).decode()
    except OSError as e:
        v = "none"
    print(p, v)
EOF
  )
  check_eq "single id: files and directories carry their owners in override_stat" \
    "etc/shadow 0:42:0640${NL}home/u 1000:1000:0700${NL}home/u/f 1000:1000:0600${NL}var/cache 42:0:0700${NL}bin/su none${NL}run/fifo none${NL}home/u/l none" \
    "$xattrs"
fi

# nook info says what this user sees of an image's owners.
nrun info
if [ "$NOOK_TEST_USER_KIND" = single ]; then
  check_match "nook info: single id, image files are the container user's" \
    "Image file owners: the container user's, all of them .*the layers keep the image's owners" "$OUT"
else
  check_match "nook info: with a range, image owners as the image says" \
    "Image file owners: as the image says" "$OUT"
fi

done_testing
