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

done_testing
