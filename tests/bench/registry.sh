#!/usr/bin/env bash
# tests/bench/registry.sh BUILD_DIR: pull and push of a generated ~100 MB image (5 layers
# of host files) against podman on the same loopback docker-registry, alternating the
# tools round by round; medians in ms.  A benchmark, not a test.  As root it runs as
# BENCH_USER (default nook-sub).  Knobs: BENCH_ROUNDS (default 5), BENCH_MB (default 100).
set -euo pipefail
O=$(cd "${1:-build}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
rounds=${BENCH_ROUNDS:-5}
for t in docker-registry skopeo python3; do
  command -v "$t" >/dev/null || { echo "registry bench: $t not installed, skipped"; exit 0; }
done
# shellcheck source=tests/bench/common.sh
. "$HERE/common.sh"
if [ "$(id -u)" = 0 ]; then
  bench_stage "$HERE/registry.sh" "$HERE/../integration/registry_helper.py"
  bench_as "${BENCH_USER:-nook-sub}" BENCH_ROUNDS="$rounds" BENCH_MB="${BENCH_MB:-100}" \
    BENCH_HELPER="$BENCH_STAGE/registry_helper.py" BENCH_TRACE="${BENCH_TRACE:-}" \
    bash "$BENCH_STAGE/registry.sh" "$BENCH_STAGE/bin"
  exit
fi
helper=${BENCH_HELPER:-$HERE/../integration/registry_helper.py}
nook=$O/nook
work=$(mktemp -d "${TMPDIR:-/tmp}/nook-rbench-w.XXXXXX")
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  bench_remove "$work" "${prun:-}"
}
trap cleanup EXIT

start_registry() { # NAME OFFSET -> REG_PORT (not in $(...): the PID must reach pids)
  local d=$work/$1 p
  mkdir -p "$d/data"
  p=$(python3 "$helper" port $((21000 + ($(id -u) % 100) * 20 + ${2:-0})))
  printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n  secret: b\n' \
    "$d/data" "$p" >"$d/config.yml"
  env -u REGISTRY_AUTH_FILE docker-registry serve "$d/config.yml" >"$d/log" 2>&1 &
  pids+=("$!")
  python3 "$helper" wait "$p" 20 || { echo "registry $1 did not start"; cat "$d/log"; exit 1; }
  REG_PORT=$p
}

# The image: 5 gzip layers of host files, about BENCH_MB MB uncompressed, an OCI layout.
python3 - "$work/oci" "${BENCH_MB:-100}" <<'EOF'
import gzip, hashlib, io, json, os, sys, tarfile
out, mb = sys.argv[1], int(sys.argv[2])
os.makedirs(out + "/blobs/sha256")
def blob(data):
    d = hashlib.sha256(data).hexdigest()
    open(f"{out}/blobs/sha256/{d}", "wb").write(data)
    return "sha256:" + d, len(data)
files = []
for root in ("/usr/lib/x86_64-linux-gnu", "/usr/share", "/usr/bin", "/usr/lib"):
    for dp, dn, fn in os.walk(root):
        for f in sorted(fn):
            p = os.path.join(dp, f)
            if os.path.isfile(p) and not os.path.islink(p):
                files.append(p)
budget, chosen, seen = mb << 20, [], set()
for p in files:
    if p in seen: continue
    s = os.path.getsize(p)
    if s > (8 << 20): continue
    seen.add(p); chosen.append(p); budget -= s
    if budget <= 0: break
layers, diffs = [], []
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
    d, n = blob(z)
    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": n})
cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/sh"]},
                  "rootfs": {"type": "layers", "diff_ids": diffs}}).encode()
cd, cn = blob(cfg)
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cn},
                  "layers": layers}).encode()
md, mn = blob(man)
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
           "digest": md, "size": mn, "annotations": {"org.opencontainers.image.ref.name": "bench"}}]},
          open(out + "/index.json", "w"))
open(out + "/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
print(f"image: {len(chosen)} files, {sum(l['size'] for l in layers) / 1e6:.1f} MB compressed")
EOF
start_registry src 0
P1=$REG_PORT
start_registry dst 5
P2=$REG_PORT
skopeo copy -q --dest-tls-verify=false "oci:$work/oci:bench" "docker://127.0.0.1:$P1/bench:1"

podman=()
if command -v podman >/dev/null; then
  bench_podman_init "$work/podman"
  podman=("${P[@]}")
fi
ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; return 1; }; e=$(date +%s%N); echo $(((e - s) / 1000000)); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for f in np nP pp pP; do : >"$work/$f"; done
if [ -n "${BENCH_TRACE:-}" ]; then
  # where a pull's time goes (NOOK_TRACE marks of cmd/registry.c)
  NOOK_ROOT=$work/trace NOOK_TRACE=1 "$nook" pull -q "127.0.0.1:$P1/bench:1" 2>&1 | grep -v '^127'
  mv "$work/trace" "$work/trace-old"
fi
# every push goes to an empty registry: the destination's storage is emptied before it
empty_dst() { rm -rf "$work/dst/data/docker"; }
for r in $(seq "$rounds"); do
  export NOOK_ROOT=$work/nook-$r
  ms "$nook" pull "127.0.0.1:$P1/bench:1" >>"$work/np"
  empty_dst
  ms "$nook" push "127.0.0.1:$P1/bench:1" "127.0.0.1:$P2/nook$r:1" >>"$work/nP"
  if [ ${#podman[@]} -gt 0 ]; then
    "${podman[@]}" rmi -a -f >/dev/null 2>&1 || true
    ms "${podman[@]}" pull --tls-verify=false "127.0.0.1:$P1/bench:1" >>"$work/pp"
    empty_dst
    ms "${podman[@]}" push --tls-verify=false "127.0.0.1:$P1/bench:1" "127.0.0.1:$P2/podman$r:1" >>"$work/pP"
  fi
  # old stores aside: this disk slows file creation after mass deletions
  mv "$NOOK_ROOT" "$work/old-$r"
done
np=$(median <"$work/np") nP=$(median <"$work/nP")
echo "registry bench ($rounds rounds, medians): nook pull ${np} ms, nook push ${nP} ms"
if [ -s "$work/pp" ]; then
  pp=$(median <"$work/pp") pP=$(median <"$work/pP")
  echo "  podman pull ${pp} ms, podman push ${pP} ms; nook/podman: pull $(awk -v a="$np" -v b="$pp" 'BEGIN{printf "%.2f", a/b}'), push $(awk -v a="$nP" -v b="$pP" 'BEGIN{printf "%.2f", a/b}') (target <= 0.5)"
fi
