#!/usr/bin/env python3
"""tests/integration/registry_helper.py: helpers of t-registry.sh (python3 only, no packages).

  port START                 print the first port >= START (below the ephemeral range) that
                             binds on 127.0.0.1 now
  wait PORT SECONDS          poll GET http://127.0.0.1:PORT/v2/ until it answers (any status);
                             exit 1 when SECONDS pass
  token-proxy PORT UPSTREAM USER PASSWORD READYFILE
                             a registry front that wants bearer tokens: GET /token with basic
                             auth USER:PASSWORD issues one (anything else: 401); /v2/... with a
                             token it issued is forwarded to 127.0.0.1:UPSTREAM, without one it
                             answers 401 with a Bearer challenge naming the scope.  READYFILE is
                             written once it listens.
  put-index PORT REPO TAG MANIFEST_DIGEST SIZE MEDIA_TYPE
                             PUT an OCI index at REPO:TAG with linux/amd64 and linux/arm64/v8
                             entries, both naming the given manifest
  push-image PORT REPO TAG FORGED
                             PUT a one-layer image (a gzip tar of a few files, a Docker schema 2
                             manifest with no annotations) at REPO:TAG; with FORGED=1 its
                             config's diff_id is not the layer's.  Prints the layer's
                             uncompressed size.
"""
import base64
import gzip
import hashlib
import io
import tarfile
import http.client
import http.server
import json
import os
import re
import secrets
import socket
import sys
import time
import urllib.request


def port(start):
    for p in range(int(start), 32000):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            continue
        finally:
            s.close()
        print(p)
        return 0
    return 1


def wait(p, seconds):
    end = time.monotonic() + float(seconds)
    while time.monotonic() < end:
        try:
            c = http.client.HTTPConnection("127.0.0.1", int(p), timeout=2)
            c.request("GET", "/v2/")
            c.getresponse().read()
            return 0
        except OSError:
            time.sleep(0.05)
    return 1


def token_proxy(listen, upstream, user, password, ready):
    issued = set()
    want = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def reply(self, status, body=b"", headers=()):
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def challenge(self):
            m = re.match(r"^/v2/(.+?)/(manifests|blobs|tags)/", self.path)
            scope = ""
            if m:
                action = "pull" if self.command in ("GET", "HEAD") else "pull,push"
                scope = f',scope="repository:{m.group(1)}:{action}"'
            realm = f"http://127.0.0.1:{listen}/token"
            body = json.dumps({"errors": [{"code": "UNAUTHORIZED",
                                           "message": "authentication required"}]}).encode()
            self.reply(401, body, [("WWW-Authenticate",
                                    f'Bearer realm="{realm}",service="nook-test"{scope}'),
                                   ("Content-Type", "application/json")])

        def handle_any(self):
            if self.path.startswith("/token"):
                if self.headers.get("Authorization") != want:
                    self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}')
                    return
                t = secrets.token_hex(16)
                issued.add(t)
                self.reply(200, json.dumps({"token": t, "expires_in": 300}).encode(),
                           [("Content-Type", "application/json")])
                return
            a = self.headers.get("Authorization", "")
            if not a.startswith("Bearer ") or a[7:] not in issued:
                n = int(self.headers.get("Content-Length") or 0)
                if n:
                    self.rfile.read(n)
                self.challenge()
                return
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else None
            up = http.client.HTTPConnection("127.0.0.1", int(upstream), timeout=60)
            hdrs = {k: v for k, v in self.headers.items() if k.lower() != "authorization"}
            up.request(self.command, self.path, body=body, headers=hdrs)
            r = up.getresponse()
            data = r.read()
            self.send_response(r.status)
            for k, v in r.getheaders():
                if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(k, v)
            cl = r.getheader("Content-Length")
            self.send_header("Content-Length", cl if self.command == "HEAD" and cl else str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            up.close()

        do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = handle_any

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", int(listen)), H)
    srv.daemon_threads = True
    with open(ready + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(ready + ".tmp", ready)
    srv.serve_forever()


def put_index(p, repo, tag, digest, size, media_type):
    idx = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": media_type, "digest": digest, "size": int(size),
             "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
            {"mediaType": media_type, "digest": digest, "size": int(size),
             "platform": {"os": "linux", "architecture": "amd64"}},
        ],
    }
    data = json.dumps(idx).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{p}/v2/{repo}/manifests/{tag}", data=data,
                                 method="PUT",
                                 headers={"Content-Type": "application/vnd.oci.image.index.v1+json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return 0 if r.status == 201 else 1


def _put_blob(p, repo, data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    req = urllib.request.Request(f"http://127.0.0.1:{p}/v2/{repo}/blobs/uploads/", data=b"",
                                 method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        loc = r.headers["Location"]
    if loc.startswith("/"):
        loc = f"http://127.0.0.1:{p}{loc}"
    sep = "&" if "?" in loc else "?"
    req = urllib.request.Request(f"{loc}{sep}digest={d}", data=data, method="PUT",
                                 headers={"Content-Type": "application/octet-stream"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 201
    return d


def push_image(p, repo, tag, forged):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, text in (("etc/", None), ("etc/hello", b"hello\n" * 5000),
                           ("etc/data", bytes(range(256)) * 400)):
            ti = tarfile.TarInfo(name.rstrip("/"))
            ti.mtime = 1700000000
            if text is None:
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                t.addfile(ti)
            else:
                ti.size, ti.mode = len(text), 0o644
                t.addfile(ti, io.BytesIO(text))
    plain = raw.getvalue()
    diff = "sha256:" + hashlib.sha256(plain if forged != "1" else plain + b"x").hexdigest()
    layer = gzip.compress(plain, 6, mtime=0)
    ld = _put_blob(p, repo, layer)
    cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/sh"]},
                      "rootfs": {"type": "layers", "diff_ids": [diff]}}).encode()
    cd = _put_blob(p, repo, cfg)
    man = json.dumps({"schemaVersion": 2,
                      "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                      "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                                 "digest": cd, "size": len(cfg)},
                      "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                                  "digest": ld, "size": len(layer)}]}).encode()
    req = urllib.request.Request(
        f"http://127.0.0.1:{p}/v2/{repo}/manifests/{tag}", data=man, method="PUT",
        headers={"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 201
    print(len(plain))
    return 0


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "port":
        return port(*args)
    if cmd == "wait":
        return wait(*args)
    if cmd == "token-proxy":
        return token_proxy(*args)
    if cmd == "put-index":
        return put_index(*args)
    if cmd == "push-image":
        return push_image(*args)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
