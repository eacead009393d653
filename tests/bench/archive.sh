#!/usr/bin/env bash
# tests/bench/archive.sh BUILD_DIR: `save` and `load` of a generated ~100 MB image (5 gzip
# layers of host files, an oci-archive) against podman (overlay), alternating the tools
# round by round; medians in ms.  A benchmark, not a test.  As root it runs as BENCH_USER
# (default nook-sub).  Knobs: BENCH_ROUNDS (default 5), BENCH_MB (default 100).
set -euo pipefail
O=$(cd "${1:-build}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
rounds=${BENCH_ROUNDS:-5}
command -v python3 >/dev/null || { echo "archive bench: python3 not installed, skipped"; exit 0; }
# shellcheck source=tests/bench/common.sh
. "$HERE/common.sh"
if [ "$(id -u)" = 0 ]; then
  bench_stage "$HERE/archive.sh"
  bench_as "${BENCH_USER:-nook-sub}" BENCH_ROUNDS="$rounds" BENCH_MB="${BENCH_MB:-100}" \
    bash "$BENCH_STAGE/archive.sh" "$BENCH_STAGE/bin"
  exit
fi
nook=$O/nook
work=$(mktemp -d "${TMPDIR:-/tmp}/nook-abench-w.XXXXXX")
cleanup() { bench_remove "$work" "${prun:-}"; }
trap cleanup EXIT

python3 - "$work/image.tar" "${BENCH_MB:-100}" <<'EOF'
import gzip, hashlib, io, json, os, sys, tarfile
out, mb = sys.argv[1], int(sys.argv[2])
files, seen = [], set()
for root in ("/usr/lib/x86_64-linux-gnu", "/usr/share", "/usr/bin", "/usr/lib"):
    for dp, dn, fn in os.walk(root):
        for f in sorted(fn):
            p = os.path.join(dp, f)
            if os.path.isfile(p) and not os.path.islink(p) and p not in seen:
                seen.add(p); files.append(p)
budget, chosen = mb << 20, []
for p in files:
    s = os.path.getsize(p)
    if s > (8 << 20): continue
    chosen.append(p); budget -= s
    if budget <= 0: break
blobs, layers, diffs = {}, [], []
for i in range(5):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        for p in chosen[i::5]:
            ti = t.gettarinfo(p, arcname=p.lstrip("/"))
            ti.uid = ti.gid = 0; ti.uname = ti.gname = ""
            with open(p, "rb") as f: t.addfile(ti, f)
    data = raw.getvalue()
    diffs.append("sha256:" + hashlib.sha256(data).hexdigest())
    z = gzip.compress(data, 6, mtime=0)
    d = "sha256:" + hashlib.sha256(z).hexdigest(); blobs[d] = z
    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": len(z)})
def add(data):
    d = "sha256:" + hashlib.sha256(data).hexdigest(); blobs[d] = data; return d, len(data)
cd, cn = add(json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/sh"]},
                         "rootfs": {"type": "layers", "diff_ids": diffs}}).encode())
md, mn = add(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                         "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cn},
                         "layers": layers}).encode())
index = json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": md, "size": mn, "annotations": {"io.containerd.image.name": "docker.io/library/bench:1",
                    "org.opencontainers.image.ref.name": "1"}}]}).encode()
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
    def put(name, data):
        ti = tarfile.TarInfo(name); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
    put("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
    for d, data in blobs.items(): put("blobs/sha256/" + d[7:], data)
    put("index.json", index)
print(f"archive bench image: {len(chosen)} files, {sum(l['size'] for l in layers) / 1e6:.1f} MB compressed, "
      f"{sum(os.path.getsize(p) for p in chosen) / 1e6:.1f} MB of files")
EOF

podman=()
if command -v podman >/dev/null; then
  bench_podman_init "$work/podman"
  podman=("${P[@]}")
fi
ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; return 1; }; e=$(date +%s%N); echo $(((e - s) / 1000000)); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for f in nl ns pl ps load; do : >"$work/$f"; done
for r in $(seq "$rounds"); do
  export NOOK_ROOT=$work/nook-$r
  cut -d' ' -f1 /proc/loadavg >>"$work/load"
  ms "$nook" load -i "$work/image.tar" >>"$work/nl"
  ms "$nook" save -o "$work/nook-save.tar" bench:1 >>"$work/ns"
  rm -f "$work/nook-save.tar"
  if [ ${#podman[@]} -gt 0 ]; then
    "${podman[@]}" rmi -a -f >/dev/null 2>&1 || true
    ms "${podman[@]}" load -i "$work/image.tar" >>"$work/pl"
    ms "${podman[@]}" save -o "$work/podman-save.tar" docker.io/library/bench:1 >>"$work/ps"
    rm -f "$work/podman-save.tar"
  fi
  # old stores aside: this disk slows file creation after mass deletions
  mv "$NOOK_ROOT" "$work/old-$r"
done
nl=$(median <"$work/nl") ns=$(median <"$work/ns")
echo "archive bench ($rounds rounds, medians; load average $(sort -n "$work/load" | head -n 1)-$(sort -n "$work/load" | tail -n 1), median $(median <"$work/load")): nook load ${nl} ms, nook save ${ns} ms (docker-archive)"
if [ -s "$work/pl" ]; then
  pl=$(median <"$work/pl") ps=$(median <"$work/ps")
  echo "  podman load ${pl} ms, podman save ${ps} ms; nook/podman: load $(awk -v a="$nl" -v b="$pl" 'BEGIN{printf "%.2f", a/b}'), save $(awk -v a="$ns" -v b="$ps" 'BEGIN{printf "%.2f", a/b}') (target <= 0.5)"
fi
