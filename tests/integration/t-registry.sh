#!/usr/bin/env bash
# t-registry.sh: pull, push, login/logout, mirrors and run's auto-pull against Debian's
# docker-registry, started here on 127.0.0.1 (ports found free by binding, servers polled
# until they answer, ended by PID), plain, behind basic auth (htpasswd -B) and behind a
# bearer-token front (registry_helper.py token-proxy).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# shellcheck source=tests/integration/reglib.sh
. "$(dirname "$0")/reglib.sh"
reg_setup plain htpasswd openssl

# ---- push ----
nrun images -q --no-trunc busybox
ID=$OUT
nrun push busybox "$R/lab/base:1.0"
check_eq "push to a loopback registry (plain HTTP) exits 0" 0 "$RC"
check_match "push names the repository and reports the layer pushed" \
  "The push refers to repository \[$R/lab/base\].*: Pushed.*1.0: digest: sha256:[0-9a-f]{64} size: [0-9]+" \
  "$(tr '\n' ' ' <<<"$OUT")"
nrun push busybox "$R/lab/base:1.0"
check_match "a second push sends no layer (existence check)" "Layer already exists" "$OUT"
check_no_match "... and uploads nothing" "Pushed" "$OUT"
nrun push busybox "$R/other/copy:2"
check_match "a push to another repository mounts the layer" "Mounted from lab/base" "$OUT"
nrun push busybox "$R/lab/oci:1" --format oci
check_eq "push --format oci exits 0" 0 "$RC"

# ---- pull into an empty store, run ----
in_store a nrun pull "$R/lab/base:1.0"
check_eq "pull into an empty store exits 0" 0 "$RC"
check_match "pull prints the digest, status and reference" \
  "Digest: sha256:[0-9a-f]{64}.*Status: Downloaded newer image for $R/lab/base:1.0.*$R/lab/base:1.0" \
  "$(tr '\n' ' ' <<<"$OUT")"
in_store a nrun images -q --no-trunc "$R/lab/base:1.0"
check_eq "the pulled image keeps its ID" "$ID" "$OUT"
in_store a nrun run --rm "$R/lab/base:1.0" echo pulled-runs
check_eq "the pulled image runs" "pulled-runs" "$OUT"
in_store a nrun pull "$R/lab/base:1.0"
check_match "pulling it again: up to date" "Image is up to date" "$OUT"
in_store a nrun pull -q "$R/lab/oci:1"
check_eq "pull -q of an OCI manifest prints only the reference" "$R/lab/oci:1" "$OUT"
in_store a nrun image pull -q "$R/lab/base:1.0"
check_eq "nook image pull is pull" "$R/lab/base:1.0" "$OUT"
in_store a nrun push "$R/lab/base:1.0" "$R/lab/again:1"
check_match "a pulled image pushes back without uploading (mount, same blobs)" \
  "Mounted from|Layer already exists" "$OUT"

# ---- an index: platform selection ----
read -r MTYPE MSIZE MDIG < <(python3 - "$T_SCRATCH/store-a" "$R/lab/base:1.0" <<'EOF'
import json, os, sys
root, ref = sys.argv[1], sys.argv[2]
idx = json.load(open(os.path.join(root, "index.json")))
for m in idx["manifests"]:
    if m.get("annotations", {}).get("org.opencontainers.image.ref.name", "").endswith("lab/base:1.0"):
        print(m["mediaType"], m["size"], m["digest"])
EOF
)
nrun push busybox "$R/lab/multi:base"
helper put-index "$REG_PORT" lab/multi 1 "$MDIG" "$MSIZE" "$MTYPE"
check_eq "an index is pushed to the registry (helper)" 0 "$?"
in_store b nrun pull "$R/lab/multi:1"
check_eq "pull of an index picks this machine's platform" 0 "$RC"
in_store b nrun pull --platform linux/s390x "$R/lab/multi:1"
check_eq "pull --platform with no match exits 1" 1 "$RC"
check_match "... saying which platform and what there is" \
  "no matching manifest for linux/s390x.*available: linux/arm64, linux/amd64" "$ERR"

# ---- errors ----
in_store c nrun pull "$R/lab/nothere:1"
check_eq "pull of an unknown tag exits 1" 1 "$RC"
check_match "... naming the registry, the meaning and the HTTP status" \
  "$R: manifest lab/nothere:1: manifest unknown \(HTTP 404" "$ERR"
DEAD=$(free_port)
start=$SECONDS
in_store c nrun pull "127.0.0.1:$DEAD/x:1"
check_eq "pull from an unreachable registry exits 1" 1 "$RC"
check_match "... saying it cannot be reached" "127.0.0.1:$DEAD: cannot reach the registry" "$ERR"
in_store c nrun run --rm "127.0.0.1:$DEAD/x:1" true
check_eq "run of an image of an unreachable registry exits 125" 125 "$RC"
check_match "... after saying it was not found locally" "Unable to find image '127.0.0.1:$DEAD/x:1' locally" "$ERR"
[ $((SECONDS - start)) -lt 20 ] || diag "note: the unreachable registry took $((SECONDS - start)) s"
in_store c nrun run --pull never --rm "$R/lab/base:1.0" true
check_eq "run --pull never of an absent image exits 125" 125 "$RC"
check_match "... and says so" "Unable to find image '$R/lab/base:1.0' locally, and --pull never" "$ERR"
in_store c nrun run --rm "$R/lab/base:1.0" echo auto
check_eq "run of an absent image pulls it first and runs it" "auto" "$OUT"
check_match "... saying so on stderr, as Docker" "Unable to find image '$R/lab/base:1.0' locally" "$ERR"
in_store c nrun run --pull bogus --rm "$R/lab/base:1.0" true
check_eq "run --pull with a bad policy exits 125" 125 "$RC"

# ---- mirrors ----
mkdir -p "$XDG_CONFIG_HOME/nook"
nrun push busybox "$R/library/node:14"
printf '{"registry-mirrors": ["http://127.0.0.1:%s", "http://%s"]}\n' "$DEAD" "$R" \
  >"$XDG_CONFIG_HOME/nook/config.json"
in_store d nrun run --rm node:14 echo from-mirror
check_eq "run node:14 comes from docker.io's mirror (after a dead one)" "from-mirror" "$OUT"
in_store d nrun images
check_match "... and is listed as node 14" "node +14 " "$OUT"
nrun info
check_match "info shows the mirror and the file it came from" \
  "docker.io: http://$R \(from $XDG_CONFIG_HOME/nook/config.json\)" "$OUT"
D1=$(free_port) D2=$(free_port) D3=$(free_port)
printf '{"mirrors": {"127.0.0.1:%s": ["http://127.0.0.1:%s", "http://127.0.0.1:%s"]}}\n' \
  "$D3" "$D1" "$D2" >"$XDG_CONFIG_HOME/nook/config.json"
in_store d nrun run --rm "127.0.0.1:$D3/lab/x:1" true
check_eq "all mirrors and the registry unreachable: run exits 125" 125 "$RC"
check_match "... naming every mirror tried and the registry" \
  "mirror http://127.0.0.1:$D1:.*mirror http://127.0.0.1:$D2:.*registry 127.0.0.1:$D3:" \
  "$(tr '\n' ' ' <<<"$ERR")"
printf '{"registry-mirrors": ["ftp://x"]}\n' >"$XDG_CONFIG_HOME/nook/config.json"
in_store d nrun pull "$R/lab/base:1.0"
check_match "a bad config file is an error naming it" "config.json.*registry-mirrors.*not a mirror URL" "$ERR"
rm -f "$XDG_CONFIG_HOME/nook/config.json"

# ---- a corrupted blob ----
LAYER=$(python3 - "$T_SCRATCH/store-a" "$MDIG" <<'EOF'
import json, os, sys
m = json.load(open(os.path.join(sys.argv[1], "blobs", "sha256", sys.argv[2][7:])))
print(m["layers"][0]["digest"][7:])
EOF
)
BLOB=$T_SCRATCH/plain/data/docker/registry/v2/blobs/sha256/${LAYER:0:2}/$LAYER/data
cp "$BLOB" "$T_SCRATCH/blob.orig"
python3 -c 'import sys; f=open(sys.argv[1],"r+b"); f.seek(100); b=f.read(1); f.seek(100); f.write(bytes([b[0]^0xff]))' "$BLOB"
in_store e nrun pull "$R/lab/base:1.0"
check_eq "pull of a corrupted blob exits 1" 1 "$RC"
check_match "... saying the blob is corrupt" "blob sha256:$LAYER is corrupt" "$ERR"
check_fail "... and keeps nothing of it" test -e "$T_SCRATCH/store-e/blobs/sha256/$LAYER"
in_store e nrun images -q
check_eq "... nor an image" "" "$OUT"
cp "$T_SCRATCH/blob.orig" "$BLOB"

# ---- a pull killed with SIGKILL, run again ----
if has_hooked; then
  hooks=$T_SCRATCH/hooks
  mkdir -p "$hooks"
  mkfifo "$hooks/pull-layer-stored.reached" "$hooks/pull-layer-stored.go"
  # (the hooked nook itself in the background, so that its PID is the one killed)
  NOOK_ROOT=$T_SCRATCH/store-f NOOK_TEST_HOOK_DIR=$hooks \
    "$NOOK_HOOKED" pull "$R/lab/base:1.0" >/dev/null 2>&1 </dev/null &
  ppid=$!
  SERVER_PIDS+=("$ppid")
  timeout 30 cat "$hooks/pull-layer-stored.reached" >/dev/null
  check_eq "the pull stops after storing a layer (test hook)" 0 "$?"
  kill -9 "$ppid" 2>/dev/null
  wait "$ppid" 2>/dev/null
  in_store f nrun images -q
  check_eq "a pull killed with SIGKILL added no image" "" "$OUT"
  in_store f nrun pull "$R/lab/base:1.0"
  check_eq "the pull run again completes" 0 "$RC"
  check_match "... from the layer already verified" "Already exists" "$OUT"
  bad=0
  for b in "$T_SCRATCH"/store-f/blobs/sha256/*; do
    [ "$(sha256sum <"$b" | cut -c1-64)" = "$(basename "$b")" ] || bad=$((bad + 1))
  done
  check_eq "every blob of the store matches its digest" 0 "$bad"
  in_store f nrun run --rm "$R/lab/base:1.0" echo resumed
  check_eq "... and the image runs" "resumed" "$OUT"
fi

# ---- basic auth (htpasswd -B) ----
htpasswd -Bbc "$T_SCRATCH/htpasswd" student s3cret >/dev/null 2>&1
start_registry basic "$T_SCRATCH/htpasswd" || done_testing
B=127.0.0.1:$REG_PORT
nrun push busybox "$B/lab/base:1"
check_eq "push without credentials exits 1" 1 "$RC"
check_match "... unauthorized, saying to log in" "unauthorized.*nook login $B" "$ERR"
NRUN_STDIN=/dev/null nrun login -u student -p wrong "$B"
check_eq "login with a wrong password exits 1" 1 "$RC"
check_match "... saying so" "incorrect username or password" "$ERR"
printf 's3cret\n' >"$T_SCRATCH/pw"
NRUN_STDIN=$T_SCRATCH/pw nrun login -u student --password-stdin "$B"
check_eq "login --password-stdin succeeds" "Login Succeeded" "$OUT"
check_eq "auth.json is 0600" 600 "$(stat -c %a "$REGISTRY_AUTH_FILE")"
check_match "auth.json holds the registry's entry" "\"$B\"" "$(cat "$REGISTRY_AUTH_FILE")"
nrun push busybox "$B/lab/base:1"
check_eq "push after login exits 0" 0 "$RC"
in_store g nrun pull "$B/lab/base:1"
check_eq "pull after login exits 0" 0 "$RC"
nrun logout "$B"
check_eq "logout removes the credentials" "Removing login credentials for $B" "$OUT"
in_store h nrun pull "$B/lab/base:1"
check_eq "pull after logout exits 1" 1 "$RC"
mkdir -p "$DOCKER_CONFIG"
printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$B" "$(printf student:s3cret | base64)" \
  >"$DOCKER_CONFIG/config.json"
in_store h nrun pull "$B/lab/base:1"
check_eq "Docker's config.json credentials are read" 0 "$RC"
rm -f "$DOCKER_CONFIG/config.json"
(unset REGISTRY_AUTH_FILE
  NRUN_STDIN=$T_SCRATCH/pw nrun login -u student --password-stdin "$B"
  check_eq "login without REGISTRY_AUTH_FILE writes \$XDG_CONFIG_HOME/containers/auth.json" 600 \
    "$(stat -c %a "$XDG_CONFIG_HOME/containers/auth.json" 2>&1)"
  echo "$T_N $T_FAILED" >"$T_SCRATCH/counts")
read -r T_N T_FAILED <"$T_SCRATCH/counts"

# ---- HTTPS: a CA of certs.d ----
TLSD=$T_SCRATCH/tls
mkdir -p "$TLSD"
(cd "$TLSD" && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 \
  -subj /CN=nook-test-ca && openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr \
  -subj /CN=127.0.0.1 && printf 'subjectAltName=IP:127.0.0.1\n' >ext &&
  openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 2 \
    -extfile ext) >"$T_SCRATCH/openssl.log" 2>&1
check "a CA and a server certificate are made (openssl)" test -s "$TLSD/srv.crt"
start_registry tls "" "$TLSD" || done_testing
S=127.0.0.1:$REG_PORT
nrun push --tls-verify=true busybox "$S/lab/tls:1"
check_eq "push --tls-verify=true to a registry of an unknown CA exits 1" 1 "$RC"
check_match "... naming the certificate problem" "[Cc]ertificate" "$ERR"
mkdir -p "$XDG_CONFIG_HOME/containers/certs.d/$S"
cp "$TLSD/ca.crt" "$XDG_CONFIG_HOME/containers/certs.d/$S/ca.crt"
nrun push --tls-verify=true busybox "$S/lab/tls:1"
check_eq "with the CA in certs.d/HOST/, the push verifies and succeeds" 0 "$RC"
in_store j nrun pull --tls-verify=true "$S/lab/tls:1"
check_eq "... and so does the pull" 0 "$RC"
rm -rf "$XDG_CONFIG_HOME/containers/certs.d"
in_store k nrun pull "$S/lab/tls:1"
check_eq "a loopback registry's HTTPS is not verified by default (as Docker)" 0 "$RC"

# ---- bearer tokens (a front that issues and checks its own) ----
TP=$(free_port)
python3 "$HERE/registry_helper.py" token-proxy "$TP" "${R#127.0.0.1:}" ci t0ken \
  "$T_SCRATCH/proxy.ready" 2>"$T_SCRATCH/proxy.log" &
SERVER_PIDS+=("$!")
wait_until "the token front is ready" 60 test -e "$T_SCRATCH/proxy.ready"
T=127.0.0.1:$TP
in_store i nrun pull "$T/lab/base:1.0"
check_eq "pull behind a bearer front without credentials exits 1" 1 "$RC"
check_match "... unauthorized, from the token server" "unauthorized.*nook login $T" "$ERR"
printf 't0ken\n' >"$T_SCRATCH/tok"
NRUN_STDIN=$T_SCRATCH/tok nrun login -u ci --password-stdin "$T"
check_eq "login to the bearer front (CI form)" "Login Succeeded" "$OUT"
in_store i nrun pull "$T/lab/base:1.0"
check_eq "pull with a bearer token exits 0" 0 "$RC"
nrun push busybox "$T/lab/tok:1"
check_eq "push with a bearer token exits 0" 0 "$RC"
in_store i nrun run --rm "$T/lab/base:1.0" echo bearer
check_eq "the image pulled through the token front runs" "bearer" "$OUT"

done_testing
