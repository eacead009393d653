#!/usr/bin/env bash
# t-build-stages.sh: multi-stage builds (--target, unneeded stages never run, COPY --from
# a stage and an image, ARG before FROM), .dockerignore, and Dockerfiles from stdin.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/netlib.sh
. "$(dirname "$0")/netlib.sh"
setup_image

c=$T_SCRATCH/stages
mkdir -p "$c"
cat >"$c/Dockerfile" <<'EOF'
ARG BASE=busybox
ARG GREETING=hi
FROM $BASE AS build
ARG GREETING
RUN mkdir -p /out && echo "$GREETING built" > /out/result.txt

FROM busybox AS broken
RUN echo the broken stage ran; exit 7

FROM build AS test
RUN echo tested > /out/tested.txt

FROM scratch AS final
COPY --from=build /out/result.txt /result.txt
COPY --from=busybox /bin/busybox /bin/busybox
COPY --from=0 /out /outdir
CMD ["/bin/busybox", "cat", "/result.txt"]
EOF

nrun build -t final-img "$c"
check_eq "multi-stage build (an unneeded failing stage)" 0 "$RC"
check_no_match "a stage the target does not need never runs" 'the broken stage ran' "$ERR"
check_match "steps name their stage" '\[build 2/2\] RUN' "$ERR"
nrun run --rm final-img
check_eq "COPY --from a stage; ARG before FROM re-declared in the stage" "hi built" "$OUT"
nrun run --rm final-img /bin/busybox ls /outdir
check_eq "COPY --from a stage index copies a directory's contents" "result.txt" "$OUT"
nrun run --rm final-img /bin/busybox ls /
check_eq "FROM scratch: only what was copied" "bin${NL}outdir${NL}result.txt" \
  "$(grep -Ev '^(dev|etc|proc|sys)$' <<<"$OUT")"

nrun build -q --target test -t test-img --build-arg GREETING=hello "$c"
check_eq "--target test" 0 "$RC"
nrun run --rm test-img cat /out/tested.txt /out/result.txt
check_eq "--target builds the stage and what it needs; a meta ARG by --build-arg" \
  "tested${NL}hello built" "$OUT"
nrun build -q --target broken "$c"
check_eq "--target of the failing stage fails" 1 "$RC"
nrun build -q --target nosuch "$c"
check_eq "--target of an unknown stage: exit 1" 1 "$RC"
check_match "--target of an unknown stage: says so" 'nosuch' "$ERR"
nrun build -q --platform "linux/$(uname -m | sed 's/x86_64/amd64/; s/aarch64/arm64/')" --target build "$c"
check_eq "--platform of this machine is accepted" 0 "$RC"

p=$T_SCRATCH/platform
mkdir -p "$p"
printf 'FROM --platform=$BUILDPLATFORM busybox AS b\nARG TARGETARCH\nRUN echo "$TARGETARCH" > /arch\n' >"$p/Dockerfile"
nrun build -q -t plat "$p"
check_eq "FROM --platform=\$BUILDPLATFORM" 0 "$RC"
nrun run --rm plat cat /arch
check_match "TARGETARCH declared in the stage" '^(amd64|arm64|386|arm|ppc64le|s390x|riscv64)$' "$OUT"
printf 'FROM --platform=linux/nosuch busybox\n' >"$p/Dockerfile"
nrun build -q "$p"
check_eq "FROM --platform of another machine: exit 1" 1 "$RC"
check_match "FROM --platform of another machine: says so" "only this machine's platform" "$ERR"

# ---- .dockerignore ----
i=$T_SCRATCH/ignore
mkdir -p "$i/logs" "$i/src"
cat >"$i/Dockerfile" <<'EOF'
FROM busybox
COPY . /ctx
RUN find /ctx | sort > /list.txt
EOF
printf '*.log\nlogs\n!logs/keep.log\nsecret.txt\n' >"$i/.dockerignore"
echo a >"$i/src/a.txt"
echo b >"$i/b.log"
echo c >"$i/logs/c.log"
echo k >"$i/logs/keep.log"
echo s >"$i/secret.txt"
nrun build -q -t ign "$i"
nrun run --rm ign cat /list.txt
check_eq ".dockerignore with an exception" \
  "/ctx${NL}/ctx/.dockerignore${NL}/ctx/Dockerfile${NL}/ctx/logs${NL}/ctx/logs/keep.log${NL}/ctx/src${NL}/ctx/src/a.txt" \
  "$OUT"
# what is excluded is never read: an unreadable excluded file does not fail the build
chmod 000 "$i/secret.txt"
nrun build -q "$i"
check_eq "an unreadable excluded file is never opened" 0 "$RC"
chmod 644 "$i/secret.txt"
cat >"$i/Dockerfile.only" <<'EOF'
FROM busybox
COPY secret.txt /s
EOF
nrun build -q -f "$i/Dockerfile.only" "$i"
check_eq "COPY of an excluded file fails" 1 "$RC"
check_match "COPY of an excluded file: not found" 'not found' "$ERR"
# NAME.dockerignore beside a -f Dockerfile wins over the context's
mkdir -p "$T_SCRATCH/dfdir"
cat >"$T_SCRATCH/dfdir/app.Dockerfile" <<'EOF'
FROM busybox
COPY . /ctx
RUN ls /ctx | sort > /list.txt
EOF
printf 'src\nlogs\n' >"$T_SCRATCH/dfdir/app.Dockerfile.dockerignore"
nrun build -q -t ign2 -f "$T_SCRATCH/dfdir/app.Dockerfile" "$i"
nrun run --rm ign2 cat /list.txt
check_eq "NAME.dockerignore beside -f is used instead" \
  "Dockerfile${NL}Dockerfile.only${NL}b.log${NL}secret.txt" "$OUT"

# ---- --build-context ----
bc=$T_SCRATCH/bctx
mkdir -p "$bc/main" "$bc/shared/lib"
echo from-shared >"$bc/shared/lib/x.txt"
printf 'FROM base\nCOPY --from=shared lib /lib2\nCOPY --from=img /bin/busybox /bb\n' >"$bc/main/Dockerfile"
nrun build -q -t bctx --build-context shared="$bc/shared" --build-context base=docker-image://busybox \
  --build-context img=docker-image://busybox "$bc/main"
check_eq "--build-context NAME=DIR and NAME=docker-image://REF" 0 "$RC"
nrun run --rm bctx sh -c 'cat /lib2/x.txt; test -x /bb && echo bb'
check_eq "--build-context: COPY --from a named directory and FROM a named image" "from-shared${NL}bb" "$OUT"
echo changed >"$bc/shared/lib/x.txt"
nrun build -q -t bctx --build-context shared="$bc/shared" --build-context base=docker-image://busybox \
  --build-context img=docker-image://busybox "$bc/main"
nrun run --rm bctx cat /lib2/x.txt
check_eq "--build-context: a changed file there misses the cache" changed "$OUT"

# ---- links in the context never lead out of it ----
l=$T_SCRATCH/links
mkdir -p "$l/real"
echo inside >"$l/real/f"
ln -s /etc "$l/etc-link"
ln -s real "$l/rel-link"
printf 'FROM busybox\nCOPY etc-link/passwd /leak\n' >"$l/Dockerfile"
nrun build -q "$l"
check_eq "COPY through a link to /etc: not found in the context" 1 "$RC"
check_match "COPY through a link to /etc: says so" 'not found' "$ERR"
printf 'FROM busybox\nCOPY etc-link rel-link /links/\nCOPY rel-link/f /viarel\n' >"$l/Dockerfile"
nrun build -q -t links "$l"
nrun run --rm links sh -c 'readlink /links/etc-link; readlink /links/rel-link; cat /viarel'
check_eq "links are copied as links; a relative one inside the context is followed" \
  "/etc${NL}real${NL}inside" "$OUT"

# ... nor do links in a stage's layers: COPY --from through a link to / stays in the image
printf 'FROM busybox AS a\nRUN ln -s / /escape\nFROM busybox\nCOPY --from=a /escape/etc/passwd /x\n' >"$l/Dockerfile"
nrun build -q -t escape "$l"
if [ "$RC" = 0 ]; then
  nrun run --rm escape cat /x
  check_no_match "COPY --from through a link to /: never the host's file" "$(id -un)" "$OUT"
else
  check_no_match "COPY --from through a link to /: never the host's file" "$(id -un)" "$ERR"
fi

# ---- stdin ----
NRUN_STDIN=$T_SCRATCH/stdin.df
printf 'FROM busybox\nRUN echo from-stdin > /s.txt\nCMD ["cat", "/s.txt"]\n' >"$NRUN_STDIN"
nrun build -q -t stdin-img -
check_eq "build - < Dockerfile" 0 "$RC"
nrun run --rm stdin-img
check_eq "build -: the image runs" from-stdin "$OUT"
NRUN_STDIN=$T_SCRATCH/stdin2.df
printf 'FROM busybox\nCOPY src/a.txt /a.txt\nCMD ["cat", "/a.txt"]\n' >"$NRUN_STDIN"
nrun build -q -t stdin-ctx -f- "$i"
check_eq "build -f- CONTEXT" 0 "$RC"
nrun run --rm stdin-ctx
check_eq "build -f-: the context is used" a "$OUT"
nrun build -q -t nocontext -
check_eq "build - with COPY: no context" 1 "$RC"
check_match "build - with COPY: says there is no context" 'no build context' "$ERR"
printf 'FROM busybox\nCOPY src /src\nRUN ls /src > /list\nCMD ["cat", "/list"]\n' >"$T_SCRATCH/tardf"
cp "$T_SCRATCH/tardf" "$T_SCRATCH/Dockerfile"
tar -C "$T_SCRATCH" -rf "$T_SCRATCH/ctx.tar" Dockerfile
tar -C "$i" -rf "$T_SCRATCH/ctx.tar" src
gzip -c "$T_SCRATCH/ctx.tar" >"$T_SCRATCH/ctx2.tgz"
NRUN_STDIN=$T_SCRATCH/ctx2.tgz
nrun build -q -t tar-ctx -
check_eq "build - < context.tar.gz" 0 "$RC"
nrun run --rm tar-ctx
check_eq "build - < context.tar.gz: its Dockerfile and files" a.txt "$OUT"
check_eq "the unpacked context is removed" "" "$(find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'nook-build-ctx.*' 2>/dev/null)"
unset NRUN_STDIN

# ---- flags passed to RUN ----
f=$T_SCRATCH/flags
mkdir -p "$f"
printf 'FROM busybox\nRUN grep myhost /etc/hosts > /hosts; ulimit -n > /nofile\n' >"$f/Dockerfile"
nrun build -q --add-host myhost:10.1.2.3 --ulimit nofile=512:512 -t flags "$f"
nrun run --rm flags cat /hosts /nofile
check_match "--add-host and --ulimit reach RUN" "10.1.2.3[[:space:]]+myhost${NL}512" "$OUT"
nrun build -q --cache-from type=registry,ref=x "$f"
check_eq "--cache-from is refused clearly" 1 "$RC"
check_match "--cache-from: says why" 'cache-from' "$ERR"

# ---- here-documents: RUN <<EOF, RUN cmd <<-"X", COPY <<EOF ----
h=$T_SCRATCH/heredoc
mkdir -p "$h"
printf '%s\n' 'FROM busybox' 'ARG WHO=world' 'RUN <<EOF' 'echo a > /a.txt' 'echo "b $WHO" >> /a.txt' 'EOF' \
  'RUN cat <<-"X" > /f' "$(printf '\thi $HOME')" "$(printf '\tX')" \
  'COPY <<EOF /g' 'v=$WHO "q"' 'EOF' 'COPY <<A <<B /d/' '1' 'A' '2' 'B' >"$h/Dockerfile"
nrun build -q -t heredoc "$h"
check_eq "here-documents build" 0 "$RC"
nrun run --rm heredoc sh -c 'cat /a.txt /f /g; ls /d; cat /d/A /d/B'
check_eq "RUN <<EOF runs the body; a quoted one is not expanded; COPY <<EOF writes files" \
  "a${NL}b world${NL}hi \$HOME${NL}v=world \"q\"${NL}A${NL}B${NL}1${NL}2" "$OUT"

# ---- -o: the files, not an image ----
nrun images -q
before=$OUT
nrun build -q -o "type=tar,dest=$T_SCRATCH/out.tar" "$h"
check_eq "-o type=tar" 0 "$RC"
check_match "-o type=tar: the image's files" '(^|'"$NL"')d/A('"$NL"'|$)' "$(tar -tf "$T_SCRATCH/out.tar")"
nrun build -q -o "$T_SCRATCH/outdir" "$h"
check_eq "-o DIR" 0 "$RC"
check_eq "-o DIR: the files, readable" "v=world \"q\"" "$(cat "$T_SCRATCH/outdir/g")"
nrun build -q -o "type=local,dest=$T_SCRATCH/outdir2" "$h"
check_eq "-o type=local,dest=DIR" "1" "$(cat "$T_SCRATCH/outdir2/d/A")"
nrun images -q
check_eq "-o adds no image" "$before" "$OUT"

# ---- ADD of a URL (a server on the host's loopback), --checksum ----
srv=$T_SCRATCH/srv
mkdir -p "$srv/files"
echo downloaded >"$srv/files/data.txt"
HP=$(free_port tcp)
python3 -m http.server "$HP" --bind 127.0.0.1 --directory "$srv" >/dev/null 2>&1 &
hpid=$!
url_ok() { python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1" 2>/dev/null; }
if wait_until "the test's HTTP server is up" 60 url_ok "http://127.0.0.1:$HP/files/data.txt"; then
  sum=$(sha256sum "$srv/files/data.txt" | cut -d' ' -f1)
  a=$T_SCRATCH/addurl
  mkdir -p "$a"
  printf 'FROM busybox\nADD http://127.0.0.1:%s/files/data.txt /dl/\nADD --checksum=sha256:%s http://127.0.0.1:%s/files/data.txt /named.txt\n' \
    "$HP" "$sum" "$HP" >"$a/Dockerfile"
  nrun build -q -t addurl "$a"
  check_eq "ADD URL" 0 "$RC"
  nrun run --rm addurl sh -c 'cat /dl/data.txt /named.txt; stat -c %a /named.txt'
  check_eq "ADD URL: into a directory by its name, to a file; mode 600" "downloaded${NL}downloaded${NL}600" "$OUT"
  printf 'FROM busybox\nADD --checksum=sha256:%064d http://127.0.0.1:%s/files/data.txt /x\n' 0 "$HP" >"$a/Dockerfile"
  nrun build -q "$a"
  check_eq "ADD --checksum that does not match: exit 1" 1 "$RC"
  check_match "ADD --checksum that does not match: says so" 'checksum' "$ERR"
  printf 'FROM busybox\nADD http://127.0.0.1:%s/files/missing.txt /x\n' "$HP" >"$a/Dockerfile"
  nrun build -q "$a"
  check_match "ADD of a missing URL: the HTTP status" 'HTTP status 404' "$ERR"
fi
kill "$hpid" 2>/dev/null
wait "$hpid" 2>/dev/null

# ---- the course's flow: build a web app, then run -p serves what was built ----
web=$T_SCRATCH/webapp
mkdir -p "$web"
cat >"$web/Dockerfile" <<'EOF'
FROM busybox
WORKDIR /app
COPY index.html .
EXPOSE 3000
CMD ["httpd", "-f", "-p", "3000", "-h", "/app"]
EOF
echo built-and-served >"$web/index.html"
nrun build -q -t webapp "$web"
P=$(free_port tcp)
nrun run -d --name "webapp-$$" -p "$P:3000" webapp
http_get() {
  python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode().strip())' "$1" 2>/dev/null
}
http_ok() { http_get "$1" >/dev/null; }
if wait_until "run -p of the built image answers" 30 http_ok "http://127.0.0.1:$P/"; then
  check_eq "run -p serves what was built" built-and-served "$(http_get "http://127.0.0.1:$P/")"
fi
nrun rm -f "webapp-$$"

done_testing
