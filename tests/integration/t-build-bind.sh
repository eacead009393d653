#!/usr/bin/env bash
# t-build-bind.sh: RUN --mount=type=bind (issue 17) binds its source itself, read-only,
# without copying it: a fifo of the context is the host's own (a writer on the host reaches
# the step's reader), the mount's root is the context's or the stage layer's directory, not
# a copy in the step's directory; a source with a .dockerignore'd file, and rw, still give
# BuildKit's view (the excluded file absent; writes allowed and discarded).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
setup_image

ctx=$T_SCRATCH/ctx
mkdir -p "$ctx/d/sub" "$ctx/ign"
echo in >"$ctx/d/in.txt"
echo deep >"$ctx/d/sub/deep.txt"
echo secret >"$ctx/ign/hidden"
echo shown >"$ctx/ign/shown"
printf 'ign/hidden\n' >"$ctx/.dockerignore"
mkfifo "$ctx/d/fifo"
cat >"$ctx/Dockerfile" <<'DF'
FROM busybox AS st
RUN echo one >/one
RUN mkdir -p /data && echo layer >/data/f
FROM busybox
RUN --mount=type=bind,source=d,target=/ctx sh -c 'timeout 60 cat /ctx/fifo >/got; cat /ctx/in.txt /ctx/sub/deep.txt >/copied; touch /ctx/x 2>/dev/null || echo read-only >/ro; grep " /ctx " /proc/self/mountinfo | cut -d" " -f4 >/ctxroot'
RUN --mount=type=bind,from=st,source=/data,target=/d sh -c 'cat /d/f >/fromst; grep " /d " /proc/self/mountinfo | cut -d" " -f4 >/stroot'
RUN --mount=type=bind,source=ign,target=/i sh -c 'ls /i >/ign'
RUN --mount=type=bind,source=d/in.txt,target=/etc/f.txt sh -c 'cat /etc/f.txt >/file; grep " /etc/f.txt " /proc/self/mountinfo | cut -d" " -f4 >/fileroot'
RUN --mount=type=bind,source=d,target=/w,rw sh -c 'echo w >/w/in.txt && cat /w/in.txt >/rw'
DF
# the writer: it blocks until the step's reader opens the fifo (or fails after 60 s)
(timeout 60 sh -c "echo from-the-host >'$ctx/d/fifo'"; echo $? >"$T_SCRATCH/writer.rc") &
writer=$!
nrun build -q -t bind "$ctx"
check_eq "the build succeeds" 0 "$RC"
wait "$writer"
check_eq "the host's writer reached the step's reader" 0 "$(cat "$T_SCRATCH/writer.rc")"
nrun run --rm bind sh -c 'cat /got /copied /ro /fromst /ign /rw /file; test -e /etc/f.txt || echo no-stub'
check_eq "the step saw the host's fifo, the files, read-only; the stage's; no ignored file; rw; a file" \
  "from-the-host${NL}in${NL}deep${NL}read-only${NL}layer${NL}shown${NL}w${NL}in${NL}no-stub" "$OUT"
nrun run --rm bind sh -c 'cat /ctxroot /stroot /fileroot'
check_no_match "the binds are no copies in the step's directory" "/upper/m/x" "$OUT"
check_match "a file source is bound itself" "/ctx/d/in.txt$" "$OUT"
check_match "the context's directory is bound" "/ctx/d${NL}" "$OUT"
check "the context is unchanged after rw" test "$(cat "$ctx/d/in.txt")" = in
done_testing
