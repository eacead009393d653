#!/usr/bin/env bash
# t-archive.sh: `nook save` and `nook load`: save -> rmi -> load keeps the image ID and the
# layers' diff IDs (docker-archive, oci-archive, oci-dir, gzip, stdin/stdout, several images
# in one archive); bad archives (truncated, not a tar, no manifest, a blob whose digest or
# size is wrong, a missing blob, a wrong diff ID, layers with "..", absolute names, links out
# of the root) fail with exit 1 and a message naming the archive and the entry, and leave the
# store exactly as it was.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image
mk=$(dirname "$0")/mkarchive.py
S=$T_SCRATCH

id=$("$NOOK" images -q --no-trunc busybox)
layers() { "$NOOK" inspect "$1" | tr -d ' \n' | grep -o '"Layers":\[[^]]*\]'; }
want_layers=$(layers busybox)
check_match "inspect shows busybox's diff IDs" '"Layers":\["sha256:[0-9a-f]{64}"\]' "$want_layers"

# ---- round trips ----
check_status "save -o busybox.tar" 0 save -o "$S/bb.tar" busybox
check_match "a docker-archive: manifest.json, the config, a layer.tar, repositories" \
  "manifest.json.*repositories|repositories.*manifest.json" "$(tar tf "$S/bb.tar" | tr '\n' ' ')"
check_match "manifest.json names the full tag, as podman and skopeo write it" \
  '"RepoTags":\["docker.io/library/busybox:latest"\]' "$(tar xOf "$S/bb.tar" manifest.json)"
check_status "rmi busybox" 0 rmi busybox
check_status "load -i busybox.tar" 0 load -i "$S/bb.tar"
check_eq "load says what it loaded" "Loaded image: busybox:latest" "$OUT"
check_eq "the image ID is unchanged" "$id" "$("$NOOK" images -q --no-trunc busybox)"
check_eq "the diff IDs are unchanged" "$want_layers" "$(layers busybox)"
check_status "the loaded image runs" 0 run --rm --pull never busybox true
check_status "a second load of the same archive" 0 load -i "$S/bb.tar"
check_eq "adds no second entry for the same image" 1 "$("$NOOK" images -q | wc -l)"

"$NOOK" save busybox | gzip >"$S/bb.tar.gz"
"$NOOK" rmi busybox >/dev/null
NRUN_STDIN=$S/bb.tar.gz nrun load
check_eq "save | gzip | load (stdin) works" "0 Loaded image: busybox:latest" "$RC $OUT"
check_eq "and keeps the image ID" "$id" "$("$NOOK" images -q --no-trunc busybox)"
# A producer that writes past the archive's end (tar's record padding) is not cut off:
# load reads its stdin to the end (it exited at the end marker, and the writer got SIGPIPE).
(
  set -o pipefail
  { cat "$S/bb.tar"; head -c 1048576 /dev/zero; } | timeout -k 5 60 "$NOOK" load >"$S/pad.out" 2>&1
)
rc=$?
check_eq "an archive followed by 1 MiB of padding on stdin: the pipeline succeeds" \
  "0 Loaded image: busybox:latest" "$rc $(cat "$S/pad.out")"

check_status "save --format oci-archive" 0 save --format oci-archive -o "$S/bb-oci.tar" busybox
check_match "an OCI layout with Docker's annotations" \
  '"io.containerd.image.name":"docker.io/library/busybox:latest","org.opencontainers.image.ref.name":"latest"' \
  "$(tar xOf "$S/bb-oci.tar" index.json)"
"$NOOK" rmi busybox >/dev/null
check_status "load of the oci-archive" 0 load -i "$S/bb-oci.tar"
check_eq "keeps the ID" "$id" "$("$NOOK" images -q --no-trunc busybox)"
check_status "save --format oci-dir -o DIR" 0 save --format oci-dir -o "$S/ocidir" busybox
check "the directory is an OCI layout" test -f "$S/ocidir/oci-layout" -a -f "$S/ocidir/index.json"
check_status "oci-dir into a non-empty directory is refused" 1 save --format oci-dir -o "$S/ocidir" busybox
check_status "an unknown --format is a usage error (125)" 125 save --format zip -o "$S/x.tar" busybox
check_match "naming the formats" "docker-archive.*oci-archive.*oci-dir" "$ERR"

# Several images in one archive; a tag of a repository; saving by ID (no tag).
"$NOOK" tag busybox lab/one:1
"$NOOK" tag busybox lab/one:2
check_status "save of two references" 0 save -o "$S/two.tar" lab/one busybox:latest
check_match "a name without tag saves every tag of the repository" \
  'lab/one:1.*lab/one:2.*busybox:latest' "$(tar xOf "$S/two.tar" manifest.json)"
"$NOOK" rmi -f "$id" >/dev/null
check_status "load of it" 0 load -i "$S/two.tar"
check_eq "every tag is back" "busybox:latest lab/one:1 lab/one:2" \
  "$(printf '%s\n' "$OUT" | sed 's/^Loaded image: //' | sort | tr '\n' ' ' | sed 's/ $//')"
check_status "save by ID" 0 save -o "$S/byid.tar" "${id:7:12}"
check_match "has no RepoTags" '"RepoTags":null' "$(tar xOf "$S/byid.tar" manifest.json)"
check_status "save of a missing image fails (1)" 1 save -o "$S/none.tar" nosuch:1
check_eq "with Docker's message" "Error: No such image: nosuch:1" "$ERR"
check "and leaves no file" test ! -e "$S/none.tar"

# ---- archives nook did not write ----
python3 "$mk" good "$S/good.tar"
mkdir -p "$S/tiny/etc" && echo x >"$S/tiny/etc/x" && tar -C "$S/tiny" -cf "$S/tiny.tar" .
old=$("$NOOK" import "$S/tiny.tar" mk/good:1)
check_status "a hand-made docker-archive (links inside the root)" 0 load -i "$S/good.tar"
check_eq "its tag, taken from the image that had it, as Docker says" \
  "The image mk/good:1 already exists, renaming the old one with ID $old to empty string${NL}Loaded image: mk/good:1" "$OUT"
check_match "its file is there, through its symlink" "read=ok.bytes=6" \
  "$("$NOOK" run --rm --pull never -v "$(probe_vol)" mk/good:1 /probe read /etc/up | tr '\n' .)"
python3 "$mk" docker25 "$S/d25.tar"
check_status "a docker-archive as Docker >= 25 writes it (OCI layout inside, a symlinked layer)" \
  0 load -i "$S/d25.tar"
check_eq "its tag" "Loaded image: mk/docker25:1" "$OUT"
check_match "runs" "read=ok.bytes=6" \
  "$("$NOOK" run --rm --pull never -v "$(probe_vol)" mk/docker25:1 /probe read /etc/hello | tr '\n' .)"
python3 "$mk" gzip-layer "$S/gzl.tar"
check_status "a docker-archive with a gzip layer" 0 load -i "$S/gzl.tar"
check_match "runs" "read=ok.bytes=6" \
  "$("$NOOK" run --rm --pull never -v "$(probe_vol)" mk/gzip-layer:1 /probe read /etc/hello | tr '\n' .)"

# ---- bad input: exit 1, a clear message, the store unchanged ----
state() { (cd "$NOOK_ROOT" && cat index.json && ls blobs/sha256 && ls -A tmp 2>/dev/null) | sha256sum; }
bad() {
  local desc=$1 file=$2 re=$3 before
  before=$(state)
  nrun load -i "$file"
  check_eq "$desc: exit 1" 1 "$RC"
  check_match "$desc: the message" "$re" "$ERR"
  check_eq "$desc: the store is unchanged" "$before" "$(state)"
}
head -c 3000 "$S/bb.tar" >"$S/trunc.tar"
bad "a truncated archive" "$S/trunc.tar" "^Error: '.*trunc.tar': truncated or corrupt archive"
head -c 2000 "$S/bb.tar.gz" >"$S/trunc.tar.gz"
bad "a truncated gzip archive" "$S/trunc.tar.gz" "^Error: '.*trunc.tar.gz'.*truncated"
echo "not an archive at all" >"$S/text.tar"
bad "not a tar" "$S/text.tar" "^Error: '.*text.tar' is not an image archive"
mkdir -p "$S/rootfs/etc" && echo x >"$S/rootfs/etc/x" && tar -C "$S/rootfs" -cf "$S/rootfs.tar" .
bad "a tarball without manifest.json or index.json" "$S/rootfs.tar" \
  "has neither manifest.json nor index.json.*nook import"
python3 "$mk" oci-digest "$S/digest.tar" "$S/bb-oci.tar"
bad "a manifest whose digest does not match" "$S/digest.tar" \
  "'.*digest.tar': blob 'blobs/sha256/[0-9a-f]{64}' does not match its digest"
python3 "$mk" oci-size "$S/size.tar" "$S/bb-oci.tar"
bad "a blob of the wrong size" "$S/size.tar" "has [0-9]+ bytes but its descriptor says [0-9]+"
python3 "$mk" oci-missing "$S/missing.tar" "$S/bb-oci.tar"
bad "a missing layer blob" "$S/missing.tar" "layer 0 of manifest sha256:[0-9a-f]+ 'blobs/sha256/[0-9a-f]{64}' is not in the archive"
python3 "$mk" diffid "$S/diffid.tar"
bad "a layer whose diff ID is not the config's" "$S/diffid.tar" \
  "layer 'l1/layer.tar' has diff ID sha256:[0-9a-f]{64}, but the image config says sha256:0{64}"
python3 "$mk" dotdot "$S/dotdot.tar"
bad "a layer with '..'" "$S/dotdot.tar" \
  "'.*dotdot.tar': layer 'l1/layer.tar': entry 'etc/../../evil': its name has a '..' component"
python3 "$mk" absolute "$S/absolute.tar"
bad "a layer with an absolute name" "$S/absolute.tar" \
  "layer 'l1/layer.tar': entry '/etc/evil': absolute member names are refused"
python3 "$mk" symlink-out "$S/symlink.tar"
bad "a symlink out of the root" "$S/symlink.tar" \
  "entry 'etc/esc': its symbolic link target '../../evil' points out of the root"
python3 "$mk" hardlink-out "$S/hardlink.tar"
bad "a hard link out of the root" "$S/hardlink.tar" \
  "entry 'etc/hard': its hard link target has a '..' component"
check "nothing was written outside the store" test ! -e "$S/evil" -a ! -e "$NOOK_ROOT/evil"
out=$(script -qec "$NOOK save busybox" /dev/null </dev/null 2>&1)
check_match "save to a terminal is refused, as Docker does" \
  "cowardly refusing to save to a terminal. Use the -o flag or redirect" "$out"
out=$(script -qec "$NOOK load" /dev/null </dev/null 2>&1)
check_match "load from a terminal is refused, as Docker does" \
  "requested load from stdin, but stdin is empty" "$out"
check_status "load with an argument is a usage error (1)" 1 load "$S/bb.tar"
check_status "a missing file" 1 load -i "$S/nosuch.tar"
check_match "is named" "open '.*nosuch.tar'" "$ERR"

nrun system check
check_eq "system check is clean after all that" 0 "$RC"
check_match "with no problem" " 0 problems" "$OUT"
done_testing
