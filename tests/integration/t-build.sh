#!/usr/bin/env bash
# t-build.sh: `nook build`: instructions, the image config and history, output, errors.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

# icfg IMAGE PYEXPR: a value of `image inspect`'s object (c = its Config), as JSON.
icfg() {
  nrun image inspect "$1"
  python3 -c 'import json,sys; i=json.load(sys.stdin)[0]; c=i["Config"]; print(json.dumps(eval(sys.argv[1]), sort_keys=True, separators=(",", ":")))' "$2" <<<"$OUT"
}
# hist IMAGE: the CreatedBy|Size lines of `history`
hist() {
  nrun history --no-trunc --format json "$1"
  python3 -c 'import json,sys
for l in sys.stdin:
  l=l.strip()
  if l: r=json.loads(l); print(r["CreatedBy"]+"|"+r["Size"])' <<<"$OUT"
}

# ctx NAME: a fresh context directory; the Dockerfile comes on stdin.
ctx() {
  local d=$T_SCRATCH/$1
  mkdir -p "$d"
  cat >"$d/Dockerfile"
  echo "$d"
}

# ---- a small build, its output and its image ----
c=$(ctx basic <<'EOF'
FROM busybox
ENV GREETING=hello DIR=/app
WORKDIR $DIR
COPY msg.txt .
RUN echo "$GREETING from $(pwd)" > out.txt
CMD ["cat", "/app/out.txt"]
EOF
)
echo message >"$c/msg.txt"
nrun build -t basic "$c"
check_eq "build exits 0" 0 "$RC"
check_match "plain progress: numbered steps" '#[0-9]+ \[2/4\] WORKDIR \$DIR' "$ERR"
check_match "plain progress: the image ID" 'writing image sha256:[0-9a-f]{64} done' "$ERR"
check_match "plain progress: the name" 'naming to docker.io/library/basic:latest done' "$ERR"
nrun run --rm basic
check_eq "RUN saw ENV and WORKDIR; CMD runs it" "hello from /app" "$OUT"
nrun run --rm basic cat /app/msg.txt
check_eq "COPY into the WORKDIR" message "$OUT"
check_eq "config: WorkingDir, Env; created is the epoch (no git, no SOURCE_DATE_EPOCH)" \
  '["/app",["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","GREETING=hello","DIR=/app"],"1970-01-01T00:00:00Z"]' \
  "$(icfg basic '[c["WorkingDir"], c["Env"], i["Created"]]')"
h=$(hist basic)
check_match "history: RUN as BuildKit writes it" 'RUN /bin/sh -c echo "\$GREETING from \$\(pwd\)" > out.txt # buildkit\|[1-9]' "$h"
check_match "history: ENV as an empty layer" 'ENV GREETING=hello DIR=/app\|0B' "$h"

nrun build -q "$c"
check_match "-q prints only the image ID" '^sha256:[0-9a-f]{64}$' "$OUT"
check_eq "-q: no progress" "" "$ERR"
nrun build -q --iidfile "$T_SCRATCH/iid" -t basic:two "$c"
check_eq "--iidfile holds the same ID" "$OUT" "$(cat "$T_SCRATCH/iid")"
nrun image build -q "$c"
check_match "nook image build" '^sha256:[0-9a-f]{64}$' "$OUT"
nrun buildx build -q "$c"
check_match "nook buildx build" '^sha256:[0-9a-f]{64}$' "$OUT"
nrun build -q -t multi:a -t multi:b "$c"
id=$OUT
check_eq "-t twice names both" "\"$id\"" "$(icfg multi:b 'i["Id"]')"

# ---- metadata instructions ----
c=$(ctx meta <<'EOF'
FROM busybox
LABEL org.example.a="one two" b=3
EXPOSE 8080 53/udp
VOLUME /data
USER 1000:1000
STOPSIGNAL SIGINT
HEALTHCHECK --interval=5s --retries=2 CMD true
MAINTAINER someone
SHELL ["/bin/sh", "-ec"]
ONBUILD RUN echo onbuild-ran > /tmp/onbuild.txt
CMD echo shell form
EOF
)
nrun build -q --label extra=yes -t meta "$c"
check_eq "metadata build" 0 "$RC"
check_eq "labels (and --label), ports, volumes, user, stop signal" \
  '[{"b":"3","extra":"yes","org.example.a":"one two"},{"53/udp":{},"8080/tcp":{}},{"/data":{}},"1000:1000","SIGINT"]' \
  "$(icfg meta '[c["Labels"], c["ExposedPorts"], c["Volumes"], c["User"], c["StopSignal"]]')"
check_eq "CMD in shell form through SHELL; ONBUILD recorded; MAINTAINER" \
  '[["/bin/sh","-ec","echo shell form"],["RUN echo onbuild-ran > /tmp/onbuild.txt"],"someone"]' \
  "$(icfg meta '[c["Cmd"], c.get("OnBuild"), i["Author"]]')"
check_eq "HEALTHCHECK" '{"Interval":5000000000,"Retries":2,"Test":["CMD-SHELL","true"]}' \
  "$(icfg meta 'c["Healthcheck"]')"

# ONBUILD triggers run when the image is a base
c=$(ctx onbuild <<'EOF'
FROM meta
RUN cat /tmp/onbuild.txt > /tmp/seen.txt
EOF
)
nrun build -q -t child "$c"
nrun run --rm child cat /tmp/seen.txt
check_eq "ONBUILD trigger ran in the child build, before its own steps" 'onbuild-ran' "$OUT"
check_eq "the child's config has no ONBUILD" 'null' "$(icfg child 'c.get("OnBuild")')"

# ---- ENTRYPOINT and CMD, every combination, built then run ----
combo() { # combo NAME RUNARGS EXPECTED LINES...
  local name=$1 args=$2 want=$3
  shift 3
  local d=$T_SCRATCH/combo-$name
  mkdir -p "$d"
  printf '%s\n' "FROM busybox" "$@" >"$d/Dockerfile"
  nrun build -q -t "combo-$name" "$d"
  if [ "$RC" != 0 ]; then
    fail "ENTRYPOINT/CMD $name: build" "$ERR"
    return
  fi
  # shellcheck disable=SC2086 # args are words
  nrun run --rm "combo-$name" $args
  check_eq "ENTRYPOINT/CMD $name" "$want" "$OUT"
}
combo cmd-exec "" "a b" 'CMD ["echo", "a", "b"]'
combo cmd-shell "" "c" 'CMD echo c'
combo ep-exec "" "x" 'ENTRYPOINT ["echo", "x"]'
combo ep-exec-cmd "" "x y" 'ENTRYPOINT ["echo", "x"]' 'CMD ["y"]'
combo ep-exec-cmd-args "z" "x z" 'ENTRYPOINT ["echo", "x"]' 'CMD ["y"]'
combo ep-shell "ignored" "s" 'ENTRYPOINT echo s' 'CMD ["y"]'
combo ep-exec-cmd-shell "" "x /bin/sh -c y" 'ENTRYPOINT ["echo", "x"]' 'CMD y'
combo cmd-args-replace "echo r" "r" 'CMD ["echo", "c"]'
combo ep-keeps-own-cmd "" "e echo c" 'CMD ["echo", "c"]' 'ENTRYPOINT ["echo", "e"]'
c=$(ctx ep-base <<'EOF'
FROM combo-cmd-exec
ENTRYPOINT ["echo", "e"]
EOF
)
nrun build -q -t combo-ep-base "$c"
nrun run --rm combo-ep-base
check_eq "ENTRYPOINT resets the CMD of the base" "e" "$OUT"

# ---- RUN: shell and exec form, ARG and USER in its environment ----
c=$(ctx runenv <<'EOF'
FROM busybox
ARG V=default
ARG EMPTY
RUN ["/bin/sh", "-c", "echo exec-form $V > /exec.txt"]
USER 1000
RUN id -u > /tmp/uid.txt
USER 0
RUN env > /env.txt
EOF
)
nrun build -q --build-arg V=given -t runenv "$c"
check_eq "build with --build-arg" 0 "$RC"
nrun run --rm runenv cat /exec.txt
check_eq "exec-form RUN sees the ARG given" "exec-form given" "$OUT"
nrun run --rm runenv cat /tmp/uid.txt
check_eq "USER applies to RUN" 1000 "$OUT"
nrun run --rm runenv cat /env.txt
check_match "RUN's environment has the ARG" '(^|'"$NL"')V=given('"$NL"'|$)' "$OUT"
check_no_match "an ARG without a value is not set" '(^|'"$NL"')EMPTY=' "$OUT"
check_no_match "ARG values are not in the image's Env" 'given' "$(icfg runenv 'c["Env"]')"
check_match "history of a RUN with build args (BuildKit's |N form)" 'RUN \|1 V=given /bin/sh -c id -u > /tmp/uid.txt # buildkit' "$(hist runenv)"

# ---- files: whiteouts, --chown/--chmod, ADD of a tar, directory rules ----
c=$(ctx files <<'EOF'
FROM busybox
COPY gone.txt keep.txt /files/
COPY --chmod=0640 mode.txt /files/mode.txt
COPY --chown=1234:4321 owned.txt /files/
COPY dir /copied
COPY dir/sub/deep.txt /single-file
ADD arch.tar.gz /unpacked/
RUN rm /files/gone.txt && rm -rf /copied/sub
EOF
)
echo gone >"$c/gone.txt"
echo keep >"$c/keep.txt"
echo mode >"$c/mode.txt"
echo own >"$c/owned.txt"
mkdir -p "$c/dir/sub" "$T_SCRATCH/arch/inner"
echo top >"$c/dir/top.txt"
echo deep >"$c/dir/sub/deep.txt"
echo archived >"$T_SCRATCH/arch/inner/a.txt"
tar -C "$T_SCRATCH/arch" -czf "$c/arch.tar.gz" inner
nrun build -q -t files "$c"
check_eq "files build" 0 "$RC"
nrun run --rm files sh -c 'ls /files; ls /copied; cat /single-file; cat /unpacked/inner/a.txt'
check_eq "RUN rm is a whiteout; COPY dir copies its contents; a file to a file; ADD extracts" \
  "keep.txt${NL}mode.txt${NL}owned.txt${NL}top.txt${NL}deep${NL}archived" "$OUT"
nrun run --rm files stat -c '%a' /files/mode.txt
check_eq "--chmod" 640 "$OUT"
if [ "$NOOK_TEST_USER_KIND" != single ]; then
  nrun run --rm files stat -c '%u:%g' /files/owned.txt /files/keep.txt
  check_eq "--chown (and root by default)" "1234:4321${NL}0:0" "$OUT"
fi
# what the layers record, for both kinds of user (a user without a range cannot chown:
# nook records the owner beside the file and writes it into the layer)
"$NOOK" save -o "$T_SCRATCH/files.tar" files
owners=$(python3 - "$T_SCRATCH/files.tar" <<'PY'
import io, json, sys, tarfile
a = tarfile.open(sys.argv[1])
manifest = json.load(a.extractfile("manifest.json"))[0]
seen = {}
for layer in manifest["Layers"]:
    for m in tarfile.open(fileobj=io.BytesIO(a.extractfile(layer).read())):
        seen[m.name] = "%d:%d:%o" % (m.uid, m.gid, m.mode)
print(seen.get("files/owned.txt"), seen.get("files/keep.txt"), seen.get("files/mode.txt"))
PY
)
check_eq "the layers record --chown and --chmod" "1234:4321:644 0:0:644 0:0:640" "$owners"

# a directory removed and made again in a later step: opaque, nothing of the old one shows
c=$(ctx opaque <<'EOF'
FROM busybox
RUN mkdir -p /d/sub && echo a > /d/a && echo b > /d/sub/b
RUN rm -rf /d && mkdir /d && echo only > /d/only
EOF
)
nrun build -q -t opaque "$c"
nrun run --rm opaque ls -R /d
check_eq "an opaque directory hides the layers below" "/d:${NL}only" "$OUT"

# ---- failures ----
mkdir -p "$NOOK_ROOT"
c=$(ctx failing <<'EOF'
FROM busybox
RUN echo before
RUN echo about to fail; exit 3
RUN echo never
EOF
)
nrun images -q
before=$OUT
nrun build -t shouldnotexist "$c"
check_eq "a failing RUN: build exits 1" 1 "$RC"
check_match "the error names the command and the exit code" 'process "/bin/sh -c echo about to fail; exit 3" did not complete successfully: exit code: 3' "$ERR"
check_match "the step is shown" '\[3/4\] RUN echo about to fail; exit 3' "$ERR"
check_match "its output is shown" '#[0-9]+ [0-9.]+ about to fail' "$ERR"
check_no_match "later steps never run" 'never' "$ERR"
nrun image inspect shouldnotexist
check_eq "nothing is tagged" 1 "$RC"
nrun images -q
check_eq "no image was added" "$before" "$OUT"
left=$(find "$NOOK_ROOT/build" -mindepth 1 -maxdepth 1 ! -name empty)
check_eq "no upper dir is left behind" "" "$left"
nrun build -q "$c"
check_match "-q: a failing step's output is still shown" 'about to fail' "$ERR"

# Ctrl-C (SIGINT to nook build): the running step's container ends, nothing is left
c=$(ctx interrupted <<'EOF'
FROM busybox
RUN echo started; sleep 60; echo never
EOF
)
"$NOOK" build --no-cache -t interrupted "$c" >"$T_SCRATCH/int.out" 2>&1 &
bpid=$!
if wait_until "the interrupted step started" 30 grep -qsE '#[0-9]+ [0-9.]+ started' "$T_SCRATCH/int.out"; then
  kill -INT "$bpid"
  brc=0
  wait "$bpid" || brc=$?
  check_eq "SIGINT: build exits 130" 130 "$brc"
  check_no_match "SIGINT: the step did not go on" '#[0-9]+ [0-9.]+ never' "$(cat "$T_SCRATCH/int.out")"
  nrun image inspect interrupted
  check_eq "SIGINT: nothing is tagged" 1 "$RC"
  left=$(find "$NOOK_ROOT/build" -mindepth 1 -maxdepth 1 ! -name empty)
  check_eq "SIGINT: no upper dir is left behind" "" "$left"
else
  kill -KILL "$bpid" 2>/dev/null
  wait "$bpid" 2>/dev/null
fi

# --network for RUN
c=$(ctx network <<'EOF'
FROM busybox
RUN ls /sys/class/net | sort | tr '\n' ' ' > /ifaces
EOF
)
nrun build -q --network none -t net-none "$c"
nrun run --rm net-none cat /ifaces
check_eq "--network none: RUN sees only lo" "lo " "$OUT"
nrun build -q -t net-default "$c"
nrun run --rm net-default cat /ifaces
check_eq "default network: RUN has eth0" "eth0 lo " "$OUT"
nrun build -q --network bogus "$c"
check_eq "--network of another kind: 125" 125 "$RC"
printf 'FROM busybox\nRUN --network=none ls /sys/class/net | sort | tr "\\n" " " > /ifaces\n' >"$c/Dockerfile"
nrun build -q -t net-step "$c"
nrun run --rm net-step cat /ifaces
check_eq "RUN --network=none for one step" "lo " "$OUT"
printf 'FROM busybox\nRUN --mount=type=ssh true\n' >"$c/Dockerfile"
nrun build -q "$c"
check_match "RUN --mount=type=ssh: refused clearly (the others: t-build-mount.sh)" \
  'Dockerfile:2: RUN --mount=type=ssh is not supported' "$ERR"

# COPY --exclude; --parents refused clearly
c=$(ctx exclude <<'EOF'
FROM busybox
COPY --exclude=*.tmp --exclude=skip dir /d
COPY --exclude=*.tmp a.tmp b.txt /f/
EOF
)
mkdir -p "$c/dir/skip" "$c/dir/keep"
touch "$c/dir/x.tmp" "$c/dir/keep/y.txt" "$c/dir/skip/z.txt" "$c/a.tmp" "$c/b.txt"
nrun build -q -t exclude "$c"
nrun run --rm exclude find /d /f
check_eq "COPY --exclude" "/d${NL}/d/keep${NL}/d/keep/y.txt${NL}/f${NL}/f/b.txt" "$(sort <<<"$OUT")"
printf 'FROM busybox\nCOPY --parents dir/keep/y.txt /p/\n' >"$c/Dockerfile"
nrun build -q -t parents "$c"
nrun run --rm parents find /p
check_eq "COPY --parents keeps the path (more: t-build-parents.sh)" \
  "/p${NL}/p/dir${NL}/p/dir/keep${NL}/p/dir/keep/y.txt" "$(sort <<<"$OUT")"

nrun images -q
before=$OUT
c=$(ctx bad <<'EOF'
FROM busybox
RUN echo ok
FROBNICATE now
EOF
)
nrun build "$c"
check_eq "unknown instruction: exit 1" 1 "$RC"
check_match "unknown instruction: file:line" 'Dockerfile:3: unknown instruction: (FROBNICATE|frobnicate)' "$ERR"
printf 'FROM busybox\nRUN ["unterminated\n' >"$c/Dockerfile"
nrun build "$c"
check_eq "a syntax error exits 1" 1 "$RC"
printf 'RUN true\n' >"$c/Dockerfile"
nrun build "$c"
check_eq "no FROM: exit 1" 1 "$RC"
check_match "no FROM: says so" 'FROM' "$ERR"
nrun build "$T_SCRATCH/no-such-dir"
check_eq "a missing context: exit 1" 1 "$RC"
nrun build --bogus "$c"
check_eq "an unknown flag: 125" 125 "$RC"
nrun images -q
check_eq "the store is unchanged by bad Dockerfiles" "$before" "$OUT"

done_testing
