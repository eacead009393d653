#!/usr/bin/env bash
# t-layer-errors.sh: a layer that is not what it claims, in an archive: the error names the
# archive and the layer, in words (no errno text after them), and nothing is added.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || skip_all "python3 is not installed"
setup_image

python3 - "$T_SCRATCH/bad.tar" <<'PY'
import io, json, sys, tarfile
def add(t, name, data):
    ti = tarfile.TarInfo(name); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
cfg = json.dumps({"architecture": "amd64", "os": "linux",
                  "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "0" * 64]}}).encode()
with tarfile.open(sys.argv[1], "w") as t:
    add(t, "cfg.json", cfg)
    add(t, "l/layer.tar", b"\x1f\x8b\x08\x00not gzip at all" * 10)
    add(t, "manifest.json", json.dumps([{"Config": "cfg.json", "RepoTags": ["bad:1"],
                                         "Layers": ["l/layer.tar"]}]).encode())
PY
nrun load -i "$T_SCRATCH/bad.tar"
check_eq "load of an archive whose layer is not gzip exits 1" 1 "$RC"
check_match "... naming the archive and the layer" "bad.tar': layer 'l/layer.tar': " "$ERR"
check_no_match "... in words, without an errno text" "Invalid argument|Input/output error" "$ERR"
nrun images -q bad:1
check_eq "... and adds nothing" "" "$OUT"

# ---- a save from a store whose layer blob went bad ----
export NOOK_ROOT=$T_SCRATCH/store
check_status "a store of its own" 0 bootstrap busybox
nrun inspect --format '{{json .}}' busybox
manifest=$(find "$NOOK_ROOT/blobs/sha256" -type f -size -4k -exec grep -l '"layers"' {} + | head -n 1)
layer=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["layers"][0]["digest"][7:])' "$manifest")
blob=$NOOK_ROOT/blobs/sha256/$layer
chmod u+w "$blob"
python3 - "$blob" <<'PY'
import os, sys
p = sys.argv[1]
n = os.path.getsize(p)
with open(p, "r+b") as f:
    f.seek(n // 2)
    b = f.read(1)
    f.seek(n // 2)
    f.write(bytes([b[0] ^ 0x55]))
PY
nrun save -o "$T_SCRATCH/out.tar" busybox
check_eq "save of an image whose layer blob is corrupt exits 1" 1 "$RC"
check_match "... saying what is corrupt" "sha256:[0-9a-f]{64} in the store is corrupt|corrupt compressed stream" "$ERR"
check "... and writes no archive" test ! -e "$T_SCRATCH/out.tar"
# the gzip header's time changed: the same content, but not the blob the store names
export NOOK_ROOT=$T_SCRATCH/store2
check_status "a second store" 0 bootstrap busybox
blob=$NOOK_ROOT/blobs/sha256/$layer
chmod u+w "$blob"
python3 - "$blob" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(4)
    f.write(bytes([1, 2, 3, 4]))
PY
# A save relies on the digests checked when the blob came in and on the gzip CRC-32 and
# size (the content is intact here: the archive is right, as Docker's and podman's saves,
# which check nothing); `system check` is what names the blob.
nrun save -o "$T_SCRATCH/out2.tar" busybox
check_eq "save of a layer blob that differs from its digest (same content) exits 0" 0 "$RC"
diff_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["rootfs"]["diff_ids"][0])' \
  "$NOOK_ROOT/blobs/sha256/$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config"]["digest"][7:])' "$manifest")")
got=$(python3 - "$T_SCRATCH/out2.tar" <<'PY'
import hashlib, json, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    man = json.load(t.extractfile("manifest.json"))
    print("sha256:" + hashlib.sha256(t.extractfile(man[0]["Layers"][0]).read()).hexdigest())
PY
)
check_eq "... its layer in the archive has the image's diff ID" "$diff_id" "$got"
nrun system check
check_match "system check names the blob" "sha256:$layer" "$OUT$ERR"

done_testing
