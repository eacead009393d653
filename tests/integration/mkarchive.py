#!/usr/bin/env python3
"""tests/integration/mkarchive.py KIND OUT [SRC]: image archives for nook's load tests.

Docker-archives with one hand-made layer (KIND good, dotdot, absolute, symlink-out,
hardlink-out, diffid, gzip-layer; docker25: the layout Docker >= 25 writes, blobs under
blobs/sha256 beside index.json, the layer reached through a legacy <id>/layer.tar symlink),
or a copy of the oci-archive SRC with one defect
(oci-digest: a blob's content changed under its name; oci-size: a descriptor's size off
by one; oci-missing: a layer blob left out)."""
import gzip
import hashlib
import io
import json
import sys
import tarfile


def tar_bytes(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, typ, arg in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime = 0
            if typ == "f":
                ti.size = len(arg)
                ti.mode = 0o644
                t.addfile(ti, io.BytesIO(arg))
                continue
            if typ == "d":
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
            elif typ == "l":
                ti.type, ti.linkname = tarfile.SYMTYPE, arg
            elif typ == "h":
                ti.type, ti.linkname = tarfile.LNKTYPE, arg
            t.addfile(ti)
    return buf.getvalue()


LAYERS = {
    "good": [("etc", "d", None), ("etc/hello", "f", b"hello\n"), ("etc/up", "l", "../etc/hello"),
             ("etc/abs", "l", "/etc/hello"), ("etc/hard", "h", "etc/hello")],
    "dotdot": [("etc", "d", None), ("etc/../../evil", "f", b"x")],
    "absolute": [("/etc/evil", "f", b"x")],
    "symlink-out": [("etc", "d", None), ("etc/esc", "l", "../../evil")],
    "hardlink-out": [("etc", "d", None), ("etc/hard", "h", "../evil")],
}


def docker_archive(kind, out):
    layer = tar_bytes(LAYERS.get(kind, LAYERS["good"]))
    diff = "sha256:" + hashlib.sha256(layer).hexdigest()
    if kind == "gzip-layer":
        layer = gzip.compress(layer, mtime=0)
    if kind == "diffid":
        diff = "sha256:" + "0" * 64
    cfg = json.dumps({"architecture": "amd64", "os": "linux", "created": "2020-01-01T00:00:00Z",
                      "config": {"Cmd": ["sh"]},
                      "rootfs": {"type": "layers", "diff_ids": [diff]},
                      "history": [{"created": "2020-01-01T00:00:00Z", "created_by": "mkarchive"}]},
                     separators=(",", ":")).encode()
    chex = hashlib.sha256(cfg).hexdigest()
    manifest = json.dumps([{"Config": chex + ".json", "RepoTags": ["mk/" + kind + ":1"],
                            "Layers": ["l1/layer.tar"]}]).encode()
    if kind == "docker25":
        lhex = hashlib.sha256(layer).hexdigest()
        om = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                         "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                    "digest": "sha256:" + chex, "size": len(cfg)},
                         "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                                     "digest": "sha256:" + lhex, "size": len(layer)}]}).encode()
        mhex = hashlib.sha256(om).hexdigest()
        index = json.dumps({"schemaVersion": 2, "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + mhex,
             "size": len(om), "annotations": {"io.containerd.image.name": "docker.io/mk/docker25:1",
                                              "org.opencontainers.image.ref.name": "1"}}]}).encode()
        manifest = json.dumps([{"Config": "blobs/sha256/" + chex, "RepoTags": ["mk/docker25:1"],
                                "Layers": ["l1/layer.tar"]}]).encode()
        entries = [("blobs", "d", None), ("blobs/sha256", "d", None),
                   ("blobs/sha256/" + lhex, "f", layer), ("blobs/sha256/" + chex, "f", cfg),
                   ("blobs/sha256/" + mhex, "f", om), ("l1", "d", None),
                   ("l1/layer.tar", "l", "../blobs/sha256/" + lhex), ("index.json", "f", index),
                   ("manifest.json", "f", manifest), ("oci-layout", "f", b'{"imageLayoutVersion":"1.0.0"}')]
        with open(out, "wb") as f:
            f.write(tar_bytes(entries))
        return
    with open(out, "wb") as f:
        f.write(tar_bytes([("l1", "d", None), ("l1/layer.tar", "f", layer),
                           (chex + ".json", "f", cfg), ("manifest.json", "f", manifest)]))


def oci_defect(kind, src, out):
    with tarfile.open(src) as t:
        members = [(m, t.extractfile(m).read() if m.isfile() else None) for m in t.getmembers()]
    files = {m.name: data for m, data in members}
    index = json.loads(files["index.json"])
    mdesc = index["manifests"][0]
    mpath = "blobs/sha256/" + mdesc["digest"][7:]
    manifest = json.loads(files[mpath])
    entries = []
    for m, data in members:
        if m.isdir():
            entries.append((m.name, "d", None))
            continue
        if kind == "oci-digest" and m.name == mpath:
            data = data + b" "
        if kind == "oci-size" and m.name == "index.json":
            index["manifests"][0]["size"] += 1
            data = json.dumps(index).encode()
        if kind == "oci-missing" and m.name == "blobs/sha256/" + manifest["layers"][0]["digest"][7:]:
            continue
        entries.append((m.name, "f", data))
    with open(out, "wb") as f:
        f.write(tar_bytes(entries))


if __name__ == "__main__":
    kind, out = sys.argv[1], sys.argv[2]
    if kind.startswith("oci-"):
        oci_defect(kind, sys.argv[3], out)
    else:
        docker_archive(kind, out)
