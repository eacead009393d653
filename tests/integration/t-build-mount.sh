#!/usr/bin/env bash
# t-build-mount.sh: RUN --mount=type=cache|bind|tmpfs|secret, RUN --network, `build
# --secret`: a cache mount kept across builds, a secret in no layer and no history, a
# bind from a stage and from the context, mount points left out of the layers, clear
# refusals (ssh, --security=insecure, a required secret not given).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

# entries IMAGE: every path of every layer above the base
entries() {
  "$NOOK" save -o "$T_SCRATCH/img.tar" "$1"
  python3 - "$T_SCRATCH/img.tar" <<'PY'
import io, json, sys, tarfile
a = tarfile.open(sys.argv[1])
manifest = json.load(a.extractfile("manifest.json"))[0]
for layer in manifest["Layers"][1:]:
    for m in tarfile.open(fileobj=io.BytesIO(a.extractfile(layer).read())):
        print(m.name)
PY
}

c=$T_SCRATCH/mnt
mkdir -p "$c/sub"
echo from-context >"$c/sub/in.txt"
echo ignored >"$c/sub/secret.log"
printf 'sub/*.log\n' >"$c/.dockerignore"
# the secret: a value no file of the context or the Dockerfile holds
secret="tok-$RANDOM$RANDOM-value"
printf '%s' "$secret" >"$T_SCRATCH/secret.txt"

# ---- a cache mount: what one build writes, the next one sees ----
cat >"$c/Dockerfile" <<'EOF2'
FROM busybox
RUN --mount=type=cache,target=/var/cache/thing,id=thing sh -c 'echo "seen=$(cat /var/cache/thing/runs 2>/dev/null | wc -l)"; echo run >> /var/cache/thing/runs'
EOF2
nrun build --progress=plain -t cache1 "$c"
check_eq "a build with a cache mount" 0 "$RC"
check_match "the first build finds the cache empty" "${NL}#[0-9]+ [0-9.]+ seen=0${NL}" "$ERR"
nrun build --no-cache --progress=plain -t cache1 "$c"
check_match "the next build sees what the first wrote" "${NL}#[0-9]+ [0-9.]+ seen=1${NL}" "$ERR"
check_no_match "the cache's target is in no layer" "var/cache" "$(entries cache1)"

# uid=, gid=, mode= of a new cache directory; a user's files in it (emulated without a range)
cat >"$c/Dockerfile" <<'EOF2'
FROM busybox
RUN --mount=type=cache,target=/c,id=owned,uid=1000,gid=1000,mode=0700,sharing=locked sh -c 'echo "cache=$(stat -c "%u:%g %a" /c)"; su user -c "touch /c/by-user" && echo "made=$(stat -c "%u:%g" /c/by-user)"'
EOF2
nrun build --progress=plain "$c"
check_eq "a cache mount with uid=, gid=, mode=, sharing=locked" 0 "$RC"
check_match "its directory has them" "cache=1000:1000 700" "$ERR"
check_match "su's user writes in it" "made=1000:1000" "$ERR"

# ---- a secret: in the step, in no layer, no history, no key ----
cat >"$c/Dockerfile" <<'EOF2'
FROM busybox
RUN --mount=type=secret,id=tok sh -c 'echo "len=$(wc -c < /run/secrets/tok) mode=$(stat -c %a /run/secrets/tok)"; wc -c < /run/secrets/tok > /got'
RUN --mount=type=secret,id=tok,env=TOKEN,required=true sh -c 'echo "env-len=${#TOKEN}"'
RUN --mount=type=secret,id=tok,target=/etc/tok.conf sh -c 'echo "at-target=$(wc -c < /etc/tok.conf)"'
EOF2
nrun build --progress=plain --secret "id=tok,src=$T_SCRATCH/secret.txt" -t sec "$c"
check_eq "a build with a secret" 0 "$RC"
check_match "the secret is at /run/secrets/tok, mode 400" "len=${#secret} mode=400" "$ERR"
check_match "and as a variable with env=" "env-len=${#secret}" "$ERR"
check_match "and at a target" "at-target=${#secret}" "$ERR"
"$NOOK" save -o "$T_SCRATCH/sec.tar" sec
n=$(python3 - "$T_SCRATCH/sec.tar" "$secret" <<'PY'
import gzip, io, sys, tarfile
a = tarfile.open(sys.argv[1])
n = 0
for m in a:
    if m.isfile():
        data = a.extractfile(m).read()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        n += data.count(sys.argv[2].encode())
print(n)
PY
)
check_eq "the secret is in no layer, config or manifest of the saved image" \
  1 "$([ "$n" = 0 ] && echo 1 || echo "found $n times")"
got=$(entries sec)
check_match "the step's own files are in its layer" "(^|$NL)got($NL|$)" "$got"
check_no_match "/run/secrets (the mount point) is in no layer" "run/secrets" "$got"
check_no_match "nor the target's mount point" "etc/tok.conf" "$got"
nrun history --no-trunc sec
check_no_match "the secret is not in the history" "$secret" "$OUT"
check_match "the history shows the command" "cat|wc -c" "$OUT"
nrun build --progress=plain -t sec "$c"
check_eq "a required secret not given: the build fails" 1 "$RC"
check_match "naming the secret" "secret tok" "$ERR"
printf '%s' "other-value" >"$T_SCRATCH/secret2.txt"
nrun build --progress=plain --secret "id=tok,src=$T_SCRATCH/secret2.txt" -t sec "$c"
check_match "another secret value hits the cache (not in the key)" "#[0-9]+ CACHED" "$ERR"
nrun build --progress=plain --secret "id=tok,src=$T_SCRATCH/nope" -t sec "$c"
check_eq "a missing --secret file: exit 125" 125 "$RC"
check_match "naming it" "nope" "$ERR"
nrun build --secret "src=" "$c"
check_eq "a bad --secret: exit 125" 125 "$RC"

# ---- bind from a stage and from the context; tmpfs; network ----
cat >"$c/Dockerfile" <<'EOF2'
FROM busybox AS helper
RUN mkdir /out && echo from-stage > /out/h.txt
FROM busybox
RUN --mount=type=bind,from=helper,source=/out,target=/mnt cat /mnt/h.txt > /copied
RUN --mount=type=bind,source=sub,target=/ctx sh -c 'cat /ctx/in.txt > /copied2; ls /ctx > /listed; touch /ctx/x 2>/dev/null || echo read-only'
RUN --mount=type=tmpfs,target=/scratch sh -c 'grep -c " /scratch tmpfs" /proc/mounts; echo x > /scratch/y'
RUN --network=none sh -c 'ls /sys/class/net | tr "\n" " "; echo'
EOF2
nrun build --progress=plain -t binds "$c"
check_eq "a build with binds, tmpfs, --network=none" 0 "$RC"
check_match "a bind is read-only" "read-only" "$ERR"
check_match "tmpfs mounted" "${NL}#[0-9]+ [0-9.]+ 1${NL}" "$ERR"
check_match "--network=none: only lo" "${NL}#[0-9]+ [0-9.]+ lo ${NL}" "$ERR"
nrun run --rm binds cat /copied /copied2 /listed
check_eq "bind from a stage and from the context (.dockerignore honoured)" \
  "from-stage${NL}from-context${NL}in.txt" "$OUT"
got=$(entries binds)
check_eq "the layers hold the steps' files, no mount point" "copied${NL}copied2${NL}listed" "$got"
echo changed >"$c/sub/in.txt"
nrun build --progress=plain -t binds "$c"
nrun run --rm binds cat /copied2
check_eq "a changed bound file misses the cache" changed "$OUT"

# ---- refusals ----
printf 'FROM busybox\nRUN --mount=type=ssh true\n' >"$c/Dockerfile"
nrun build "$c"
check_eq "ssh mounts: refused (exit 1)" 1 "$RC"
check_match "clearly" "type=ssh is not supported" "$ERR"
printf 'FROM busybox\nRUN --security=insecure true\n' >"$c/Dockerfile"
nrun build "$c"
check_eq "--security=insecure: refused" 1 "$RC"
printf 'FROM busybox\nRUN --mount=type=bogus,target=/x true\n' >"$c/Dockerfile"
nrun build "$c"
check_eq "a bad mount type: refused" 1 "$RC"
check_match "naming the line" "Dockerfile:2" "$ERR"

done_testing
